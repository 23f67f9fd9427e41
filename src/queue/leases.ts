/** The queue's leases: given back at shutdown, renewed while attempts run. */
import type { Executor } from "../db/schema.js";

/** Gives a claimed instance back untouched (shutdown mid-attempt): it is due again at once. */
export async function releaseLease(db: Executor, instanceId: string, leaseToken: string, now: number): Promise<void> {
  await db
    .updateTable("instances")
    .set({ lease_until: null, lease_token: null, next_attempt_at: now })
    .where("id", "=", instanceId)
    .where("lease_token", "=", leaseToken)
    .execute();
}

/**
 * Extends the leases of the claims still in flight to `until`, so an attempt that runs long (a slow
 * receiver, a record waiting for the database) is not claimed a second time by another worker.
 * Only rows still leased under these tokens move: a lease already lost stays lost, and its
 * completion will be dropped. Returns how many leases were renewed.
 */
export async function renewLeases(db: Executor, tokens: readonly string[], until: number): Promise<number> {
  if (tokens.length === 0) return 0;
  const result = await db
    .updateTable("instances")
    .set({ lease_until: until, next_attempt_at: until })
    .where("lease_token", "in", tokens)
    .where("lease_until", "is not", null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}
