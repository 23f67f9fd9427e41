/**
 * The log: each action's instances, newest first by default, filterable by outcome and sortable by
 * any column, with keyset (cursor) pagination that stays fast however long the log grows; one
 * instance in detail with its payload and every attempt; resend.
 */
import { type Expression, type ExpressionBuilder, type SqlBool, sql } from "kysely";
import { z } from "zod";
import { requireAction } from "../actions/actions.js";
import type { AttemptRow, Database, Executor, InstanceRow } from "../db/schema.js";
import { ConflictError, NotFoundError, ValidationError } from "../errors.js";
import { getInstanceRow } from "../instances/instances.js";
import { buildPayload } from "../instances/payload.js";
import { iso } from "../iso.js";

export const SORT_COLUMNS = ["created_at", "updated_at", "state", "sent", "delivered", "attempts", "trigger_type", "last_status"] as const;
type SortColumn = (typeof SORT_COLUMNS)[number];

export const LogQuery = z.strictObject({
  outcome: z
    .enum(["succeeded", "failed", "pending", "scheduled", "canceled", "skipped", "suppressed"])
    .optional()
    .describe("pending: not finished (scheduled ones included); scheduled: waiting for a due time in the future"),
  sort: z.enum(SORT_COLUMNS).default("created_at"),
  order: z.enum(["asc", "desc"]).default("desc"),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(500).optional(),
});
export type LogQuery = z.output<typeof LogQuery>;

export const InstanceOut = z.object({
  id: z.string().describe("The instance id: the payload's apptoto_id and the webhook-id header"),
  action_id: z.string(),
  event_id: z.string(),
  trigger_type: z.string(),
  event_type: z.string(),
  state: z
    .enum(["pending", "retrying", "succeeded", "failed", "canceled", "skipped", "suppressed", "scheduled"])
    .describe(
      "scheduled: pending, not yet attempted, due in the future (scheduled_for); canceled, skipped and suppressed (a message whose recipient is on the stop list) are final, with a reason",
    ),
  sent: z.boolean(),
  delivered: z.boolean(),
  attempts: z.number().int(),
  last_status: z.number().int().nullable(),
  last_error: z.string().nullable(),
  test: z.boolean().describe("A test send (POST /api/v1/actions/{id}/test): left out of the action's stats and failing flag"),
  next_attempt_at: z.string().nullable(),
  scheduled_for: z.string().nullable().describe("When a scheduled instance falls due; null otherwise"),
  reason: z
    .string()
    .nullable()
    .describe(
      'Why it waits, or ended as it did: "24 h before event.start_time", "quiet hours until 08:00 America/New_York", "canceled: event.deleted for appointment 40211", "+15552013344 is on the stop list since …"',
    ),
  created_at: z.string(),
  updated_at: z.string(),
});
export type InstanceOut = z.output<typeof InstanceOut>;

export const AttemptOut = z.object({
  id: z.string(),
  series: z.number().int(),
  number: z.number().int(),
  started_at: z.string(),
  duration_ms: z.number().int(),
  outcome: z.enum(["succeeded", "retry", "failed", "suppressed"]),
  request: z
    .record(z.string(), z.unknown())
    .describe(
      "What was sent. webhook: method, url, headers (custom header values redacted), body (the instance's payload); sms: method, url, headers (credentials redacted), form (To, From or MessagingServiceSid, Body, StatusCallback); email: envelope, subject, text. A message refused before sending shows as much as could be rendered",
    ),
  response: z.object({ status: z.number().int(), headers: z.record(z.string(), z.unknown()), body: z.string(), truncated: z.boolean() }).nullable(),
  error: z.string().nullable(),
});

export const InstanceDetailOut = InstanceOut.extend({
  payload: z.unknown(),
  attempt_log: z.array(AttemptOut),
});
export type InstanceDetailOut = z.output<typeof InstanceDetailOut>;

export const LogOut = z.object({ data: z.array(InstanceOut), next_cursor: z.string().nullable() });

