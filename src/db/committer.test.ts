import { describe, expect, it } from "vitest";
import { createCommitter } from "./committer.js";
import type { Db, Tx } from "./schema.js";

/** Stands in for Kysely's transaction API, counting transactions and how many are open at once. */
function fakeDb(workMs = 0) {
  const stats = { transactions: 0, open: 0, maxOpen: 0 };
  const db = {
    transaction: () => ({
      async execute<T>(fn: (trx: Tx) => Promise<T>): Promise<T> {
        stats.transactions++;
        stats.open++;
        stats.maxOpen = Math.max(stats.maxOpen, stats.open);
        try {
          if (workMs) await new Promise((r) => setTimeout(r, workMs));
          return await fn({} as Tx);
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
});
