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
 * `parallel` transactions may be open at once. SQLite has one writer, so 1 there. PostgreSQL runs
 * transactions side by side (and groups their commits itself); with one at a time, every statement's
 * round trip was serialised behind every other's, and the database waited on the network.
 */
import type { Db, Tx } from "./schema.js";

export type Work<T> = (trx: Tx) => Promise<T>;

export interface Committer {
  /** Runs `work` in a transaction shared with other units; resolves after the commit. */
  run<T>(work: Work<T>): Promise<T>;
  /** Resolves when everything submitted so far is committed. */
  drain(): Promise<void>;
}

interface Pending {
  work: Work<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export function createCommitter(db: Db, { maxBatch = 500, parallel = 1 }: { maxBatch?: number; parallel?: number } = {}): Committer {
  let queue: Pending[] = [];
  let active = 0;
  let scheduled = false;
  const idle: (() => void)[] = [];

  async function writeBatch(batch: Pending[]): Promise<void> {
    try {
      const outputs = await db.transaction().execute(async (trx) => {
        const out: unknown[] = [];
        for (const p of batch) out.push(await p.work(trx));
        return out;
      });
      for (const [i, p] of batch.entries()) p.resolve(outputs[i]);
    } catch (batchError) {
      if (batch.length === 1) {
        batch[0]?.reject(batchError);
        return;
      }
      for (const p of batch) {
        try {
          p.resolve(await db.transaction().execute((trx) => p.work(trx)));
        } catch (error) {
          p.reject(error);
        }
      }
    }
  }

  /** Starts batches while there are units waiting and transactions to spare. */
  function pump(): void {
    while (queue.length > 0 && active < parallel) {
      const batch = queue.slice(0, maxBatch);
      queue = queue.slice(batch.length);
      active++;
      void writeBatch(batch).finally(() => {
        active--;
        pump();
        if (active === 0 && queue.length === 0) for (const resolve of idle.splice(0)) resolve();
      });
    }
  }

  return {
    run<T>(work: Work<T>) {
      return new Promise<T>((resolve, reject) => {
        queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
        if (scheduled) return;
        scheduled = true;
        // Let every unit that arrives in this tick join the first batch.
        setImmediate(() => {
          scheduled = false;
          pump();
        });
      });
    },
    drain() {
      if (active === 0 && queue.length === 0 && !scheduled) return Promise.resolve();
      return new Promise<void>((resolve) => idle.push(resolve));
    },
  };
}