/** Pending, never attempted, not leased, due in the future: waiting for its time (stored as pending, so the claim path is untouched). */
export function isScheduled(row: Pick<InstanceRow, "state" | "attempts" | "lease_until" | "next_attempt_at">, now: number): boolean {
  return row.state === "pending" && row.attempts === 0 && row.lease_until === null && Number(row.next_attempt_at) > now;
}

export function instanceOut(row: InstanceRow, now: number): InstanceOut {
  const unfinished = row.state === "pending" || row.state === "retrying";
  const scheduled = isScheduled(row, now);
  return {
    id: row.id,
    action_id: row.action_id,
    event_id: row.event_id,
    trigger_type: row.trigger_type,
    event_type: row.event_type,
    state: scheduled ? "scheduled" : row.state,
    sent: row.sent === 1,
    delivered: row.delivered === 1,
    attempts: row.attempts,
    last_status: row.last_status,
    last_error: row.last_error,
    test: row.test === 1,
    next_attempt_at: unfinished ? iso(row.next_attempt_at) : null,
    scheduled_for: scheduled ? iso(row.next_attempt_at) : null,
    reason: row.reason,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

// Nulls sort as 0 so that keyset comparisons stay total.
const sortExpression = (column: SortColumn): Expression<unknown> => (column === "last_status" ? sql`coalesce(last_status, 0)` : sql.ref(column));

type CursorValue = string | number;
function encodeCursor(value: CursorValue, id: string): string {
  return Buffer.from(JSON.stringify([value, id])).toString("base64url");
}
function decodeCursor(cursor: string): [CursorValue, string] {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown;
    if (Array.isArray(parsed) && parsed.length === 2 && (typeof parsed[0] === "string" || typeof parsed[0] === "number") && typeof parsed[1] === "string") {
      return [parsed[0], parsed[1]];
    }
  } catch {}
  throw new ValidationError("cursor: not a cursor returned by this endpoint");
}

export async function listLog(db: Executor, accountId: string, actionId: string, query: LogQuery, now: number) {
  await requireAction(db, accountId, actionId);
  const expr = sortExpression(query.sort);
  const cmp = query.order === "desc" ? "<" : ">";
  let q = db.selectFrom("instances").selectAll().where("account_id", "=", accountId).where("action_id", "=", actionId);
  if (query.outcome === "pending") q = q.where("state", "in", ["pending", "retrying"]);
  else if (query.outcome === "scheduled")
    q = q.where("state", "=", "pending").where("attempts", "=", 0).where("lease_until", "is", null).where("next_attempt_at", ">", now);
  else if (query.outcome) q = q.where("state", "=", query.outcome);
  if (query.cursor) {
    const [value, id] = decodeCursor(query.cursor);
    q = q.where((eb) => eb.or([eb(expr, cmp, value), eb.and([eb(expr, "=", value), eb("id", cmp, id)])]) as Expression<SqlBool>);
  }
  const rows = await q
    .orderBy(expr, query.order)
    .orderBy("id", query.order)
    .limit(query.limit + 1)
    .execute();
  const page = rows.slice(0, query.limit);
  const last = page[page.length - 1];
  const nextCursor =
    rows.length > query.limit && last
      ? encodeCursor(query.sort === "last_status" ? (last.last_status ?? 0) : (last[query.sort] as CursorValue), last.id)
      : null;
  return { data: page.map((row) => instanceOut(row, now)), next_cursor: nextCursor };
}

/** `webhookBody`: a webhook attempt's body, the instance's payload (the same on every attempt, so not stored per attempt). */
function attemptOut(row: AttemptRow, webhookBody: string | undefined): z.output<typeof AttemptOut> {
  const request = JSON.parse(row.request) as Record<string, unknown>;
  return {
    id: row.id,
    series: row.series,
    number: row.number,
    started_at: iso(row.started_at),
    duration_ms: row.duration_ms,
    outcome: row.outcome,
    request: webhookBody !== undefined && request.method === "POST" ? { ...request, body: webhookBody } : request,
    response:
      row.response_status === null
        ? null
        : {
            status: row.response_status,
            headers: JSON.parse(row.response_headers ?? "{}") as Record<string, unknown>,
            body: row.response_body ?? "",
            truncated: row.response_body_truncated === 1,
          },
    error: row.error,
  };
}

export async function getInstanceDetail(db: Executor, accountId: string, id: string, now: number): Promise<InstanceDetailOut> {
  let row = await getInstanceRow(db, accountId, id);
  if (!row) throw new NotFoundError("instance", id);
  const event = await db.selectFrom("events").select("object").where("id", "=", row.event_id).executeTakeFirstOrThrow();
  const action = await db.selectFrom("actions").select("type").where("id", "=", row.action_id).executeTakeFirstOrThrow();
  const payload = buildPayload(row.object_key, event.object, row.id);
  const webhookBody = action.type === "webhook" ? payload : undefined;
  const attempts = await db.selectFrom("attempts").selectAll().where("instance_id", "=", id).orderBy("id").execute();
  // Separate reads, not one snapshot: an attempt committed after the row was read (with the row's new
  // state, in one transaction) would show beside the state from before it. Read the row again then.
  if (attempts.length > row.attempts) row = (await getInstanceRow(db, accountId, id)) ?? row;
  return { ...instanceOut(row, now), payload: JSON.parse(payload), attempt_log: attempts.map((a) => attemptOut(a, webhookBody)) };
}

/** A new attempt series for a finished instance: due now, same id (apptoto_id), attempts kept in the log. */
const newSeries = (now: number) => (eb: ExpressionBuilder<Database, "instances">) => ({
  state: "pending" as const,
  delivered: 0 as const,
  series: eb("series", "+", 1),
  series_attempts: 0,
  next_attempt_at: now,
  lease_until: null,
  reason: null,
  updated_at: now,
});

/**
 * What can be resent: whatever has finished, canceled and skipped instances too (a resend runs now),
 * and a suppressed message, once its recipient is off the stop list.
 */
const RESENDABLE = ["succeeded", "failed", "canceled", "skipped", "suppressed"] as const;

/**
 * Resend: a new attempt series for a finished instance (canceled or skipped too), same apptoto_id (so receivers can still
 * de-duplicate). An instance still being delivered cannot be resent: 409.
 */
export async function resendInstance(db: Executor, accountId: string, id: string, now: number): Promise<InstanceOut> {
  const result = await db
    .updateTable("instances")
    .set(newSeries(now))
    .where("account_id", "=", accountId)
    .where("id", "=", id)
    .where("state", "in", RESENDABLE)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) {
    const row = await getInstanceRow(db, accountId, id);
    if (!row) throw new NotFoundError("instance", id);
    throw new ConflictError(`instance ${id} is ${row.state}; only ${RESENDABLE.join(", ")} instances can be resent`);
  }
  const row = await getInstanceRow(db, accountId, id);
  return instanceOut(row as InstanceRow, now);
}

export const RecoverIn = z.strictObject({
  since: z.iso.datetime({ offset: true }),
  until: z.iso.datetime({ offset: true }).optional(),
});
export type RecoverIn = z.output<typeof RecoverIn>;
export const RecoverOut = z.object({ recovered: z.number().int() });

/**
 * Bulk recovery after an outage: every failed instance of the action created in [since, until)
 * gets a new attempt series (same apptoto_id). Test sends are not deliveries to recover. They show as pending in the log, then as they go.
 */
export async function recoverFailed(db: Executor, accountId: string, actionId: string, input: RecoverIn, now: number): Promise<{ recovered: number }> {
  await requireAction(db, accountId, actionId);
  const since = Date.parse(input.since);
  const until = input.until ? Date.parse(input.until) : now;
  if (until <= since) throw new ValidationError("until: must be after since");
  const result = await db
    .updateTable("instances")
    .set(newSeries(now))
    .where("account_id", "=", accountId)
    .where("action_id", "=", actionId)
    .where("state", "=", "failed")
    .where("test", "=", 0)
    .where("created_at", ">=", since)
    .where("created_at", "<", until)
    .executeTakeFirst();
  return { recovered: Number(result.numUpdatedRows) };
}
