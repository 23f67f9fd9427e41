/**
 * Instances as the API and the providers' callbacks see them: one instance's row, and a provider's
 * later word on a message it sent. The delivery queue's own reads and writes are in src/queue.
 */
import type { Executor, InstanceRow } from "../db/schema.js";

/**
 * What a provider's status callback found: `applied` to a sent instance; `in flight` when the
 * attempt that sent the message is still leased and not yet recorded (the callback raced its
 * record); `settled` when the instance is in no state the callback changes (failed already, or
 * waiting for a retry); `unknown` when there is no such instance.
 */
export type ProviderStatusOutcome = "applied" | "in flight" | "settled" | "unknown";

/**
 * A provider's later word on a message it accepted (SMS status callback): delivered, or failed
 * after all. Only a succeeded instance changes; anything else is left, and the outcome says why.
 */
export async function applyProviderStatus(
  db: Executor,
  id: string,
  status: { delivered: true } | { delivered: false; error: string },
  now: number,
): Promise<ProviderStatusOutcome> {
  const row = await db.selectFrom("instances").select(["state", "lease_until"]).where("id", "=", id).executeTakeFirst();
  if (!row) return "unknown";
  if (row.state !== "succeeded") {
    const leased = row.lease_until !== null && Number(row.lease_until) > now;
    return (row.state === "pending" || row.state === "retrying") && leased ? "in flight" : "settled";
  }
  await db
    .updateTable("instances")
    .set(status.delivered ? { delivered: 1, updated_at: now } : { state: "failed", delivered: 0, last_error: status.error, updated_at: now })
    .where("id", "=", id)
    .where("state", "=", "succeeded")
    .execute();
  return "applied";
}

export async function getInstanceRow(db: Executor, accountId: string, id: string): Promise<InstanceRow | undefined> {
  return db.selectFrom("instances").selectAll().where("account_id", "=", accountId).where("id", "=", id).executeTakeFirst();
}
