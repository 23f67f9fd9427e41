/**
 * The delivery queue: instances offered at ingest (offer.ts), claimed by a worker under a lease
 * (claim.ts), their leases renewed while attempts run and given back at shutdown (leases.ts), and
 * completed by their attempts' records (complete.ts). Only this folder knows the instances'
 * prepared statements, writes behind and per-transaction reads; its users declare the part they use
 * (deliver/claim-loop.ts `ClaimQueue`, deliver/attempt.ts `ReleaseQueue`, deliver/worker.ts
 * `WorkerQueue`). Ingest and the attempt recorder run inside a committer unit and call offer.ts and
 * complete.ts with the unit's transaction; the worker's operations below run their own commits.
 */
import type { Committer } from "../db/committer.js";
import type { Db } from "../db/schema.js";
import { type ClaimedInstance, type ClaimQuery, type ClaimResult, claimDue, nextDueAt } from "./claim.js";
import { releaseLease, renewLeases } from "./leases.js";

export interface QueueDeps {
  db: Db;
  /** Claims, renewals and releases share commits with ingest and attempt records. */
  committer: Pick<Committer, "run">;
  /** Lock claimed rows (FOR UPDATE SKIP LOCKED): the database is shared with other workers. */
  lockClaims: boolean;
}

/** The queue as a worker uses it: each call one unit of the committer. */
export interface Queue {
  /** Leases what is due and fits `query` to its token. */
  claim(query: ClaimQuery): Promise<ClaimResult>;
  /** When the next unfinished instance falls due (undefined: none). */
  nextDueAt(): Promise<number | undefined>;
  /** Extends the leases of these claims to `until`; how many moved. */
  renew(tokens: readonly string[], until: number): Promise<number>;
  /** Gives a claimed instance back untouched, due again at `now`. */
  release(instance: Pick<ClaimedInstance, "id" | "leaseToken">, now: number): Promise<void>;
}

export function createQueue({ db, committer, lockClaims }: QueueDeps): Queue {
  return {
    // Sending needs the lease visible, not on disk: a lease lost with the machine means the instance
    // is claimed again after a restart, as it would be had the process died mid-attempt.
    claim: (query) => committer.run((trx) => claimDue(trx, query, lockClaims), { durable: false }),
    nextDueAt: () => nextDueAt(db),
    renew: (tokens, until) => committer.run((trx) => renewLeases(trx, tokens, until), { durable: false }),
    release: (instance, now) => committer.run((trx) => releaseLease(trx, instance.id, instance.leaseToken, now)),
  };
}
