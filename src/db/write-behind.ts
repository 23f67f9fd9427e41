/**
 * Writes behind. The hot writes of a committer transaction's units — the event, instance and
 * attempt rows, and each attempt's completion of its instance — are kept until every unit has run,
 * then written batch by batch, many rows to a statement (`prepareRows`), just before the commit.
 * One statement per row was most of the statements per event, and on PostgreSQL each statement is
 * a round trip: a transaction of 15 single-event ingests and 15 attempt records waited for 75 of
 * them in turn, where it now waits for a few per table (DECISIONS.md, "Fewer round trips per
 * event on PostgreSQL").
 *
 * What a unit writes this way is not there to read until the transaction's end, and what the write
 * finds (an attempt's completion finds whether its lease still holds) is known only then. None of
 * the committer's units reads such a row back, with one exception that only postpones a conflict:
 * two events with one idempotency key in one transaction both find no earlier event and are both
 * inserted; the unique index refuses the second at the end, the transaction fails, and the
 * committer runs each unit alone, where the second finds the first (committer.ts).
 *
 * Batches are written in the order their first item came (an event before its instances), so
 * every foreign key finds its row. Outside `writingBehind` (a transaction not the committer's, or
 * none) items are written at once.
 */
import { prepareInsert } from "./prepared.js";
import type { Executor, NewAttempt, NewEvent, NewInstance } from "./schema.js";

/** Writes of one kind, many items at a time. */
export interface Batch<T> {
  write(db: Executor, items: T[]): Promise<void>;
}

/** The items waiting in each transaction open now, by batch, in the order the batches came. */
const waiting = new WeakMap<Executor, Map<Batch<unknown>, unknown[]>>();

/** Runs `work` in `trx`, keeping its writes (`writeBehind`) until it is done, then writing them. */
export async function writingBehind<T>(trx: Executor, work: (trx: Executor) => Promise<T>): Promise<T> {
  const batches = new Map<Batch<unknown>, unknown[]>();
  waiting.set(trx, batches);
  try {
    const result = await work(trx);
    // Taken out first: a write made while these are written (a batch's own) goes in at once.
    waiting.delete(trx);
    for (const [batch, items] of batches) await batch.write(trx, items);
    return result;
  } finally {
    waiting.delete(trx);
  }
}

/** Writes `items` with `batch` when the transaction's work is done, or now outside `writingBehind`. */
export async function writeBehind<T>(db: Executor, batch: Batch<T>, items: readonly T[]): Promise<void> {
  const batches = waiting.get(db);
  if (!batches) return batch.write(db, [...items]);
  const list = batches.get(batch as Batch<unknown>);
  if (list) for (const item of items) list.push(item);
  else batches.set(batch as Batch<unknown>, [...items]);
}

interface Rows {
  events: Required<NewEvent>;
  instances: Required<NewInstance>;
  attempts: Required<NewAttempt>;
}

/** The hot tables' inserts, many rows to a statement. */
const inserts: { [T in keyof Rows]: Batch<Rows[T]> } = {
  events: { write: prepareInsert("events") },
  instances: { write: prepareInsert("instances") },
  attempts: { write: prepareInsert("attempts") },
};

/** Inserts `rows` into `table` when the transaction's work is done (`writeBehind`). */
export function insertBehind<T extends keyof Rows>(db: Executor, table: T, rows: readonly Rows[T][]): Promise<void> {
  return writeBehind(db, inserts[table] as Batch<Rows[T]>, rows);
}
