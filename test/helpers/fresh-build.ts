/**
 * The build the tests run, brought up to date before they start. Parts of Hookline cannot run from
 * TypeScript source under the test runner: its worker threads (webhooks, template renders) load
 * compiled JavaScript, the `hookline` command the tests start is dist/bin/hookline.js, and the web
 * UI is served from dist/ui. From a stale build, a test would test the code of the last build.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** What `npm run build` reads; folders are walked, and the tests in them are not built. */
export const BUILD_INPUTS = ["src", "ui", "scripts/build-ui.mjs", "scripts/bundle.mjs", "tsconfig.json", "tsconfig.build.json", "package.json"];
/** What `npm run build` writes last: the build is as recent as this file. */
export const BUILD_OUTPUT = "dist/bin/hookline.js";

/** Why the build in `root` is older than what it is built from, or undefined when it is up to date. */
export function staleness(root: string, inputs = BUILD_INPUTS, output = BUILD_OUTPUT): string | undefined {
  const built = fs.statSync(path.join(root, output), { throwIfNoEntry: false });
  if (!built) return `there is no ${output}`;
  for (const input of inputs) {
    const changed = newerThan(path.join(root, input), built.mtimeMs);
    if (changed) return `${path.relative(root, changed)} changed since the last build`;
  }
  return undefined;
}

/** The first file under `file` (itself, or what a folder holds) modified after `time`. */
function newerThan(file: string, time: number): string | undefined {
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  if (!stat) return undefined;
  if (!stat.isDirectory()) return stat.mtimeMs > time && !file.endsWith(".test.ts") ? file : undefined;
  for (const entry of fs.readdirSync(file)) {
    const changed = newerThan(path.join(file, entry), time);
    if (changed) return changed;
  }
  return undefined;
}

/** Vitest's global setup: runs `npm run build` first when the build is stale, saying why in one line. */
export function setup(): void {
  const root = fileURLToPath(new URL("../..", import.meta.url));
  const why = staleness(root);
  if (!why) return;
  console.log(`build: ${why}; running npm run build before the tests`);
  const build = spawnSync("npm", ["run", "--silent", "build"], { cwd: root, encoding: "utf8" });
  if (build.status !== 0) throw new Error(`npm run build failed, and the tests would run the last build:\n${build.stdout}${build.stderr}`);
}
