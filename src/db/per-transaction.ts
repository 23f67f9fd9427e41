/**
 * Reads shared by the units of one committer transaction. The committer commits many units (an
 * ingest request, an attempt's record) in one transaction, and they often read the same rows: a
 * commit shared by 30 single-event ingests matched the same account's triggers 30 times and read
 * the same action 30 times. A read made through `perTransaction` is made once per key for the life
 * of one transaction, and its answer (a promise) shared by that transaction's units.
 *
 * Only for rows the committer's transactions never write — the API writes triggers and actions'
 * settings outside them, and a unit's transaction cannot (schema.ts `Executor`) — so the first
 * read's answer stays the transaction's answer. Outside a
 * transaction (`db`), every reader reads afresh. A unit the committer runs again alone (after its
 * shared transaction failed) runs in a new transaction, and reads again.
 */
import type { Executor } from "./schema.js";

export type Reader<V> = (key: string) => Promise<V>;

export function perTransaction<V>(read: (db: Executor, key: string) => Promise<V>): (db: Executor) => Reader<V> {
  /** The readers of the transactions open now, dropped with their transaction. */
  const readersOf = new WeakMap<Executor, Reader<V>>();
  return (db) => {
    const shared = readersOf.get(db);
    if (shared) return shared;
    const answers = new Map<string, Promise<V>>();
    const reader: Reader<V> = (key) => {
      let answer = answers.get(key);
      if (!answer) {
        answer = read(db, key);
        answers.set(key, answer);
      }
      return answer;
    };
    if (db.isTransaction) readersOf.set(db, reader);
    return reader;
  };
}
