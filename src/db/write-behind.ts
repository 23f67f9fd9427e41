/**
 * Writes behind. The hot writes of a committer transaction's units — the event, instance and
 * attempt rows, and each attempt's completion of its instance — are kept until every unit has run,
 * then written batch by batch, many rows to a statement (`prepareRows`), just before the commit.
 * One statement per row would be most of the statements per event, and on PostgreSQL each statement
 * is a round trip: a transaction of 15 single-event ingests and 15 attempt records would wait for 75
 * of them in turn, where it waits for a few per table (DECISIONS.md, "Fewer round trips per
 * event on PostgreSQL").
 *
 * What a unit writes this way is not there to read until the transaction's end, and what the write
 * finds (an attempt's completion finds whether its lease still holds) is known only then. None of
 * the committer's units reads such a row back, with one exception that only postpones a conflict:
 * two events with one idempotency key in one transaction both find no earlier event and are both
 * inserted; the unique index refuses the second at the end, the transaction fails, and the
 * committer runs each unit alone, where the second finds the first (committer.ts).
 *
 * Batches are written in a fixed order (`WRITE_ORDER`: an event before its instances), so every
 * foreign key finds its row; a transaction that gathers WRITE_BEHIND_LIMIT items writes them then,
 * in the same order, and gathers afresh. Outside `writingBehind` (a transaction not the
 * committer's, or none) items are written at once.
 */
import { prepareInsert } from "./prepared.js";
import type { Executor, NewAttempt, NewEvent, NewInstance } from "./schema.js";

/** Writes of one kind, many items at a time. */
export interface Batch<T> {
  /** Batches are written in this order (lowest first): rows before the rows that refer to them. */
  readonly order: number;
  write(db: Executor, items: T[]): Promise<void>;
}

/**
 * Items a transaction keeps at most before writing what it has so far: a commit shared by 500 batch
 * requests of 500 events each would otherwise hold every row of them in memory until its end.
 */
export const WRITE_BEHIND_LIMIT = 4_096;

interface Waiting {
  batches: Map<Batch<unknown>, unknown[]>;
  count: number;
}

/** The items waiting in each transaction open now, by batch. */
const waiting = new WeakMap<Executor, Waiting>();

/** Writes what waits in `trx`, batch by batch in WRITE_ORDER, and starts afresh. */
async function writeWaiting(trx: Executor, state: Waiting): Promise<void> {
  const batches = [...state.batches].sort(([a], [b]) => a.order - b.order);
  state.batches = new Map();
  state.count = 0;
  for (const [batch, items] of batches) await batch.write(trx, items);
}

/** Runs `work` in `trx`, keeping its writes (`writeBehind`) until it is done, then writing them. */
export async function writingBehind<T>(trx: Executor, work: (trx: Executor) => Promise<T>): Promise<T> {
  const state: Waiting = { batches: new Map(), count: 0 };
  waiting.set(trx, state);
  try {
    const result = await work(trx);
    // Taken out first: a write made while these are written (a batch's own) goes in at once.
    waiting.delete(trx);
    await writeWaiting(trx, state);
    return result;
  } finally {
    waiting.delete(trx);
  }
}

/** Writes `items` with `batch` when the transaction's work is done, or now outside `writingBehind`. */
export async function writeBehind<T>(db: Executor, batch: Batch<T>, items: readonly T[]): Promise<void> {
  const state = waiting.get(db);
  if (!state) return batch.write(db, [...items]);
  const list = state.batches.get(batch as Batch<unknown>);
  if (list) for (const item of items) list.push(item);
  else state.batches.set(batch as Batch<unknown>, [...items]);
  state.count += items.length;
  if (state.count >= WRITE_BEHIND_LIMIT) await writeWaiting(db, state);
}

interface Rows {
  events: Required<NewEvent>;
  instances: Required<NewInstance>;
  attempts: Required<NewAttempt>;
}

/**
 * Where each kind of write comes: an event before its instances, and attempt records (an
 * instance's completion, then its attempt row) after both.
 */
export const WRITE_ORDER = { events: 1, instances: 2, records: 3, attempts: 4 } as const;

/** The hot tables' inserts, many rows to a statement. */
const inserts: { [T in keyof Rows]: Batch<Rows[T]> } = {
  events: { order: WRITE_ORDER.events, write: prepareInsert("events") },
  instances: { order: WRITE_ORDER.instances, write: prepareInsert("instances") },
  attempts: { order: WRITE_ORDER.attempts, write: prepareInsert("attempts") },
};

/** Inserts `rows` into `table` when the transaction's work is done (`writeBehind`). */
export function insertBehind<T extends keyof Rows>(db: Executor, table: T, rows: readonly Rows[T][]): Promise<void> {
  return writeBehind(db, inserts[table] as Batch<Rows[T]>, rows);
}
