/**
 * The queue's offer: new instances stored by an ingest unit. An instance this process's worker has
 * room for is offered already leased to it (a hand-off), as a claim would leave it; the rest wait
 * for a claim.
 */
import type { NewInstance, UnitTx } from "../db/schema.js";
import { insertBehind } from "../db/write-behind.js";
import { type ActionSending, sendingReader } from "./claim.js";

/** Written with the transaction's other events at its end (db/write-behind.ts). */
export function offer(trx: UnitTx, instances: readonly Required<NewInstance>[]): Promise<void> {
  return insertBehind(trx, "instances", instances);
}

/**
 * What an instance handed over needs of its action, read once per action per transaction, as a
 * claim reads it (claim.ts `sendingReader`). Deleted meanwhile, the unit fails, as its instance's
 * insert would.
 */
export function handOverSending(trx: UnitTx, actionId: string): Promise<ActionSending> {
  return sendingReader(trx)(actionId);
}
