import fs from "node:fs";
import semver from "semver";
import { expect, it } from "vitest";

/**
 * Hookline supports Node 20 (`engines` in package.json), and pins what it depends on to versions that
 * do. A dependency of a dependency can still declare a newer Node: npm then warns EBADENGINE on every
 * install and the package runs where its authors do not test it (light-my-request 6.8's cookie 2
 * declared Node ≥ 22; DECISIONS.md › Dependencies).
 */
it("every package in the lock file accepts the Node that runs the tests", () => {
  const lock = JSON.parse(fs.readFileSync(new URL("../package-lock.json", import.meta.url), "utf8")) as {
    packages: Record<string, { version?: string; engines?: { node?: string } | string[] }>;
  };
  const refusing = Object.entries(lock.packages)
    .filter(([, p]) => {
      const range = !Array.isArray(p.engines) ? p.engines?.node : undefined;
      return range !== undefined && !semver.satisfies(process.versions.node, range);
    })
    .map(([name, p]) => `${name}@${p.version ?? "?"} wants node ${(p.engines as { node: string }).node}`);
  expect(refusing).toEqual([]);
});

/**
 * npm 11.16 only warns about a dependency's install script that package.json's `allowScripts` does
 * not name; npm 12 skips it, and better-sqlite3 then installs without its compiled binding and
 * fails at the first start: the README's first command would break on the next npm. Every
 * package whose install script Hookline needs is named there (DECISIONS.md › Dependencies).
 */
it("every package in the lock file with an install script is named in allowScripts", () => {
  const read = (file: string) => JSON.parse(fs.readFileSync(new URL(`../${file}`, import.meta.url), "utf8"));
  const lock = read("package-lock.json") as { packages: Record<string, { hasInstallScript?: boolean }> };
  const { allowScripts = {} } = read("package.json") as { allowScripts?: Record<string, boolean> };
  const unreviewed = Object.entries(lock.packages)
    .filter(([, p]) => p.hasInstallScript)
    .map(([path]) => path.replace(/^.*node_modules\//, ""))
    .filter((name) => allowScripts[name] === undefined);
  expect(unreviewed).toEqual([]);
});
