/**
 * Ingest: the platform tells Hookline what happened. An event is validated against the catalogue,
 * then — in ONE transaction — stored with one instance per enabled action of every trigger it fires.
 * The answer (202) is sent only after that transaction is durably committed; concurrent requests
 * share commits through the batcher. An instance this process's worker has room for is born leased
 * to it and handed over once committed (Worker.reserve).
 */
import { isDeepStrictEqual } from "node:util";
import { SpanStatusCode, type Tracer } from "@opentelemetry/api";
import { z } from "zod";
import { type AppointmentRef, appointmentOf } from "../catalogue/appointments.js";
import { type TriggerTypeName, triggerType, triggerTypeSchema } from "../catalogue/trigger-types.js";
import type { Committer } from "../db/committer.js";
import type { Flag, NewEvent, NewInstance, UnitTx } from "../db/schema.js";
import { insertBehind } from "../db/write-behind.js";
import { IdempotencyConflictError } from "../errors.js";
import type { IdGenerator } from "../ids.js";
import { type FiredAction, findFiredActions } from "../match/match.js";
import type { Metrics } from "../metrics/metrics.js";
import type { ClaimedInstance } from "../queue/claim.js";
import { handOverSending, offer } from "../queue/offer.js";
import { applyToWaiting } from "../schedule/changes.js";
import { planInstance, plannedQuietWindow, runsAtOnce, waits } from "../schedule/plan.js";
import type { QuietWindow } from "../schedule/quiet-hours.js";
import { applyStopListChanges, changesStopList, type StopListChange } from "../stoplist/stop-list.js";
import { parseInput } from "../validation.js";

export const MAX_BATCH_EVENTS = 500;

/** The envelope; `data` is checked against the type's schema once the type is known. */
const EventEnvelope = z.strictObject({
  type: triggerTypeSchema,
  data: z.record(z.string(), z.unknown(), { error: "data must be an object: {<object key>: …}" }),
  idempotency_key: z.string().min(1).max(255).optional(),
});

export const EventIn = EventEnvelope.describe("An event: `type` from the catalogue and `data` holding the type's object under its object key");
export const EventBatchIn = z.strictObject({ events: z.array(z.unknown()).min(1).max(MAX_BATCH_EVENTS) });
export const EventOut = z.object({ id: z.string(), instances: z.number().int(), duplicate: z.boolean() });
export type EventOut = z.output<typeof EventOut>;

export interface ValidEvent {
  type: TriggerTypeName;
  objectKey: string;
  /** The object, serialised once here and stored as-is. */
  objectJson: string;
  /** As validated: what triggers' conditions, timings and quiet hours read, without parsing the JSON again. */
  data: Record<string, unknown>;
  /** The appointment and participant it concerns (catalogue/appointments.ts). */
  ref: AppointmentRef;
  idempotencyKey: string | undefined;
  /** Where the request holds it (`events[3]`; empty for a single event), for errors naming it. */
  path: string;
}

/** Validates one event; errors name the path from `root` (e.g. `events[3].data.participant.id`). */
export function validateEvent(body: unknown, root = ""): ValidEvent {
  const envelope = parseInput(EventEnvelope, body, root);
  const entry = triggerType(envelope.type);
  const data = parseInput(entry.schema, envelope.data, root ? `${root}.data` : "data") as Record<string, unknown>;
  return {
    type: envelope.type,
    objectKey: entry.objectKey,
    objectJson: JSON.stringify(data[entry.objectKey]),
    data,
    ref: appointmentOf(entry.objectKey, data),
    idempotencyKey: envelope.idempotency_key,
    path: root,
  };
}

export function validateBatch(body: unknown): ValidEvent[] {
  const { events } = parseInput(EventBatchIn, body);
  return events.map((event, i) => validateEvent(event, `events[${i}]`));
}

export interface IngestDeps {
  newId: IdGenerator;
  now: () => number;
  /** New instances are committed (visible) for these actions: wakes the delivery worker. */
  onInstances: (actionIds: readonly string[]) => void;
  /**
   * This process's delivery worker, when it runs one: a new instance it has a free slot for is born
   * leased to it and handed over once committed, without a claim (Worker.reserve).
   */
  reserve?: (actionId: string, accountId: string) => Handoff | undefined;
  metrics?: Metrics;
  tracer?: Tracer;
}

