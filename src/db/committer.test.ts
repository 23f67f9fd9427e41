import { describe, expect, it } from "vitest";
import { createCommitter } from "./committer.js";
import type { Db, Tx } from "./schema.js";

/** Stands in for Kysely's transaction API, counting transactions and how many are open at once. */
function fakeDb(workMs = 0) {
  const stats = { transactions: 0, open: 0, maxOpen: 0 };
  // Enough of a transaction for the committer's direct statements (prepared.ts `direct`).
  const fakeTx = { getExecutor: () => ({ plugins: [], provideConnection: async (use: (c: object) => unknown) => use({}) }) } as unknown as Tx;
  const db = {
    transaction: () => ({
      async execute<T>(fn: (trx: Tx) => Promise<T>): Promise<T> {
        stats.transactions++;
        stats.open++;
        stats.maxOpen = Math.max(stats.maxOpen, stats.open);
        try {
          if (workMs) await new Promise((r) => setTimeout(r, workMs));
          return await fn(fakeTx);
        } finally {
          stats.open--;
        }
      },
    }),
  };
  return { db: db as unknown as Db, stats };
}

describe("committer", () => {
  it("writes units submitted in the same tick in one transaction", async () => {
    const { db, stats } = fakeDb();
    const committer = createCommitter(db);
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => committer.run(async () => i)));
    expect(results).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(stats.transactions).toBe(1);
  });

  it("drain resolves when a unit was taken by an earlier batch's end before its own turn came", async () => {
    const { db } = fakeDb();
    const committer = createCommitter(db);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const first = committer.run(() => gate);
    await new Promise((resolve) => setImmediate(resolve));
    // The second unit's turn is scheduled; the first batch ends before it and takes the unit itself.
    const second = committer.run(async () => 2);
    release();
    await Promise.all([first, second]);
    const drained = committer.drain().then(() => "drained");
    const hung = new Promise((resolve) => setTimeout(() => resolve("hung"), 500));
    expect(await Promise.race([drained, hung])).toBe("drained");
  });

  it("retries a failed batch unit by unit, so only the bad unit fails", async () => {
    const { db } = fakeDb();
    const committer = createCommitter(db);
    const outcomes = await Promise.allSettled([
      committer.run(async () => "a"),
      committer.run(async () => {
        throw new Error("bad unit");
      }),
      committer.run(async () => "c"),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
  });

  it("keeps at most `parallel` transactions open, and drain waits for all of them", async () => {
    const { db, stats } = fakeDb(10);
    const committer = createCommitter(db, { maxBatch: 1, parallel: 3 });
    let done = 0;
    for (let i = 0; i < 10; i++) void committer.run(async () => done++);
    await committer.drain();
    expect(done).toBe(10);
    expect(stats.maxOpen).toBe(3);
    expect(stats.transactions).toBe(10);
  });

  it("one transaction at a time by default (SQLite has one writer)", async () => {
    const { db, stats } = fakeDb(5);
    const committer = createCommitter(db, { maxBatch: 1 });
    await Promise.all(Array.from({ length: 5 }, () => committer.run(async () => 1)));
    expect(stats.maxOpen).toBe(1);
  });

  it("with deferred durability, answers a unit once its commit is on disk, a claim once it is visible, and commits the next batch meanwhile", async () => {
    const { db, stats } = fakeDb();
    const syncs: (() => void)[] = [];
    const durability = { defer: () => {}, sync: () => new Promise<void>((resolve) => syncs.push(resolve)) };
    const committer = createCommitter(db, { durability });
    const events: string[] = [];
    const ingest = committer.run(async () => "event", { onVisible: () => events.push("visible") }).then(() => events.push("answered"));
    const claim = committer.run(async () => "claim", { durable: false }).then(() => events.push("claimed"));
    await claim;
    expect(events).toEqual(["visible", "claimed"]);
    expect(syncs).toHaveLength(1);
    // The disk has not answered, yet the next batch commits.
    await committer.run(async () => "next", { durable: false });
    expect(stats.transactions).toBe(2);
    let drained = false;
    const drain = committer.drain().then(() => (drained = true));
    for (const resolve of syncs.splice(0)) resolve();
    await ingest;
    expect(events).toEqual(["visible", "claimed", "answered"]);
    await drain;
    expect(drained).toBe(true);
  });

  it("fails the units of a commit whose fsync failed", async () => {
    const { db } = fakeDb();
    const durability = { defer: () => {}, sync: () => Promise.reject(new Error("EIO")) };
    const committer = createCommitter(db, { durability });
    await expect(committer.run(async () => "event")).rejects.toThrow("EIO");
    await expect(committer.run(async () => "claim", { durable: false })).resolves.toBe("claim");
  });

  it("never runs a unit twice when a callback after its commit fails", async () => {
    const { db, stats } = fakeDb();
    const committer = createCommitter(db);
    let runs = 0;
    const failing = committer.run(
      async () => {
        runs++;
        return "a";
      },
      {
        onVisible: () => {
          throw new Error("listener failed");
        },
      },
    );
    const other = committer.run(async () => "b");
    await expect(failing).rejects.toThrow("listener failed");
    await expect(other).resolves.toBe("b");
    expect(runs).toBe(1);
    expect(stats.transactions).toBe(1);
  });
});
