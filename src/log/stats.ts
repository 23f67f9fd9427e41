/**
 * Per-action figures for the UI's charts: attempts per hour and the success rate, over a window.
 * Real deliveries only: test sends (POST /actions/{id}/test) are left out.
 */
import { sql } from "kysely";
import { z } from "zod";
import { requireAction } from "../actions/actions.js";
import type { Executor } from "../db/schema.js";
import { iso } from "../iso.js";

export const StatsQuery = z.strictObject({ hours: z.coerce.number().int().min(1).max(168).default(24) });
export const StatsOut = z.object({
  since: z.string(),
  /** Finished instances of the window that succeeded, 0-1; null when none finished. */
  success_rate: z.number().nullable(),
  instances: z.object({
    succeeded: z.number(),
    failed: z.number(),
    pending: z.number(),
    suppressed: z.number().describe("Messages not sent because their recipient is on the stop list: no failure, left out of success_rate"),
  }),
  /** One bucket per hour, oldest first: attempts by outcome. */
  hourly: z.array(z.object({ hour: z.string(), succeeded: z.number(), retry: z.number(), failed: z.number(), suppressed: z.number() })),
});
export type StatsOut = z.output<typeof StatsOut>;

const HOUR = 3600_000;

export async function actionStats(db: Executor, accountId: string, actionId: string, hours: number, now: number): Promise<StatsOut> {
  await requireAction(db, accountId, actionId);
  const firstHour = Math.floor(now / HOUR) - hours + 1;
  const since = firstHour * HOUR;
  const attempts = await db
    .selectFrom("attempts")
    .innerJoin("instances", "instances.id", "attempts.instance_id")
    .select([sql<number>`attempts.started_at / ${sql.lit(HOUR)}`.as("hour"), "attempts.outcome", (eb) => eb.fn.countAll<number>().as("n")])
    .where("instances.action_id", "=", actionId)
    .where("instances.test", "=", 0)
    .where("attempts.started_at", ">=", since)
    .groupBy([sql`attempts.started_at / ${sql.lit(HOUR)}`, "attempts.outcome"])
    .execute();
  const hourly = Array.from({ length: hours }, (_, i) => ({ hour: iso((firstHour + i) * HOUR), succeeded: 0, retry: 0, failed: 0, suppressed: 0 }));
  for (const row of attempts) {
    const bucket = hourly[Math.floor(Number(row.hour)) - firstHour];
    if (bucket) bucket[row.outcome] += Number(row.n);
  }
  const states = await db
    .selectFrom("instances")
    .select(["state", (eb) => eb.fn.countAll<number>().as("n")])
    .where("action_id", "=", actionId)
    .where("test", "=", 0)
    .where("created_at", ">=", since)
    .groupBy("state")
    .execute();
  const count = (...names: string[]) => states.filter((s) => names.includes(s.state)).reduce((a, s) => a + Number(s.n), 0);
  const instances = { succeeded: count("succeeded"), failed: count("failed"), pending: count("pending", "retrying"), suppressed: count("suppressed") };
  const finished = instances.succeeded + instances.failed;
  return { since: iso(since), success_rate: finished === 0 ? null : instances.succeeded / finished, instances, hourly };
}
