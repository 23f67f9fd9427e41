/**
 * Retention: finished instances (with their attempts) and the events no instance needs any more are
 * deleted once older than HOOKLINE_RETENTION_DAYS, a small batch per transaction so pruning never
 * holds up ingest or delivery for long. Unfinished instances are never pruned, whatever their age.
 */
import type { Logger } from "pino";
import type { Committer } from "../db/committer.js";
import { pause } from "../pause.js";

export const PRUNE_BATCH = 500;

/** The final states: canceled, skipped (schedule/) and suppressed (stop list) instances are pruned as delivered or failed ones are. */
const FINISHED = ["succeeded", "failed", "canceled", "skipped", "suppressed"] as const;

export interface RetentionDeps {
  committer: Committer;
  retentionMs: number;
  logger: Logger;
  now?: () => number;
  /** Pause between passes; a pass that found a full batch goes on at once. */
  intervalMs?: number;
}

/** Deletes one batch; returns how many instances and events went. */
export async function pruneOnce(committer: Committer, cutoff: number): Promise<{ instances: number; events: number }> {
  return committer.run(async (trx) => {
    const old = await trx.selectFrom("instances").select("id").where("state", "in", FINISHED).where("updated_at", "<", cutoff).limit(PRUNE_BATCH).execute();
    const ids = old.map((r) => r.id);
    if (ids.length > 0) {
      await trx.deleteFrom("attempts").where("instance_id", "in", ids).execute();
      await trx.deleteFrom("instances").where("id", "in", ids).execute();
    }
    const orphans = await trx
      .selectFrom("events")
      .select("id")
      .where("created_at", "<", cutoff)
      .where((eb) => eb.not(eb.exists(eb.selectFrom("instances").select("instances.id").whereRef("instances.event_id", "=", "events.id"))))
      .limit(PRUNE_BATCH)
      .execute();
    if (orphans.length > 0)
      await trx
        .deleteFrom("events")
        .where(
          "id",
          "in",
          orphans.map((r) => r.id),
        )
        .execute();
    return { instances: ids.length, events: orphans.length };
  });
}

export function createRetention(deps: RetentionDeps) {
  const now = deps.now ?? Date.now;
  const intervalMs = deps.intervalMs ?? Math.min(60_000, Math.max(1_000, deps.retentionMs / 10));
  return {
    name: "retention",
    async run(signal: AbortSignal): Promise<void> {
      while (!signal.aborted) {
        let full = false;
        try {
          const pruned = await pruneOnce(deps.committer, now() - deps.retentionMs);
          full = pruned.instances === PRUNE_BATCH || pruned.events === PRUNE_BATCH;
          if (pruned.instances + pruned.events > 0) deps.logger.debug(pruned, "pruned old log entries");
        } catch (err) {
          deps.logger.error({ err }, "could not prune old log entries");
        }
        if (full) continue;
        await pause(intervalMs, signal);
      }
    },
  };
}
