// Loaded first: tells bootstrap-italia where its fonts are (kept out of inline scripts for the CSP).
window.__PUBLIC_PATH__ = "/static/vendor/bootstrap-italia/fonts";
