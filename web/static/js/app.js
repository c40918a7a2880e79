// Small enhancements; every page works without them.
(function () {
  "use strict";
  function focusErrors() {
    var summary = document.getElementById("riepilogo-errori");
    if (summary) { summary.focus(); }
  }
  document.addEventListener("DOMContentLoaded", focusErrors);
  document.addEventListener("htmx:configRequest", function (event) {
    var token = document.querySelector("input[name=csrf_token]");
    if (token) { event.detail.headers["X-CSRFToken"] = token.value; }
  });
})();
