/**
 * The `hookline` bin as npx runs it after a rebuild. npx links a project's own bin into its cache
 * once, at the first run, and runs it through that link from then on: a rebuild must leave the file
 * executable itself. The builds run in a copy of the project's install surface (package.json, the
 * bundle script, the compiled dist/), so the dist/bin the other tests run is never rewritten under them.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { tempDir } from "./helpers/hookline.js";

const run = promisify(execFile);
const root = fileURLToPath(new URL("..", import.meta.url));
const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { name: string; version: string; type: string; bin: { hookline: string } };

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/**
 * A project folder whose build is the bundle step (as `prepare`, which npx runs when it first links
 * the project) over this checkout's compiled files. `withoutBundler`: its node_modules lacks rolldown,
 * so the bundle step takes its fallback (the unbundled build).
 */
function project(withoutBundler: boolean): { dir: string; cache: string } {
  const dir = tempDir();
  const cache = tempDir();
  dirs.push(dir, cache);
  const { name, version, type, bin } = pkg;
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name, version, type, bin, scripts: { prepare: "node scripts/bundle.mjs" } }));
  fs.mkdirSync(path.join(dir, "scripts"));
  fs.copyFileSync(path.join(root, "scripts/bundle.mjs"), path.join(dir, "scripts/bundle.mjs"));
  fs.mkdirSync(path.join(dir, "dist"));
  for (const entry of fs.readdirSync(path.join(root, "dist")).filter((e) => e !== "bin")) {
    fs.symlinkSync(path.join(root, "dist", entry), path.join(dir, "dist", entry));
  }
  const modules = fs.realpathSync(path.join(root, "node_modules"));
  if (withoutBundler) {
    fs.mkdirSync(path.join(dir, "node_modules"));
    for (const entry of fs.readdirSync(modules).filter((e) => e !== "rolldown")) {
      fs.symlinkSync(path.join(modules, entry), path.join(dir, "node_modules", entry));
    }
  } else {
    fs.symlinkSync(modules, path.join(dir, "node_modules"));
  }
  return { dir, cache };
}

describe("the hookline bin", () => {
  it.each([
    ["bundled", false],
    ["unbundled, when the bundler is missing", true],
  ])("`npx hookline --help` still runs after a second build (%s)", async (_, withoutBundler) => {
    const { dir, cache } = project(withoutBundler);
    // A cache of its own, outside the project: npx links the project there and needs no registry.
    const env = { ...process.env, npm_config_cache: cache, npm_config_offline: "true" };
    const bin = path.join(dir, pkg.bin.hookline);
    const build = async () => {
      await run(process.execPath, ["scripts/bundle.mjs"], { cwd: dir, env });
      expect(fs.statSync(bin).mode & 0o111).toBe(0o111);
    };
    const npxHelp = async () => (await run("npx", ["hookline", "--help"], { cwd: dir, env })).stdout;

    await build();
    expect(await npxHelp()).toMatch(/^Usage: hookline /);
    await build();
    // It had said: sh: 1: hookline: Permission denied
    expect(await npxHelp()).toMatch(/^Usage: hookline /);
  });
});