/**
 * A slot reserved in this process's worker for a new instance (IngestDeps.reserve): declared here,
 * where it is used, so ingest depends on no part of delivery. Exactly one of start/cancel takes effect.
 */
export interface Handoff {
  /** The lease the instance is born with. */
  readonly leaseToken: string;
  readonly leaseUntil: number;
  /** The instance is committed (visible): attempt it now. */
  start(instance: ClaimedInstance): void;
  /** It was not committed after all: the slot is free again. */
  cancel(): void;
}

/** An event as stored by a unit, with what the unit does once it is committed. */
export type StoredEvent = EventOut & {
  instanceIds: string[];
  /** Actions of the instances left for a claim. */
  actionIds: string[];
  actionTypes: string[];
  /** Instances born leased to this process's worker: start them once committed. */
  handoffs: { handoff: Handoff; instance: ClaimedInstance }[];
};

/** The rows a unit's events write, queued together once none of them is refused. */
interface Rows {
  events: Required<NewEvent>[];
  instances: Required<NewInstance>[];
  /** Events that change the account's stop list, in order. */
  stopList: StopListChange[];
}

/**
 * Stores a request's events and their instances, or refuses them all, writing nothing, when one
 * reuses an idempotency key for a different event: the refusal is returned, not thrown, so the
 * transaction it shares with other requests' units still commits (a throw would fail it, and the
 * committer would run each of its units again alone). `only`: instead of matching triggers, create
 * the one instance of this action, marked as a test (a test send, which runs even when the action is disabled).
 */
export async function storeEvents(
  trx: UnitTx,
  deps: Pick<IngestDeps, "newId" | "now" | "reserve">,
  accountId: string,
  events: readonly ValidEvent[],
  only?: FiredAction,
): Promise<StoredEvent[] | IdempotencyConflictError> {
  const stored: StoredEvent[] = [];
  const rows: Rows = { events: [], instances: [], stopList: [] };
  const keyed = new Map<string, { event: ValidEvent; stored: StoredEvent }>();
  for (const event of events) {
    const key = event.idempotencyKey;
    const repeat = key === undefined ? undefined : await repeatOf(trx, accountId, key, event, keyed.get(key));
    if (repeat instanceof IdempotencyConflictError) return repeat;
    const out = repeat ?? (await newEvent(trx, deps, accountId, event, rows, only));
    if (key !== undefined && !keyed.has(key)) keyed.set(key, { event, stored: out });
    stored.push(out);
  }
  await applyStopListChanges(trx, accountId, rows.stopList);
  // Written with the transaction's other events at its end (db/write-behind.ts).
  await insertBehind(trx, "events", rows.events);
  await offer(trx, rows.instances);
  return stored;
}

/**
 * A keyed event's answer when its key was used before, by an event stored earlier or by `earlier`
 * in this request: a duplicate of that event when it is the same event, a conflict when not
 * (Stripe's rule: https://docs.stripe.com/api/idempotent_requests); undefined when the key is new.
 */
async function repeatOf(
  trx: UnitTx,
  accountId: string,
  key: string,
  event: ValidEvent,
  earlier: { event: ValidEvent; stored: StoredEvent } | undefined,
): Promise<StoredEvent | IdempotencyConflictError | undefined> {
  const at = `${event.path ? `${event.path}: ` : ""}idempotency_key ${JSON.stringify(key)}`;
  if (earlier) {
    if (sameEvent(earlier.event, event)) return duplicate(earlier.stored.id, earlier.stored.instances);
    return new IdempotencyConflictError(`${at} is also used by ${earlier.event.path} of this batch, with a different type or data`);
  }
  const first = await trx
    .selectFrom("events")
    .select(["id", "type", "object"])
    .where("account_id", "=", accountId)
    .where("idempotency_key", "=", key)
    .executeTakeFirst();
  if (!first) return undefined;
  if (!sameEvent({ type: first.type, objectJson: first.object }, event)) {
    return new IdempotencyConflictError(`${at} was already used by event ${first.id} with a different type or data; a different event needs a key of its own`);
  }
  const count = await trx
    .selectFrom("instances")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("event_id", "=", first.id)
    .executeTakeFirstOrThrow();
  return duplicate(first.id, Number(count.n));
}

