import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { sql } from "kysely";
import { afterEach, expect, it } from "vitest";
import { openSqlite, type SqliteStore } from "./sqlite.js";
import type { WalSync } from "./wal-sync.js";

/** A WAL fsync that, once `hold` is set, is held until the test releases it (and stops holding). */
function heldSync() {
  const waiting: (() => void)[] = [];
  const state = { hold: false };
  const walSync = (): WalSync => ({
    sync: () => (state.hold ? new Promise<void>((resolve) => waiting.push(resolve)) : Promise.resolve()),
    close: () => {},
  });
  const release = () => {
    state.hold = false;
    for (const resolve of waiting.splice(0)) resolve();
  };
  return { walSync, waiting, state, release };
}

let store: SqliteStore | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
});

/** A store on a fresh file (its path in `file`), closed after the test. */
function open(walSync?: () => WalSync): SqliteStore & { file: string } {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "hookline-sqlite-")), "test.db");
  store = openSqlite(file, walSync ? { walSync } : {});
  return { ...store, file };
}

const settledYet = async (p: Promise<unknown>) => {
  let settled = false;
  void p.then(() => (settled = true));
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  return settled;
};

it("a write resolves only after the WAL fsync, and the connection serves reads meanwhile", async () => {
  const fsync = heldSync();
  const { db } = open(fsync.walSync);
  await sql`create table t (n integer)`.execute(db);
  fsync.state.hold = true;

  const write = sql`insert into t values (1)`.execute(db);
  expect(await settledYet(write)).toBe(false);
  expect(fsync.waiting).toHaveLength(1);
  // Committed (visible) but not yet known durable: readers are not held up by the fsync.
  expect((await sql<{ n: number }>`select count(*) as n from t`.execute(db)).rows[0]?.n).toBe(1);
  fsync.release();
  await write;
});

it("a transaction waits for one fsync after its commit; reads wait for none", async () => {
  const fsync = heldSync();
  const { db } = open(fsync.walSync);
  await sql`create table t (n integer)`.execute(db);
  fsync.state.hold = true;

  const transaction = db.transaction().execute(async (trx) => {
    await sql`insert into t values (1)`.execute(trx);
    await sql`insert into t values (2)`.execute(trx);
    expect(fsync.waiting).toHaveLength(0); // nothing committed yet
  });
  expect(await settledYet(transaction)).toBe(false);
  expect(fsync.waiting).toHaveLength(1);
  fsync.release();
  await transaction;
  await sql`select * from t`.execute(db);
  expect(fsync.waiting).toHaveLength(0);
});

it("checkpoints the WAL on its own thread, not on the committing connection", async () => {
  const { db, file } = open();
  await sql`create table t (n integer, pad text)`.execute(db);
  for (let i = 0; i < 50; i++) await sql`insert into t values (${i}, ${"x".repeat(4000)})`.execute(db);
  const walPages = () => fs.statSync(`${file}-wal`).size;
  expect(walPages()).toBeGreaterThan(0);
  // The checkpoint thread copies the WAL into the database file: the file grows without this
  // connection checkpointing (its automatic checkpoint starts far above 50 pages).
  const before = fs.statSync(file).size;
  for (let i = 0; i < 100 && fs.statSync(file).size === before; i++) await new Promise((r) => setTimeout(r, 50));
  expect(fs.statSync(file).size).toBeGreaterThan(before + 50 * 4000);
});

it("a transaction whose user took the fsync over (the group committer) is released at its commit", async () => {
  const fsync = heldSync();
  const { db, durability } = open(fsync.walSync);
  await sql`create table t (n integer)`.execute(db);
  fsync.state.hold = true;

  await db.transaction().execute(async (trx) => {
    durability?.defer();
    await sql`insert into t values (1)`.execute(trx);
  });
  expect(fsync.waiting).toHaveLength(0);
  const onDisk = durability?.sync() ?? Promise.reject(new Error("no durability"));
  expect(await settledYet(onDisk)).toBe(false);
  fsync.release();
  await onDisk;
  // The deferral was for that transaction only: the next write waits again.
  fsync.state.hold = true;
  const write = sql`insert into t values (2)`.execute(db);
  expect(await settledYet(write)).toBe(false);
  fsync.release();
  await write;
});
