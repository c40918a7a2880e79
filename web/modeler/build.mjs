// Bundles the modeler with esbuild. The properties panel builds two containers from HTML with inline
// style attributes, which the service's CSP (style-src 'self') blocks: they are taken out here and the
// same rules are in web/static/admin/admin.css.
import * as esbuild from "esbuild";
import { readFile } from "node:fs/promises";

const inlineStyles = {
  name: "no-inline-styles",
  setup(build) {
    build.onLoad({ filter: /bpmn-js-properties-panel[\\/]dist[\\/]index\.esm\.js$/ }, async (args) => {
      const source = await readFile(args.path, "utf8");
      return { contents: source.replace(/<div style="[^"]*" /g, "<div "), loader: "js" };
    });
  },
};

await esbuild.build({
  entryPoints: ["web/modeler/modeler.js"],
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2020",
  outfile: "web/static/vendor/modeler/modeler.js",
  loader: { ".woff": "dataurl", ".woff2": "dataurl", ".ttf": "dataurl", ".eot": "dataurl", ".svg": "dataurl" },
  logLevel: "warning",
  plugins: [inlineStyles],
});
