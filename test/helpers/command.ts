/** The `hookline` command, as installed: the tests and the bench run it as an operator would. */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The `hookline` command a checkout installs: its package.json's `bin`. */
export function commandOf(checkout: string): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(checkout, "package.json"), "utf8")) as { bin: { hookline: string } };
  return path.resolve(checkout, pkg.bin.hookline);
}

/**
 * The checkout this file is in: the nearest folder up with a package.json. The tests load it from
 * test/helpers/, the bench from its build (dist-bench/test/helpers/), one folder deeper.
 */
function thisCheckout(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, "package.json"))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
  return dir;
}

/** This checkout's command. */
export const CLI = commandOf(thisCheckout());
