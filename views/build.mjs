// Builds each view into one self-contained HTML document (script and style inlined, nothing fetched), written into
// the Python package, and the test host into tests/. Deterministic: the same sources and lockfile give the same
// bytes, which CI checks (.ci/run rebuilds and runs `git diff --exit-code`). Run: npm --prefix views ci && npm
// --prefix views run build
import { build, transform } from "esbuild";
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
const root = fileURLToPath(new URL("..", import.meta.url));
const LIMIT = 400_000; // bytes per view (issue 21)

// Trimming what the views never run (issue 21: under 400 KB each):
// - Zod (under the MCP SDK) re-exports its error messages in some forty languages, and that namespace export keeps
//   them all; zod itself only ever applies English, so the others are dropped.
// - The MCP SDK packages declare no `sideEffects`, so a bundler keeps all of their modules (the whole Client, its
//   HTTP transports and OAuth) although App only extends Protocol; their modules only define things, so they are
//   marked free of side effects and what App does not use is left out.
const SDK = /node_modules\/@modelcontextprotocol\/(client|core)\//;
const trim = {
  name: "trim",
  setup(b) {
    b.onResolve({ filter: /\/locales\/index\.js$/ }, (args) =>
      args.importer.includes("node_modules/zod/") ? { path: "zod-locales", namespace: "stub" } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "stub" }, () => ({
      contents: 'export { default as en } from "zod/v4/locales/en.js";',
      resolveDir: here,
    }));
    b.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData?.trimmed || args.namespace === "stub") return undefined;
      const found = await b.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: { trimmed: true },
      });
      if (found.errors.length || !SDK.test(found.path)) return undefined;
      return { path: found.path, sideEffects: false };
    });
  },
};

async function bundle(entry) {
  const result = await build({
    absWorkingDir: here,
    entryPoints: [entry],
    bundle: true,
    minify: true,
    format: "iife",
    target: "es2020",
    platform: "browser",
    charset: "ascii",
    legalComments: "none",
    write: false,
    logLevel: "warning",
    plugins: [trim],
  });
  const js = result.outputFiles[0].text.trim();
  if (/<\/script/i.test(js) || /<!--/.test(js)) throw new Error(`${entry}: the bundle would end its <script> early`);
  return js;
}

function page(title, css, js) {
  return [
    "<!doctype html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${title}</title>`,
    `<style>${css}</style>`,
    "</head>",
    "<body>",
    '<main id="app"></main>',
    `<script>${js}</script>`,
    "</body>",
    "</html>",
    "",
  ].join("\n");
}

const css = (await transform(await readFile(`${here}src/style.css`, "utf8"), { loader: "css", minify: true })).code.trim();
for (const [name, title] of [["inbox", "Missive inbox"], ["thread", "Missive conversation"]]) {
  const html = page(title, css, await bundle(`src/${name}.ts`));
  const size = Buffer.byteLength(html);
  if (size >= LIMIT) throw new Error(`${name}.html is ${size} bytes, over its ${LIMIT} budget`);
  await writeFile(`${root}missive_mcp/views/${name}.html`, html);
  console.log(`missive_mcp/views/${name}.html: ${size} bytes`);
}
const host = page("MCP Apps test host", "body{margin:0}", await bundle("test-host/host.ts"));
await writeFile(`${root}tests/views_host.html`, host);
console.log(`tests/views_host.html: ${Buffer.byteLength(host)} bytes`);
