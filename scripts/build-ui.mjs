/**
 * Builds the web UI into dist/ui: each ui/src module transpiled to the one JavaScript module the
 * browser loads (no bundling of the UI itself), the page and its stylesheet copied beside them, the
 * view library's ES modules copied into dist/ui/vendor, and the pure server modules the UI runs too
 * (the conditions evaluator, the SMS segment count) bundled for the browser into dist/ui/shared.
 *
 * Transpiled file by file rather than emitted by `tsc -p ui/tsconfig.json`: the UI's types import the
 * server's schemas from its source (ui/src/types.ts), which a tsc emit would compile into dist/ui
 * too. ui/tsconfig.json only type-checks (`npm run typecheck`), and its `isolatedModules` makes tsc
 * reject what a file-by-file transpile could get wrong.
 */
import fs from "node:fs";
import path from "node:path";
import ts from "typescript";

/** The view library (docs/DECISIONS.md, Web UI): its production ES modules import each other by relative paths only. */
const LIT_HTML = "node_modules/lit-html";
/**
 * Server modules the UI also runs, one bundle each (with zod, which they import): in the browser as
 * in the server, one evaluator. The UI loads them by these names (ui/src/shared.ts); a module not
 * written yet is left out, and the UI says its feature is unavailable.
 */
const SHARED = { "conditions.js": "src/match/conditions.ts", "sms-segments.js": "src/templates/sms-segments.ts" };

const { config, error } = ts.readConfigFile("ui/tsconfig.json", ts.sys.readFile);
if (error) throw new Error(ts.flattenDiagnosticMessageText(error.messageText, "\n"));
const { options } = ts.parseJsonConfigFileContent(config, ts.sys, "ui");

/** `lit-html` and `lit-html/directives/…` name the vendored copy; any other bare import would fail in the browser, so it fails the build. */
function resolveImports(file, code) {
  return code.replace(/(\bfrom\s*|\bimport\s*\(?\s*)"([^"]+)"/g, (all, keyword, specifier) => {
    if (specifier.startsWith("./")) return all;
    const lit = /^lit-html(\/.*)?$/.exec(specifier);
    if (!lit) throw new Error(`ui/src/${file}: the browser cannot load "${specifier}"; import ./modules, lit-html, or a SHARED server module through ui/src/shared.ts`);
    return `${keyword}"./vendor/lit-html${lit[1] ?? "/lit-html.js"}"`;
  });
}

fs.rmSync("dist/ui", { recursive: true, force: true });
fs.mkdirSync("dist/ui/vendor/lit-html/directives", { recursive: true });
for (const file of fs.readdirSync("ui/src").filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))) {
  const source = fs.readFileSync(path.join("ui/src", file), "utf8");
  const { outputText } = ts.transpileModule(source, { compilerOptions: options, fileName: file });
  fs.writeFileSync(path.join("dist/ui", file.replace(/\.ts$/, ".js")), resolveImports(file, outputText));
}
for (const file of ["index.html", "app.css"]) fs.copyFileSync(path.join("ui", file), path.join("dist/ui", file));

for (const dir of ["", "directives"]) {
  for (const file of fs.readdirSync(path.join(LIT_HTML, dir)).filter((f) => f.endsWith(".js"))) {
    fs.copyFileSync(path.join(LIT_HTML, dir, file), path.join("dist/ui/vendor/lit-html", dir, file));
  }
}

const shared = Object.entries(SHARED).filter(([, source]) => fs.existsSync(source));
// rolldown needs Node 20.19 (docs/DECISIONS.md, Dependencies): without it the UI says its check is unavailable.
const rolldown = shared.length > 0 ? await import("rolldown").catch((error) => process.stderr.write(`build-ui: ${error.message}; no dist/ui/shared\n`)) : undefined;
if (rolldown) {
  await rolldown.build({
    input: Object.fromEntries(shared.map(([name, source]) => [name.replace(/\.js$/, ""), source])),
    platform: "browser",
    output: { dir: "dist/ui/shared", format: "esm", entryFileNames: "[name].js", chunkFileNames: "[name]-[hash].js", minify: true },
    logLevel: "warn",
  });
}
