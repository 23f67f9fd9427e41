/**
 * Group commit. Work items submitted while a transaction is being written wait and are written
 * together in the next one, so N concurrent requests cost one fsync instead of N. Under no load an
 * item is written at once (after the current tick, so items arriving together share a commit).
 *
 * If a batch's transaction fails, each of its items is retried in a transaction of its own, so one
 * bad item fails alone and never takes its neighbours down with it.
 */
import type { Db, Tx } from "./schema.js";

export interface Batcher<I, O> {
  submit(item: I): Promise<O>;
  /** Resolves when everything submitted so far is committed. */
  drain(): Promise<void>;
}

interface Pending<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (error: unknown) => void;
}

export function createBatcher<I, O>(
  db: Db,
  write: (trx: Tx, item: I) => Promise<O>,
  { maxBatch = 500, afterCommit }: { maxBatch?: number; afterCommit?: (outputs: O[]) => void } = {},
): Batcher<I, O> {
  let queue: Pending<I, O>[] = [];
  let running: Promise<void> | undefined;

  async function writeBatch(batch: Pending<I, O>[]): Promise<void> {
    try {
      const outputs = await db.transaction().execute(async (trx) => {
        const out: O[] = [];
        for (const p of batch) out.push(await write(trx, p.item));
        return out;
      });
      for (const [i, p] of batch.entries()) p.resolve(outputs[i] as O);
      afterCommit?.(outputs);
    } catch (batchError) {
      if (batch.length === 1) {
        batch[0]?.reject(batchError);
        return;
      }
      for (const p of batch) {
        try {
          const out = await db.transaction().execute((trx) => write(trx, p.item));
          p.resolve(out);
          afterCommit?.([out]);
        } catch (error) {
          p.reject(error);
        }
      }
    }
  }

  async function loop(): Promise<void> {
    // Let every request that arrived in this tick join the first batch.
    await new Promise<void>((r) => setImmediate(r));
    while (queue.length > 0) {
      const batch = queue.slice(0, maxBatch);
      queue = queue.slice(batch.length);
      await writeBatch(batch);
    }
    running = undefined;
  }

  return {
    submit(item) {
      return new Promise<O>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        running ??= loop();
      });
    },
    async drain() {
      while (running) await running;
    },
  };
}
