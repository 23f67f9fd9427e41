/** `npm run docs:config`: rewrites docs/CONFIGURATION.md's variable table from ENV_VARS (src/config.ts), as built into dist/. */
import fs from "node:fs";
import { withEnvTable } from "../dist/config-doc.js";

const file = new URL("../docs/CONFIGURATION.md", import.meta.url);
const before = fs.readFileSync(file, "utf8");
const after = withEnvTable(before);
if (after !== before) fs.writeFileSync(file, after);
console.log(after === before ? "docs/CONFIGURATION.md: the table is up to date" : "docs/CONFIGURATION.md: table rewritten");
