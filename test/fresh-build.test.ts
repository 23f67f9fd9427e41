import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { staleness } from "./helpers/fresh-build.js";

let root: string;
const BUILT_AT = new Date("2026-01-01T12:00:00Z");
const inputs = ["src", "ui", "tsconfig.json"];
const output = "dist/bin/hookline.js";

/** Writes `file` under the temporary checkout, modified at `at`. */
function write(file: string, at: Date): void {
  const full = path.join(root, file);
  fs.mkdirSync(path.dirname(full), { recursive: true });
  fs.writeFileSync(full, "");
  fs.utimesSync(full, at, at);
}
const before = new Date(BUILT_AT.getTime() - 60_000);
const after = new Date(BUILT_AT.getTime() + 1_000);

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "hookline-fresh-build-"));
  write("src/deliver/webhook-thread-entry.ts", before);
  write("ui/src/main.ts", before);
  write("tsconfig.json", before);
  write(output, BUILT_AT);
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

it("a build newer than every source is up to date", () => {
  expect(staleness(root, inputs, output)).toBeUndefined();
});

it("a source modified after the build makes it stale, naming the source", () => {
  write("src/deliver/webhook-thread-entry.ts", after);
  expect(staleness(root, inputs, output)).toBe("src/deliver/webhook-thread-entry.ts changed since the last build");
});

it("a new UI module or a changed configuration makes the build stale", () => {
  write("ui/src/chart.ts", after);
  expect(staleness(root, inputs, output)).toBe("ui/src/chart.ts changed since the last build");
  write("ui/src/chart.ts", before);
  write("tsconfig.json", after);
  expect(staleness(root, inputs, output)).toBe("tsconfig.json changed since the last build");
});

it("a test beside the code is not built, so editing it leaves the build up to date", () => {
  write("src/deliver/webhook-thread.test.ts", after);
  expect(staleness(root, inputs, output)).toBeUndefined();
});

it("a checkout never built is stale", () => {
  fs.rmSync(path.join(root, "dist"), { recursive: true });
  expect(staleness(root, inputs, output)).toBe("there is no dist/bin/hookline.js");
});
