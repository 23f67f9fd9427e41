import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, it } from "vitest";
import { createWalSync } from "./wal-sync.js";

function walFile(): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "hookline-wal-")), "db-wal");
  fs.writeFileSync(file, "frames");
  return file;
}

it("callers arriving while an fsync runs share the next one; none waits for an fsync that began before it", async () => {
  const started: (() => void)[] = [];
  const wal = createWalSync(walFile(), (_fd, done) => started.push(() => done(null)));
  const settled: string[] = [];
  const first = wal.sync().then(() => settled.push("first"));
  await new Promise((r) => setImmediate(r));
  expect(started).toHaveLength(1);
  // Three commits land while the first fsync runs: it may have begun before them, so they wait for
  // one more fsync, and share it.
  const later = [1, 2, 3].map((n) => wal.sync().then(() => settled.push(`later ${n}`)));
  started[0]?.();
  await first;
  await new Promise((r) => setImmediate(r));
  expect(settled).toEqual(["first"]);
  expect(started).toHaveLength(2);
  started[1]?.();
  await Promise.all(later);
  expect(settled).toEqual(["first", "later 1", "later 2", "later 3"]);
  expect(started).toHaveLength(2);
  wal.close();
});

it("fsyncs the real file, and reports a failed fsync to its callers", async () => {
  const ok = createWalSync(walFile());
  await ok.sync();
  ok.close();
  const failing = createWalSync(walFile(), (_fd, done) => done(Object.assign(new Error("EIO: i/o error"), { code: "EIO" })));
  await expect(failing.sync()).rejects.toThrow("EIO");
  failing.close();
});
