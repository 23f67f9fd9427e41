/**
 * Inserts written behind. The hot rows — events, instances, attempts — that the units of one
 * committer transaction insert are kept until every unit has run, then written table by table, many
 * rows to a statement (`prepareInsert`), just before the commit. One statement per row was the most
 * of the statements per event, and on PostgreSQL each statement is a round trip: a transaction of
 * 30 units waited for 60 of them in turn (DECISIONS.md, "Inserts written behind").
 *
 * What a unit inserts this way is not there to read until the transaction's end. None of the
 * committer's units reads such a row back, with one exception that only postpones a conflict: two
 * events with one idempotency key in one transaction both find no earlier event and are both
 * inserted; the unique index refuses the second at the end, the transaction fails, and the
 * committer runs each unit alone, where the second finds the first (committer.ts).
 *
 * Tables are written in the order a row first came for them (an event before its instances), so
 * every foreign key finds its row. Outside `writingBehind` (a transaction not the committer's, or
 * none) a row is inserted at once.
 */
import { prepareInsert } from "./prepared.js";
import type { Executor, NewAttempt, NewEvent, NewInstance } from "./schema.js";

interface Rows {
  events: Required<NewEvent>;
  instances: Required<NewInstance>;
  attempts: Required<NewAttempt>;
}
type Table = keyof Rows;

const inserts: { [T in Table]: (db: Executor, rows: readonly Rows[T][]) => Promise<void> } = {
  events: prepareInsert("events"),
  instances: prepareInsert("instances"),
  attempts: prepareInsert("attempts"),
};

/** The rows waiting in each transaction open now, by table, in the order the tables came. */
const waiting = new WeakMap<Executor, Map<Table, unknown[]>>();

/** Runs `work` in `trx`, keeping its inserts (`insertBehind`) until it is done, then writing them. */
export async function writingBehind<T>(trx: Executor, work: (trx: Executor) => Promise<T>): Promise<T> {
  const tables = new Map<Table, unknown[]>();
  waiting.set(trx, tables);
  try {
    const result = await work(trx);
    // Taken out first: an insert made while these are written goes in at once.
    waiting.delete(trx);
    for (const [table, rows] of tables) await inserts[table](trx, rows as never);
    return result;
  } finally {
    waiting.delete(trx);
  }
}

/** Inserts `rows` into `table` when the transaction's work is done, or now outside `writingBehind`. */
export async function insertBehind<T extends Table>(db: Executor, table: T, rows: readonly Rows[T][]): Promise<void> {
  const tables = waiting.get(db);
  if (!tables) return inserts[table](db, rows);
  const list = tables.get(table);
  if (list) for (const row of rows) list.push(row);
  else tables.set(table, [...rows]);
}
