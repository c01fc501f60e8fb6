// Copies the browser builds of our npm dependencies into static/vendor/ (git-ignored), so
// pages load them from our own origin: no CDN, and a strict Content-Security-Policy holds.
import { cpSync, mkdirSync, rmSync } from "node:fs";
import { dirname } from "node:path";

const out = "static/vendor";
rmSync(out, { recursive: true, force: true });

// A file that names a source map (`sourceMappingURL`) comes with its map: production's
// collectstatic (manifest storage) refuses a reference to a file that is not there.
const copies = {
  "node_modules/@alpinejs/csp/dist/cdn.min.js": "alpine-csp.min.js",
  "node_modules/marked/lib/marked.umd.js": "marked.umd.js",
  "node_modules/marked/lib/marked.umd.js.map": "marked.umd.js.map",
  "node_modules/dompurify/dist/purify.min.js": "purify.min.js",
  "node_modules/dompurify/dist/purify.min.js.map": "purify.min.js.map",
  "node_modules/@highlightjs/cdn-assets/highlight.min.js": "highlight/highlight.min.js",
  "node_modules/@highlightjs/cdn-assets/styles/github-dark.min.css": "highlight/github-dark.min.css",
  "node_modules/@phosphor-icons/web/src/regular": "phosphor/regular",
};
for (const [src, dest] of Object.entries(copies)) {
  mkdirSync(dirname(`${out}/${dest}`), { recursive: true });
  cpSync(src, `${out}/${dest}`, { recursive: true });
}
console.log(`vendor files copied to ${out}/`);
