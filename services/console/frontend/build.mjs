// Bundles the console's diagram pages (bpmn-js, its properties panel, bpmnlint, the differ) with the
// esbuild that package-lock.json pins: `node services/console/frontend/build.mjs [outdir]`, run by
// ./dev when the bundle is missing or older than these sources or the lock. Nothing is fetched at
// run time: fonts and styles are inside the bundle's folder, served by the console itself.
import { build } from "esbuild";
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../../..");
const outdir = resolve(root, process.argv[2] || "build/console");

// The properties panel names the selected element in its header by bpmn-js's getLabel: it gets the
// name its reader reads instead (reader-names.js), as the canvas does.
const readerLabels = {
  name: "reader-labels",
  setup(build) {
    build.onResolve({ filter: /label-editing\/LabelUtil$/ }, (args) =>
      /bpmn-js-properties-panel/.test(args.importer) ? { path: join(here, "reader-names.js") } : undefined);
    // The canvas's label editor opens on the name the reader reads too (its edit then goes to that
    // name: reader-names.js's ReaderNameEditing).
    build.onResolve({ filter: /util\/LabelUtil$/ }, (args) =>
      /label-editing[\\/]LabelEditingProvider\.js$/.test(args.importer) ? { path: join(here, "reader-names.js") } : undefined);
  },
};

rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });
await build({
  entryPoints: { modeler: join(here, "modeler.js"), viewer: join(here, "viewer.js") },
  bundle: true,
  minify: true,
  format: "iife",
  target: ["chrome109", "firefox115", "safari15"],
  outdir,
  loader: { ".woff": "file", ".woff2": "file", ".ttf": "file", ".eot": "file", ".svg": "file" },
  assetNames: "[name]-[hash]",
  legalComments: "linked",
  logLevel: "warning",
  plugins: [readerLabels],
});

// The sizes docs/benchmarks.md reports, as built: bytes of each file, and gzip'd as served.
const { gzipSync } = await import("node:zlib");
const { readFileSync } = await import("node:fs");
// Each script and style also gzip'd beside it (name.gz), which the console sends to a browser that
// accepts it: the modeler's 1.8 MB travel as about 0.5 MB.
const sizes = {};
for (const name of readdirSync(outdir).sort()) {
  const bytes = readFileSync(join(outdir, name));
  const packed = gzipSync(bytes, { level: 9 });
  sizes[name] = { bytes: statSync(join(outdir, name)).size, gzip: packed.length };
  if (/\.(js|css)$/.test(name)) writeFileSync(join(outdir, name + ".gz"), packed);
}
writeFileSync(join(outdir, "sizes.json"), JSON.stringify(sizes, null, 1) + "\n");
writeFileSync(join(outdir, ".built"), new Date().toISOString() + "\n");
