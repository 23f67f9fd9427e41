/**
 * An instance's schedule at ingest: when it is due and why, or that it is skipped. Ingest stores
 * what this says; a future due time keeps the instance pending (shown as `scheduled`) for the
 * claim to take when due.
 */

import { perTransaction } from "../db/per-transaction.js";
import type { Executor } from "../db/schema.js";
import { memoize } from "../memo.js";
import type { QuietWindow } from "./quiet-hours.js";
import { dueTime, instantAt, outOfQuietHours, type QuietHours, QuietHoursSchema, quietWindow, quietZone, type Timing, TimingSchema } from "./timing.js";

/** An action's schedule settings, parsed. */
export interface Schedule {
  timing: Timing | null;
  quietHours: QuietHours | null;
}

export type Planned =
  | { state: "pending"; dueAt: number; reason: string | null; quietZone: string | null }
  | { state: "skipped"; reason: string; quietZone: string | null };

/** The account's time zone, read once per account for the life of one transaction (accounts are written outside the committer). */
export const accountZoneReader = perTransaction((db, accountId) =>
  db
    .selectFrom("accounts")
    .select("time_zone")
    .where("id", "=", accountId)
    .executeTakeFirst()
    .then((row) => row?.time_zone ?? "UTC"),
);

/** Parses an action's stored timing and quiet hours (JSON columns, validated when saved). */
export function scheduleOf(row: { timing: string | null; quiet_hours: string | null }): Schedule {
  return {
    timing: row.timing === null ? null : TimingSchema.parse(JSON.parse(row.timing)),
    quietHours: row.quiet_hours === null ? null : QuietHoursSchema.parse(JSON.parse(row.quiet_hours)),
  };
}

/** An action with neither timing nor quiet hours runs at once whatever the event: ingest plans nothing for it. */
export const runsAtOnce = (schedule: Schedule): boolean => schedule.timing === null && schedule.quietHours === null;

/** An instance's schedule for an event's `data` at `now`, for an action that does not run at once (`runsAtOnce`). */
export async function planInstance(db: Executor, accountId: string, schedule: Schedule, data: unknown, now: number): Promise<Planned> {
  const zone = schedule.quietHours && quietZone(schedule.quietHours, data, await accountZoneReader(db)(accountId));
  const base = schedule.timing?.at ? instantAt(data, schedule.timing.at) : undefined;
  const due = dueTime(schedule.timing, base, now);
  if ("skipped" in due) return { state: "skipped", reason: due.skipped, quietZone: zone };
  const moved = outOfQuietHours(due.dueAt, schedule.quietHours && zone ? quietWindow(schedule.quietHours, zone) : undefined);
  const reason = [due.reason, moved.quiet].filter((r) => r).join("; ");
  return { state: "pending", dueAt: moved.dueAt, reason: reason || null, quietZone: zone };
}

/** Parsed once per distinct stored settings and zone, not once per claimed instance. */
const windowOf = memoize((key: string): QuietWindow => {
  const [quietHours = "", zone = ""] = key.split("\n");
  return quietWindow(QuietHoursSchema.parse(JSON.parse(quietHours)), zone);
}, 1_000);

/** The quiet window of an action's stored quiet hours in an instance's zone; null when either is missing. */
export function storedQuietWindow(quietHours: string | null, zone: string | null): QuietWindow | null {
  if (quietHours === null || zone === null) return null;
  return windowOf(`${quietHours}\n${zone}`);
}

/** The window an instance planned at ingest keeps for its retries. */
export function plannedQuietWindow(schedule: Schedule, planned: Planned | undefined): QuietWindow | null {
  return schedule.quietHours && planned?.quietZone ? quietWindow(schedule.quietHours, planned.quietZone) : null;
}

/** Whether a planned instance waits (skipped, or due later): it is not handed to the worker at ingest. */
export const waits = (planned: Planned | undefined, now: number): boolean => planned !== undefined && (planned.state === "skipped" || planned.dueAt > now);
