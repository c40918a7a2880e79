// Loaded first, before the design system's bundle (kept out of inline scripts for the CSP):
// where bootstrap-italia finds its fonts, and no <style> elements injected by the bundled video player.
window.__PUBLIC_PATH__ = "/static/vendor/bootstrap-italia/fonts";
window.VIDEOJS_NO_DYNAMIC_STYLE = true;
