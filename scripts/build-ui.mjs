/**
 * Builds the web UI into dist/ui: each ui/src module transpiled to the one JavaScript module the
 * browser loads (no bundling), and the page and its stylesheet copied beside them.
 *
 * Transpiled file by file rather than emitted by `tsc -p ui/tsconfig.json`: the UI's types import the
 * server's schemas from its source (ui/src/types.ts), which a tsc emit would compile into dist/ui
 * too. ui/tsconfig.json only type-checks (`npm run typecheck`), and its `isolatedModules` makes tsc
 * reject what a file-by-file transpile could get wrong.
 */
import fs from "node:fs";
import path from "node:path";
import ts from "typescript";

const { config, error } = ts.readConfigFile("ui/tsconfig.json", ts.sys.readFile);
if (error) throw new Error(ts.flattenDiagnosticMessageText(error.messageText, "\n"));
const { options } = ts.parseJsonConfigFileContent(config, ts.sys, "ui");

fs.rmSync("dist/ui", { recursive: true, force: true });
fs.mkdirSync("dist/ui", { recursive: true });
for (const file of fs.readdirSync("ui/src").filter((f) => f.endsWith(".ts"))) {
  const source = fs.readFileSync(path.join("ui/src", file), "utf8");
  const { outputText } = ts.transpileModule(source, { compilerOptions: options, fileName: file });
  fs.writeFileSync(path.join("dist/ui", file.replace(/\.ts$/, ".js")), outputText);
}
for (const file of ["index.html", "app.css"]) fs.copyFileSync(path.join("ui", file), path.join("dist/ui", file));
