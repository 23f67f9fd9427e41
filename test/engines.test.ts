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