/**
 * The same event: the same type and the same object as stored, in any key order (a client's retry
 * may serialise its object anew). Compared only when a key repeats, so ingest pays nothing for it.
 */
function sameEvent(a: { type: string; objectJson: string }, b: ValidEvent): boolean {
  return a.type === b.type && (a.objectJson === b.objectJson || isDeepStrictEqual(JSON.parse(a.objectJson), JSON.parse(b.objectJson)));
}

const duplicate = (id: string, instances: number): StoredEvent => ({
  id,
  instances,
  duplicate: true,
  instanceIds: [],
  actionIds: [],
  actionTypes: [],
  handoffs: [],
});

/**
 * A new event and its instances: their rows added to `rows`, an instance for each action its type
 * fires (`only`: that one action's, a test send), reserved for this process's worker where it has room.
 */
async function newEvent(
  trx: UnitTx,
  deps: Pick<IngestDeps, "newId" | "now" | "reserve">,
  accountId: string,
  event: ValidEvent,
  rows: Rows,
  only: FiredAction | undefined,
): Promise<StoredEvent> {
  const now = deps.now();
  const eventId = deps.newId("evt");
  rows.events.push({
    id: eventId,
    account_id: accountId,
    type: event.type,
    object: event.objectJson,
    idempotency_key: event.idempotencyKey ?? null,
    created_at: now,
  });
  // A test send carries the example payload: it must not change the account's stop list.
  if (!only && changesStopList(event.type)) rows.stopList.push({ type: event.type, objectJson: event.objectJson, at: now });
  const fired = only ? [only] : await findFiredActions(trx, accountId, event.type, event.data);
  // Before this event's own instances exist: they are never what it cancels or moves.
  if (!only) await applyToWaiting(trx, accountId, event, now);
  const test = only ? 1 : 0;
  const out: StoredEvent = { id: eventId, instances: fired.length, duplicate: false, instanceIds: [], actionIds: [], actionTypes: [], handoffs: [] };
  for (const f of fired) {
    const id = deps.newId("ins");
    // A test send runs at once, whatever the action's timing; an action without one costs no await per instance.
    const planned = only || runsAtOnce(f.schedule) ? undefined : await planInstance(trx, accountId, f.schedule, event.data, now);
    const handoff = waits(planned, now) ? undefined : deps.reserve?.(f.actionId, accountId);
    if (handoff) {
      const quiet = plannedQuietWindow(f.schedule, planned);
      out.handoffs.push({ handoff, instance: await handedOver(trx, handoff, id, accountId, f, event, now, test, quiet) });
    } else if (planned?.state !== "skipped") out.actionIds.push(f.actionId);
    rows.instances.push({
      id,
      account_id: accountId,
      action_id: f.actionId,
      event_id: eventId,
      trigger_type: f.triggerType,
      event_type: event.type,
      object_key: event.objectKey,
      state: planned?.state ?? "pending",
      sent: 0,
      delivered: 0,
      attempts: 0,
      series: 1,
      series_attempts: 0,
      // Born leased (claimed) as a claim leaves it: due again when the lease ends, should it be lost.
      next_attempt_at: handoff ? handoff.leaseUntil : planned?.state === "pending" ? planned.dueAt : now,
      lease_until: handoff ? handoff.leaseUntil : null,
      lease_token: handoff ? handoff.leaseToken : null,
      last_status: null,
      last_error: null,
      test,
      reason: planned?.reason ?? null,
      appointment: event.ref.appointment,
      participant: event.ref.participant,
      quiet_zone: planned?.quietZone ?? null,
      created_at: now,
      updated_at: now,
    });
    out.instanceIds.push(id);
    out.actionTypes.push(f.actionType);
  }
  return out;
}

/**
 * A new instance handed over to this process's worker, as a claim would give it. The action's sealed
 * settings and secrets are read only for an instance handed over: under a backlog (no slot free)
 * ingest reads nothing more than it stores. (Deleted meanwhile, the unit fails, its reservations
 * given back, as its instance's insert would.)
 */
