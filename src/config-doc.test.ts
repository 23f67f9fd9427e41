import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { ENV_VARS } from "./config.js";
import { ENV_TABLE_END, ENV_TABLE_START, renderEnvTable, withEnvTable } from "./config-doc.js";

describe("the configuration reference", () => {
  it("docs/CONFIGURATION.md's table is the one ENV_VARS gives (run `npm run docs:config` after changing ENV_VARS)", () => {
    const doc = fs.readFileSync(new URL("../docs/CONFIGURATION.md", import.meta.url), "utf8");
    expect(doc).toBe(withEnvTable(doc));
    for (const name of Object.keys(ENV_VARS)) expect(doc).toContain(`| \`${name}\` |`);
  });

  it("a row shows (none) for an empty default and escapes a pipe in its text", () => {
    const table = renderEnvTable({ HOOKLINE_X: { default: "", help: "`a | b`" } });
    expect(table.split("\n")[2]).toBe("| `HOOKLINE_X` | (none) | `a \\| b` |");
  });

  it("replaces only what lies between the markers, and refuses a document without them", () => {
    const doc = `intro\n${ENV_TABLE_START}\nold\n${ENV_TABLE_END}\nafter`;
    expect(withEnvTable(doc, "new")).toBe(`intro\n${ENV_TABLE_START}\nnew\n${ENV_TABLE_END}\nafter`);
    expect(() => withEnvTable("no markers", "new")).toThrow(/env:start/);
  });
});
