import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, it } from "vitest";
import type { GcLog } from "./gc-observer.js";

// The observer is loaded with --import from the build (`npm test` builds first), as bench:threads loads it.
const observer = new URL("../dist-bench/bench/gc-observer.js", import.meta.url);

it("logs the main thread's collections, by kind, to the file it is given, and nothing without one", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hookline-gc-test-"));
  const file = path.join(dir, "gc.json");
  // Young garbage until several scavenges have run, one explicit full collection, then long enough for a write.
  const program = `
    let keep; for (let i = 0; i < 2e6; i++) keep = { i, s: "x" + i };
    globalThis.gc(); setTimeout(() => {}, 300);`;
  try {
    execFileSync(process.execPath, ["--expose-gc", `--import=${observer.href}`, "-e", program], { env: { ...process.env, HOOKLINE_BENCH_GC_FILE: file } });
    const log = JSON.parse(fs.readFileSync(file, "utf8")) as GcLog;
    expect(log.minor.length).toBeGreaterThan(0);
    expect(log.major.length).toBeGreaterThan(0);
    expect(log.minor.every((ms) => ms >= 0)).toBe(true);

    const unset = { ...process.env };
    delete unset.HOOKLINE_BENCH_GC_FILE;
    fs.rmSync(file);
    execFileSync(process.execPath, [`--import=${observer.href}`, "-e", program.replace("globalThis.gc();", "")], { env: unset });
    expect(fs.existsSync(file)).toBe(false);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
