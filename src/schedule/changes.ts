/**
 * Later events about an appointment cancel or move the instances still waiting for it, in the
 * ingest's transaction. The rules (docs/API.md, "Scheduled instances: what cancels or moves them"):
 *  - event.deleted, or event.updated with is_deleted true: every waiting instance of the appointment is canceled;
 *  - event.updated: those timed from the appointment's start or end are due again from the new time;
 *  - participant.not_coming / needs_reschedule / canceled_booking: that participant's are canceled.
 * "Waiting": pending, never attempted, not leased, due in the future (shown as `scheduled`).
 */
import { sql } from "kysely";
import { type AppointmentRef, appointmentTime } from "../catalogue/appointments.js";
import { valueAt } from "../catalogue/fields.js";
import type { TriggerTypeName } from "../catalogue/trigger-types.js";
import type { Executor, UnitTx } from "../db/schema.js";
import { scheduleOf } from "./plan.js";
import { dueTime, instantAt, outOfQuietHours, quietWindow } from "./timing.js";

type Rule = { cancel: "appointment" | "participant" } | { move: true };

const PARTICIPANT_GONE: Rule = { cancel: "participant" };
const RULES: Readonly<Partial<Record<TriggerTypeName, Rule>>> = {
  "event.deleted": { cancel: "appointment" },
  "event.updated": { move: true },
  "participant.not_coming": PARTICIPANT_GONE,
  "participant.needs_reschedule": PARTICIPANT_GONE,
  "participant.canceled_booking": PARTICIPANT_GONE,
};

/** What an event of `type` does to its appointment's waiting instances; undefined: nothing (no query is made). */
export function ruleFor(type: TriggerTypeName, data: unknown): Rule | undefined {
  const rule = RULES[type];
  if (rule && "move" in rule && instantDeleted(data)) return { cancel: "appointment" };
  return rule;
}

const instantDeleted = (data: unknown): boolean => valueAt(data, "event.is_deleted") === true;

export interface ChangedEvent {
  type: TriggerTypeName;
  data: unknown;
  ref: AppointmentRef;
}

/** Cancels or moves the appointment's waiting instances as `event` says; returns how many changed. */
export async function applyToWaiting(trx: UnitTx, accountId: string, event: ChangedEvent, now: number): Promise<number> {
  const rule = ruleFor(event.type, event.data);
  const { appointment, participant } = event.ref;
  if (!rule || appointment === null) return 0;
  if ("cancel" in rule && rule.cancel === "participant" && participant === null) return 0;
  const only = "cancel" in rule && rule.cancel === "participant" ? participant : null;
  const waiting = await waitingQuery(trx, accountId, appointment, only, now).execute();
  if (waiting.length === 0) return 0;
  if ("cancel" in rule) {
    const whose = rule.cancel === "participant" ? `participant ${participant} of appointment ${appointment}` : `appointment ${appointment}`;
    await stillWaiting(
      trx,
      now,
      waiting.map((w) => w.id),
    )
      .set({ state: "canceled", reason: `canceled: ${event.type} for ${whose}`, updated_at: now })
      .execute();
    return waiting.length;
  }
  let moved = 0;
  for (const w of waiting) {
    const schedule = scheduleOf(w);
    const which = schedule.timing?.at ? appointmentTime(w.objectKey, schedule.timing.at) : undefined;
    const base = which && instantAt(event.data, `event.${which}`);
    if (!base) continue;
    const due = dueTime(schedule.timing, base, now);
    const change =
      "skipped" in due
        ? { state: "skipped" as const, reason: `${due.skipped} (moved by ${event.type})` }
        : movedTo(due.dueAt, due.reason, schedule.quietHours && w.quietZone ? quietWindow(schedule.quietHours, w.quietZone) : undefined, event.type);
    if ("next_attempt_at" in change && change.next_attempt_at === Number(w.dueAt)) continue;
    await stillWaiting(trx, now, [w.id])
      .set({ ...change, updated_at: now })
      .execute();
    moved++;
  }
  return moved;
}

function movedTo(dueAt: number, reason: string | null, window: Parameters<typeof outOfQuietHours>[1], type: string) {
  const out = outOfQuietHours(dueAt, window);
  return { next_attempt_at: out.dueAt, reason: [reason, out.quiet, `moved by ${type}`].filter((r) => r).join("; ") };
}

/**
 * The appointment's waiting instances (of one participant, when given), with their actions' schedules:
 * found through the partial index `instances_appointment` (migration 009), however many are scheduled.
 */
export function waitingQuery(db: Executor, accountId: string, appointment: string, participant: string | null, now: number) {
  let query = db
    .selectFrom("instances")
    .innerJoin("actions", "actions.id", "instances.action_id")
    .select([
      "instances.id as id",
      "instances.object_key as objectKey",
      "instances.quiet_zone as quietZone",
      "instances.next_attempt_at as dueAt",
      "actions.timing as timing",
      "actions.quiet_hours as quiet_hours",
    ])
    .where("instances.account_id", "=", accountId)
    .where("instances.appointment", "=", appointment)
    // The partial index's predicate as its literal (SQLite uses a partial index only then).
    .where(sql<boolean>`state = 'pending'`)
    .where("instances.attempts", "=", 0)
    .where("instances.lease_token", "is", null)
    .where("instances.next_attempt_at", ">", now);
  if (participant !== null) query = query.where("instances.participant", "=", participant);
  return query;
}

/** An update of these instances that takes effect only while they still wait (a claim may have taken one meanwhile). */
function stillWaiting(trx: UnitTx, now: number, ids: readonly string[]) {
  return trx
    .updateTable("instances")
    .where("id", "in", ids)
    .where("state", "=", "pending")
    .where("attempts", "=", 0)
    .where("lease_token", "is", null)
    .where("next_attempt_at", ">", now);
}
