/**
 * Ingest: the platform tells Hookline what happened. An event is validated against the catalogue,
 * then — in ONE transaction — stored with one instance per enabled action of every trigger it fires.
 * The answer (202) is sent only after that transaction is durably committed; concurrent requests
 * share commits through the batcher.
 */
import { SpanStatusCode, type Tracer } from "@opentelemetry/api";
import { z } from "zod";
import { type TriggerTypeName, triggerType, triggerTypeSchema } from "../catalogue/trigger-types.js";
import type { Committer } from "../db/committer.js";
import { prepareInsert } from "../db/prepared.js";
import type { NewInstance, Tx } from "../db/schema.js";
import type { IdGenerator } from "../ids.js";
import { insertInstances } from "../instances/instances.js";
import { type FiredAction, findFiredActions } from "../match/match.js";
import type { Metrics } from "../metrics/metrics.js";
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
  idempotencyKey: string | undefined;
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
    idempotencyKey: envelope.idempotency_key,
  };
}

export function validateBatch(body: unknown): ValidEvent[] {
  const { events } = parseInput(EventBatchIn, body);
  return events.map((event, i) => validateEvent(event, `events[${i}]`));
}

/** Hot (one per event): prepared once (db/prepared.ts). */
const insertEvent = prepareInsert("events");

export interface IngestDeps {
  newId: IdGenerator;
  now: () => number;
  /** New instances are committed (visible) for these actions: wakes the delivery worker. */
  onInstances: (actionIds: readonly string[]) => void;
  metrics?: Metrics;
  tracer?: Tracer;
}

/**
 * Stores an event and its instances. `only`: instead of matching triggers, create the one instance
 * of this action (a test send, which runs even when the action is disabled).
 */
export async function storeEvent(
  trx: Tx,
  deps: Pick<IngestDeps, "newId" | "now">,
  accountId: string,
  event: ValidEvent,
  only?: FiredAction,
): Promise<EventOut & { instanceIds: string[]; actionIds: string[]; actionTypes: string[] }> {
  if (event.idempotencyKey !== undefined) {
    const existing = await trx
      .selectFrom("events")
      .select("id")
      .where("account_id", "=", accountId)
      .where("idempotency_key", "=", event.idempotencyKey)
      .executeTakeFirst();
    if (existing) {
      const count = await trx
        .selectFrom("instances")
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .where("event_id", "=", existing.id)
        .executeTakeFirstOrThrow();
      return { id: existing.id, instances: Number(count.n), duplicate: true, instanceIds: [], actionIds: [], actionTypes: [] };
    }
  }
  const now = deps.now();
  const eventId = deps.newId("evt");
  await insertEvent(trx, {
    id: eventId,
    account_id: accountId,
    type: event.type,
    object: event.objectJson,
    idempotency_key: event.idempotencyKey ?? null,
    created_at: now,
  });
  const fired = only ? [only] : await findFiredActions(trx, accountId, event.type);
  const instances: Required<NewInstance>[] = fired.map((f) => ({
    id: deps.newId("ins"),
    account_id: accountId,
    action_id: f.actionId,
    event_id: eventId,
    trigger_type: f.triggerType,
    event_type: event.type,
    object_key: event.objectKey,
    state: "pending",
    sent: 0,
    delivered: 0,
    attempts: 0,
    series: 1,
    series_attempts: 0,
    next_attempt_at: now,
    lease_until: null,
    lease_token: null,
    last_status: null,
    last_error: null,
    created_at: now,
    updated_at: now,
  }));
  await insertInstances(trx, instances);
  return {
    id: eventId,
    instances: instances.length,
    duplicate: false,
    instanceIds: instances.map((i) => i.id),
    actionIds: fired.map((f) => f.actionId),
    actionTypes: fired.map((f) => f.actionType),
  };
}

export type Ingest = (accountId: string, events: ValidEvent[]) => Promise<EventOut[]>;

/** Stores the events of one request atomically (all of them, or none), sharing the commit with concurrent writes. */
export function createIngest(committer: Committer, deps: IngestDeps): Ingest {
  return async (accountId, events) => {
    const span = deps.tracer?.startSpan("hookline.ingest", { attributes: { "hookline.account_id": accountId, "hookline.events": events.length } });
    let stored: Awaited<ReturnType<typeof storeEvent>>[];
    try {
      stored = await committer.run(
        async (trx) => {
          const all = [];
          for (const event of events) all.push(await storeEvent(trx, deps, accountId, event));
          return all;
        },
        {
          // The worker may start on the instances as soon as they are visible; the answer waits for
          // the disk. Should the machine fail in between, the unanswered event is sent again by its
          // client: at least once, still.
          onVisible: (all) => {
            const actionIds = all.flatMap((e) => e.actionIds);
            if (actionIds.length > 0) deps.onInstances(actionIds);
          },
        },
      );
    } catch (error) {
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
    return stored.map(({ instanceIds: _ids, actionIds: _actions, actionTypes: _types, ...out }) => out);
  };
}
