/**
 * Group commit. Every write of the process — ingest, claims, attempt records — is a unit of work
 * submitted here; units submitted while a transaction is being written wait and are written together
 * in the next one, so N concurrent writes cost one commit (one fsync) instead of N. Under no load a
 * unit is written at once (after the current tick, so units arriving together share a commit).
 *
 * If a shared transaction fails, each of its units is retried in a transaction of its own, so one
 * bad unit fails alone and never takes its neighbours down with it. Units must therefore be safe to
 * run again after a rollback (they are: a rolled-back transaction left nothing behind).
 *
 * Callers say what they wait for (`RunOptions`): on SQLite a commit becomes visible first and
 * durable a moment later (sqlite.ts); ingest answers once its events are on disk, but the worker
 * may start on them as soon as they are visible, and a claim needs no disk at all.
 *
 * `parallel` transactions may be open at once. SQLite has one writer, so 1 there. PostgreSQL runs
 * transactions side by side (and groups their commits itself); with one at a time, every statement's
 * round trip would be serialised behind every other's, and the database would wait on the network.
 */
import type { Store } from "./connect.js";
import { direct } from "./prepared.js";
import type { Db, UnitTx } from "./schema.js";
import type { DeferredSync } from "./sqlite.js";
import { writingBehind } from "./write-behind.js";

/** A unit of work: its transaction cannot write the tables units share reads of (schema.ts `Executor`, `UnitTx`). */
export type Work<T> = (trx: UnitTx) => Promise<T>;

export interface RunOptions<T> {
  /**
   * Wait for the commit to be on disk (the default). A claim needs only that its commit is
   * visible: if the process dies before the disk has it, the instance is simply claimed again.
   * (A commit that is visible but not yet fsynced survives a crash of the process, not of the machine.)
   */
  durable?: boolean;
  /** Called once the commit is visible to everyone, before it is on disk: new work may start. */
  onVisible?: (result: T) => void;
}

export interface Committer {
  /** Runs `work` in a transaction shared with other units; resolves after the commit (see `options`). */
  run<T>(work: Work<T>, options?: RunOptions<T>): Promise<T>;
  /** Resolves when everything submitted so far is committed and on disk. */
  drain(): Promise<void>;
}

interface Pending {
  work: Work<unknown>;
  options: RunOptions<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * How a process sets its committer up for its store. PostgreSQL takes several transactions at once:
 * half the pool, the rest left for reads. SQLite's committer waits for the WAL's fsync itself.
 */
export function committerOptions(store: Pick<Store, "dialect" | "durability">, poolSize: number): { parallel: number; durability?: DeferredSync } {
  return {
    parallel: store.dialect === "postgres" ? Math.max(1, Math.floor(poolSize / 2)) : 1,
    ...(store.durability && { durability: store.durability }),
  };
}

/**
 * `durability`: SQLite's deferred WAL fsync (sqlite.ts). Its transactions release the connection at
 * commit, and the next batch may run while the fsync of the last one is still going; the units that
 * need the disk wait for it here. Without it (PostgreSQL, in-memory), a commit is final when it returns.
 */
export function createCommitter(
  db: Db,
  { maxBatch = 500, parallel = 1, durability }: { maxBatch?: number; parallel?: number; durability?: DeferredSync } = {},
): Committer {
  let queue: Pending[] = [];
  let active = 0;
  let syncing = 0;
  let scheduled = false;
  const idle: (() => void)[] = [];

  // The units' hot writes are written together at the end (write-behind.ts).
  const transaction = <T>(work: Work<T>) =>
    db.transaction().execute((trx) => {
      durability?.defer();
      return direct(trx, (t) => writingBehind(t, () => work(t)));
    });

  /** Commits the batch; returns the units (with their results) still waiting for the disk. */
  async function writeBatch(batch: Pending[]): Promise<[Pending, unknown][]> {
    const waiting: [Pending, unknown][] = [];
    // Outside the transaction's try: a unit must never run again because a callback failed.
    const committed = (p: Pending, result: unknown) => {
      try {
        p.options.onVisible?.(result);
      } catch (error) {
        p.reject(error);
        return;
      }
      if (durability && p.options.durable !== false) waiting.push([p, result]);
      else p.resolve(result);
    };
    let outputs: unknown[];
    try {
      outputs = await transaction(async (trx) => {
        const out: unknown[] = [];
        for (const p of batch) out.push(await p.work(trx));
        return out;
      });
    } catch (batchError) {
      if (batch.length === 1) {
        batch[0]?.reject(batchError);
        return waiting;
      }
      for (const p of batch) {
        let result: unknown;
        try {
          result = await transaction((trx) => p.work(trx));
        } catch (error) {
          p.reject(error);
          continue;
        }
        committed(p, result);
      }
      return waiting;
    }
    for (const [i, p] of batch.entries()) committed(p, outputs[i]);
    return waiting;
  }

  /** One fsync covers every commit before it; a failed one fails its units (their commits may survive). */
  async function settle(waiting: [Pending, unknown][]): Promise<void> {
    if (waiting.length === 0 || !durability) return;
    syncing++;
    try {
      await durability.sync();
      for (const [p, result] of waiting) p.resolve(result);
    } catch (error) {
      for (const [p] of waiting) p.reject(error);
    } finally {
      syncing--;
    }
  }

  function maybeIdle(): void {
    if (active === 0 && syncing === 0 && queue.length === 0 && !scheduled) for (const resolve of idle.splice(0)) resolve();
  }

  /** Starts batches while there are units waiting and transactions to spare. */
  function pump(): void {
    while (queue.length > 0 && active < parallel) {
      const batch = queue.slice(0, maxBatch);
      queue = queue.slice(batch.length);
      active++;
      void writeBatch(batch)
        .then((waiting) => {
          active--;
          pump();
          return settle(waiting);
        })
        .finally(maybeIdle);
    }
  }

  return {
    run<T>(work: Work<T>, options: RunOptions<T> = {}) {
      return new Promise<T>((resolve, reject) => {
        queue.push({ work, options: options as RunOptions<unknown>, resolve: resolve as (value: unknown) => void, reject });
        if (scheduled) return;
        scheduled = true;
        // Let every unit that arrives in this tick join the first batch.
        setImmediate(() => {
          scheduled = false;
          pump();
          // An earlier batch's end may have taken this turn's units already: a drain may be waiting for this turn alone.
          maybeIdle();
        });
      });
    },
    drain() {
      if (active === 0 && syncing === 0 && queue.length === 0 && !scheduled) return Promise.resolve();
      return new Promise<void>((resolve) => idle.push(resolve));
    },
  };
}