async function handedOver(
  trx: UnitTx,
  handoff: Handoff,
  id: string,
  accountId: string,
  f: FiredAction,
  event: ValidEvent,
  now: number,
  test: Flag,
  quiet: QuietWindow | null,
): Promise<ClaimedInstance> {
  const sending = await handOverSending(trx, f.actionId);
  return {
    id,
    accountId,
    actionId: f.actionId,
    actionType: f.actionType as ClaimedInstance["actionType"],
    ...sending,
    objectKey: event.objectKey,
    object: event.objectJson,
    series: 1,
    seriesAttempts: 0,
    attempts: 0,
    createdAt: now,
    test,
    leaseToken: handoff.leaseToken,
    quiet,
  };
}

export type Ingest = (accountId: string, events: ValidEvent[]) => Promise<EventOut[]>;

/** Stores the events of one request atomically (all of them, or none), sharing the commit with concurrent writes. */
export function createIngest(committer: Committer, deps: IngestDeps): Ingest {
  return async (accountId, events) => {
    const span = deps.tracer?.startSpan("hookline.ingest", { attributes: { "hookline.account_id": accountId, "hookline.events": events.length } });
    let stored: StoredEvent[];
    const reservations = deps.reserve && reusableReservations(deps.reserve);
    const unit = { newId: deps.newId, now: deps.now, reserve: reservations?.reserve };
    try {
      const outcome = await committer.run(
        async (trx) => {
          reservations?.rewind();
          return storeEvents(trx, unit, accountId, events);
        },
        {
          // The worker may start on the instances as soon as they are visible; the answer waits for
          // the disk. Should the machine fail in between, the unanswered event is sent again by its
          // client: at least once, still.
          onVisible: (all) => {
            if (all instanceof IdempotencyConflictError) return reservations?.cancelAll();
            for (const e of all) for (const { handoff, instance } of e.handoffs) handoff.start(instance);
            reservations?.cancelUnused();
            const actionIds = all.flatMap((e) => e.actionIds);
            if (actionIds.length > 0) deps.onInstances(actionIds);
          },
        },
      );
      if (outcome instanceof IdempotencyConflictError) throw outcome;
      stored = outcome;
    } catch (error) {
      reservations?.cancelAll();
      span?.recordException(error as Error);
      span?.setStatus({ code: SpanStatusCode.ERROR });
      span?.end();
      throw error;
    }
    // Only a recording span (tracing on) is worth the attributes' work on this hot path.
    if (span?.isRecording())
      span.setAttributes({
        "hookline.instances": stored.reduce((n, e) => n + (e.duplicate ? 0 : e.instances), 0),
        ...(stored.length === 1 && { "hookline.event_id": stored[0]?.id }),
      });
    span?.end();
    for (const e of stored) for (const type of e.actionTypes) deps.metrics?.instancesCreated.inc({ action_type: type });
    return stored.map(({ id, instances, duplicate }) => ({ id, instances, duplicate }));
  };
}

/**
 * The committer may run a unit's work again (alone, after its shared transaction failed): a rerun
 * reuses the slots the earlier run reserved, in the same order per action, instead of reserving
 * more; once the unit is committed or has failed, whatever was not used is given back.
 */
function reusableReservations(reserve: (actionId: string, accountId: string) => Handoff | undefined) {
  const held = new Map<string, Handoff[]>();
  let used = new Map<string, number>();
  return {
    rewind() {
      used = new Map();
    },
    reserve(actionId: string, accountId: string): Handoff | undefined {
      let list = held.get(actionId);
      const n = used.get(actionId) ?? 0;
      let handoff = list?.[n];
      if (!handoff) {
        handoff = reserve(actionId, accountId);
        if (!handoff) return undefined;
        if (!list) {
          list = [];
          held.set(actionId, list);
        }
        list.push(handoff);
      }
      used.set(actionId, n + 1);
      return handoff;
    },
    /** Gives back the slots the last run did not use (start or cancel: only the first counts). */
    cancelUnused() {
      for (const [actionId, list] of held) for (const handoff of list.slice(used.get(actionId) ?? 0)) handoff.cancel();
    },
    cancelAll() {
      for (const list of held.values()) for (const handoff of list) handoff.cancel();
    },
  };
}
