// Conditional form fields: hide the fields that do not apply to the answers given so far.
// The server marks each with data-mostra-se = [[field name, [answers]], ...] (any answer when
// the list is empty) and explains the condition in text, so the form works without this.
(function () {
  "use strict";
  function answers(form, name) {
    var found = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (el.name !== name || el.disabled) { return; }
      if ((el.type === "radio" || el.type === "checkbox") && !el.checked) { return; }
      if (el.tagName === "SELECT") {
        Array.prototype.forEach.call(el.selectedOptions, function (o) { if (o.value) { found.push(o.value); } });
      } else if (el.value !== "") {
        found.push(el.value);
      }
    });
    return found;
  }
  function applies(form, conditions) {
    return conditions.some(function (c) {
      var given = answers(form, c[0]);
      if (c[1].length === 0) { return given.length > 0; }
      return given.some(function (v) { return c[1].indexOf(v) >= 0; });
    });
  }
  function update(form) {
    // Several passes: a field may depend on a field that is itself conditional.
    var blocks = form.querySelectorAll("[data-mostra-se]");
    for (var pass = 0; pass < 3; pass += 1) {
      Array.prototype.forEach.call(blocks, function (block) {
        var shown = applies(form, JSON.parse(block.getAttribute("data-mostra-se")));
        block.hidden = !shown;
        Array.prototype.forEach.call(block.querySelectorAll("input, select, textarea, button"), function (el) {
          el.disabled = !shown;  // not submitted: the server would ignore it anyway
        });
      });
    }
  }
  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("form"), function (form) {
      if (!form.querySelector("[data-mostra-se]")) { return; }
      update(form);
      form.addEventListener("change", function () { update(form); });
    });
  }
  document.addEventListener("DOMContentLoaded", init);
})();
