/** The REST API, under /api/v1: PRODUCT.md "API contract". */
import { z } from "zod";
import { getAccountSettings, setAccountSettings } from "../accounts/accounts.js";
import {
  ActionIn,
  ActionOut,
  ActionPatch,
  createAction,
  deleteAction,
  getAction,
  listActions,
  type ProviderProblems,
  revealSecret,
  rotateSecret,
  SecretOut,
  updateAction,
} from "../actions/actions.js";
import { presetsFor } from "../actions/presets.js";
import { MAX_PREVIOUS_SECRETS } from "../actions/signing-secrets.js";
import { FieldKindSchema, fieldsOf, openObjectsOf } from "../catalogue/fields.js";
import {
  type ObjectKey,
  TRIGGER_TYPE_NAMES,
  TRIGGER_TYPES,
  type TriggerType,
  type TriggerTypeName,
  triggerType,
  triggerTypeSchema,
} from "../catalogue/trigger-types.js";
import type { Committer } from "../db/committer.js";
import type { Db } from "../db/schema.js";
import type { IdGenerator } from "../ids.js";
import { EventBatchIn, EventIn, EventOut, type Ingest, MAX_BATCH_EVENTS, validateBatch, validateEvent } from "../ingest/ingest.js";
import { TestSendIn, testSend } from "../ingest/test-send.js";
import {
  getInstanceDetail,
  InstanceDetailOut,
  InstanceOut,
  LogOut,
  LogQuery,
  listLog,
  RecoverIn,
  RecoverOut,
  recoverFailed,
  resendInstance,
} from "../log/log.js";
import { actionStats, StatsOut, StatsQuery } from "../log/stats.js";
import type { HostCheck } from "../net/host-check.js";
import { timeZone } from "../schedule/timing.js";
import type { Cipher } from "../secrets/cipher.js";
import { listStopList, removeFromStopList, StopListEntryParams, StopListOut, StopListQuery } from "../stoplist/stop-list.js";
import { PREVIEW_RATE_COST, PreviewIn, PreviewOut, previewTemplate } from "../templates/preview.js";
import { RENDERS_PER_ACCOUNT, type RenderPool } from "../templates/render-pool.js";
import { createTrigger, deleteTrigger, getTrigger, listTriggers, TriggerIn, TriggerOut, TriggerPatch, updateTrigger } from "../triggers/triggers.js";
import { emailAddress, parseInput } from "../validation.js";
import { type Route, route } from "./route.js";

export interface ApiDeps {
  db: Db;
  committer: Committer;
  /** How long a test send waits for its first attempt. */
  testWaitMs: number;
  providers: ProviderProblems;
  cipher: Cipher;
  limits: { maxTriggers: number; maxActions: number };
  failingAfterMs: number;
  /** Refuses webhook URLs outbound requests cannot reach, when they are saved. */
  hostCheck: HostCheck;
  /** Renders previews and save-time checks off the server's thread. */
  templates: RenderPool;
  ingest: Ingest;
  newId: IdGenerator;
  now: () => number;
  /** Wakes the delivery worker: new instances for these actions, or (no list, a resend) for any. */
  onInstances: (actionIds?: readonly string[]) => void;
}

const list = <T extends z.ZodType>(item: T) => z.object({ data: z.array(item) });
/** The path parameter of the routes under a resource's id (`/triggers/:id`). */
const IdParams = z.object({ id: z.string() });
/** A trigger type's name in a path; checked against the catalogue by the route, so the document keeps it a string. */
const TypeParams = z.object({ type: z.string() });

export const TriggerTypeOut = z.object({
  type: z.string(),
  label: z.string(),
  description: z.string(),
  object_key: z.string(),
  also_fires: z.string().nullable(),
  schema: z.unknown(),
  example: z.unknown(),
  fields: z.array(z.object({ path: z.string(), kind: FieldKindSchema, description: z.string(), example: z.unknown() })),
  open_objects: z.array(z.string()),
});

export const PresetOut = z.object({ id: z.string(), name: z.string(), description: z.string(), body: z.string() });
export const SessionOut = z.object({
  account_id: z.string(),
  account_name: z.string(),
  notification_email: z.string().nullable(),
  time_zone: z.string().describe("IANA zone quiet hours fall back on when neither the action nor the payload names one"),
});
export const AccountPatch = z.strictObject({ notification_email: emailAddress().nullable().optional(), time_zone: timeZone.optional() });

async function sessionOut(db: Db, accountId: string): Promise<z.output<typeof SessionOut>> {
  const account = await getAccountSettings(db, accountId);
  return { account_id: account.id, account_name: account.name, notification_email: account.notification_email, time_zone: account.time_zone };
}

const dataDocs = new Map<ObjectKey, z.ZodType>();
/**
 * A type's `data` schema, from the catalogue, as a component shared by the types carrying the same
 * object (`EventData.participant`). Ingest validates with the same schemas, in two steps (envelope,
 * then `data` by type) so its errors name the field.
 */
function dataDoc(t: TriggerType): z.ZodType {
  const known = dataDocs.get(t.objectKey);
  if (known) return known;
  const schema = t.schema.meta({ id: `EventData.${t.objectKey}` });
  dataDocs.set(t.objectKey, schema);
  return schema;
}

/** The documented event: one variant per trigger type (a component each), discriminated by `type`. */
const eventDoc = (type: TriggerTypeName) => EventIn.extend({ type: z.literal(type), data: dataDoc(triggerType(type)) }).meta({ id: `Event.${type}` });
const [firstType, ...otherTypes] = TRIGGER_TYPE_NAMES;
const EventDoc = z.discriminatedUnion("type", [eventDoc(firstType), ...otherTypes.map(eventDoc)]);
const EventBatchDoc = EventBatchIn.extend({ events: z.array(EventDoc).min(1).max(MAX_BATCH_EVENTS) });
/** A test send's `data` is checked against its action's trigger type, which the document cannot know: any type's data. */
const TestSendDoc = TestSendIn.extend({ data: z.union([...new Set([...TRIGGER_TYPES.values()].map(dataDoc))]).optional() });

/** The catalogue as served: computed once, it never changes while the process runs. */
const triggerTypesOut = [...TRIGGER_TYPES.values()].map((t) => ({
  type: t.type,
  label: t.label,
  description: t.description,
  object_key: t.objectKey,
  also_fires: t.alsoFires ?? null,
  schema: z.toJSONSchema(t.schema, { io: "input", unrepresentable: "any" }),
  example: t.example,
  fields: fieldsOf(t.type),
  open_objects: openObjectsOf(t.type),
}));

export function apiRoutes(deps: ApiDeps): Route[] {
  const { db } = deps;
  return [
    route({
      method: "GET",
      path: "/api/v1/trigger-types",
      summary: "The trigger catalogue: every type with its label, object key, schema and an example",
      tag: "catalogue",
      auth: false,
      status: 200,
      response: list(TriggerTypeOut),
      handler: async () => ({ data: triggerTypesOut }),
    }),

    route({
      method: "GET",
      path: "/api/v1/session",
      summary: "The account this key or session acts for",
      tag: "accounts",
      auth: true,
      status: 200,
      response: SessionOut,
      handler: async ({ accountId }) => sessionOut(db, accountId),
    }),

    route({
      method: "PATCH",
      path: "/api/v1/account",
      summary:
        "Set the account's notification email (notices such as an action failing for a long time; null for none) and its time zone (quiet hours' default); only the fields given change",
      tag: "accounts",
      auth: true,
      body: AccountPatch,
      status: 200,
      response: SessionOut,
      handler: async ({ accountId, body }) => {
        await setAccountSettings(db, accountId, body);
        return sessionOut(db, accountId);
      },
    }),

    route({
      method: "GET",
      path: "/api/v1/trigger-types/:type/presets",
      summary: "Ready-made webhook bodies for this trigger type: Slack incoming webhook, Zapier catch hook",
      tag: "catalogue",
      auth: false,
      params: TypeParams,
      status: 200,
      response: list(PresetOut),
      handler: async ({ params }) => ({ data: presetsFor(parseInput(triggerTypeSchema, params.type, "type")) }),
    }),

    route({
      method: "POST",
      path: "/api/v1/triggers",
      summary: "Create a trigger",
      tag: "triggers",
      auth: true,
      body: TriggerIn,
      status: 201,
      response: TriggerOut,
      handler: async ({ accountId, body }) => createTrigger(db, deps, accountId, body),
    }),
    route({
      method: "GET",
      path: "/api/v1/triggers",
      summary: "List triggers",
      tag: "triggers",
      auth: true,
      status: 200,
      response: list(TriggerOut),
      handler: async ({ accountId }) => ({ data: await listTriggers(db, accountId) }),
    }),
    route({
      method: "GET",
      path: "/api/v1/triggers/:id",
      summary: "Get a trigger",
      tag: "triggers",
      auth: true,
      params: IdParams,
      status: 200,
      response: TriggerOut,
      handler: async ({ accountId, params }) => getTrigger(db, accountId, params.id),
    }),
    route({
      method: "PATCH",
      path: "/api/v1/triggers/:id",
      summary: "Update a trigger (name, type, description, enabled)",
      tag: "triggers",
      auth: true,
      params: IdParams,
      body: TriggerPatch,
      status: 200,
      response: TriggerOut,
      handler: async ({ accountId, params, body }) => updateTrigger(db, deps, accountId, params.id, body),
    }),
    route({
      method: "DELETE",
      path: "/api/v1/triggers/:id",
      summary: "Delete a trigger with its actions and their log",
      tag: "triggers",
      auth: true,
      params: IdParams,
      status: 204,
      handler: async ({ accountId, params }) => deleteTrigger(db, accountId, params.id),
    }),

    route({
      method: "POST",
      path: "/api/v1/triggers/:id/actions",
      summary: "Add an action to a trigger; the answer holds its signing secret",
      tag: "actions",
      auth: true,
      params: IdParams,
      body: ActionIn,
      status: 201,
      response: ActionOut,
      handler: async ({ accountId, params, body }) => createAction(db, deps, accountId, params.id, body),
    }),
    route({
      method: "GET",
      path: "/api/v1/triggers/:id/actions",
      summary: "List a trigger's actions",
      tag: "actions",
      auth: true,
      params: IdParams,
      status: 200,
      response: list(ActionOut),
      handler: async ({ accountId, params }) => ({ data: await listActions(db, deps, accountId, params.id) }),
    }),
    route({
      method: "GET",
      path: "/api/v1/actions/:id",
      summary: "Get an action",
      tag: "actions",
      auth: true,
      params: IdParams,
      status: 200,
      response: ActionOut,
      handler: async ({ accountId, params }) => getAction(db, deps, accountId, params.id),
    }),
    route({
      method: "PATCH",
      path: "/api/v1/actions/:id",
      summary: "Update an action (name, enabled, and its type's settings)",
      tag: "actions",
      auth: true,
      params: IdParams,
      body: ActionPatch,
      status: 200,
      response: ActionOut,
      handler: async ({ accountId, params, body }) => updateAction(db, deps, accountId, params.id, body),
    }),
    route({
      method: "DELETE",
      path: "/api/v1/actions/:id",
      summary: "Delete an action and its log",
      tag: "actions",
      auth: true,
      params: IdParams,
      status: 204,
      handler: async ({ accountId, params }) => deleteAction(db, accountId, params.id),
    }),
    route({
      method: "GET",
      path: "/api/v1/actions/:id/secret",
      summary: "Reveal an action's signing secret",
      tag: "actions",
      auth: true,
      params: IdParams,
      status: 200,
      response: SecretOut,
      handler: async ({ accountId, params }) => revealSecret(db, deps, accountId, params.id),
    }),
    route({
      method: "POST",
      path: "/api/v1/actions/:id/secret/rotate",
      summary: "Rotate an action's signing secret; each previous one stays valid for 24 hours",
      tag: "actions",
      auth: true,
      params: IdParams,
      status: 200,
      response: SecretOut,
      errors: { 409: `limit_reached: ${MAX_PREVIOUS_SECRETS} previous secrets still sign; rotate again once the oldest expires` },
      handler: async ({ accountId, params }) => rotateSecret(db, deps, accountId, params.id),
    }),

    route({
      method: "POST",
      path: "/api/v1/actions/:id/test",
      summary:
        "Send the trigger type's example payload (or `data`) to this action through the real delivery path, marked as a test (a webhook gets the header `x-hookline-test: true`; the instance has `test: true` and is left out of the action's stats and failing flag); answers with the instance after its first attempt",
      tag: "actions",
      auth: true,
      params: IdParams,
      body: TestSendDoc,
      // Parsed as sent; `data` is checked against the action's type once the action is read. No body is `{}`, as for any route.
      parseBody: (raw) => parseInput(TestSendIn, raw === undefined ? {} : raw),
      status: 200,
      response: InstanceDetailOut,
      handler: async ({ accountId, params, body }) =>
        testSend(
          { db, committer: deps.committer, newId: deps.newId, now: deps.now, onInstances: deps.onInstances, waitMs: deps.testWaitMs },
          accountId,
          params.id,
          body,
        ),
    }),
    route({
      method: "POST",
      path: "/api/v1/actions/:id/recover",
      summary: "Resend every failed instance of this action created in [since, until): a new attempt series each, same apptoto_id",
      tag: "log",
      auth: true,
      params: IdParams,
      body: RecoverIn,
      status: 202,
      response: RecoverOut,
      handler: async ({ accountId, params, body }) => {
        const out = await recoverFailed(db, accountId, params.id, body, deps.now());
        deps.onInstances();
        return out;
      },
    }),
    route({
      method: "GET",
      path: "/api/v1/actions/:id/stats",
      summary: "An action's attempts per hour and success rate over the last `hours` (default 24)",
      tag: "log",
      auth: true,
      params: IdParams,
      query: StatsQuery,
      status: 200,
      response: StatsOut,
      handler: async ({ accountId, params, query }) => actionStats(db, accountId, params.id, query.hours, deps.now()),
    }),
    route({
      method: "GET",
      path: "/api/v1/actions/:id/log",
      summary: "An action's instances: newest first by default, filter by outcome, sort by column, cursor pagination",
      tag: "log",
      auth: true,
      params: IdParams,
      query: LogQuery,
      status: 200,
      response: LogOut,
      handler: async ({ accountId, params, query }) => listLog(db, accountId, params.id, query, deps.now()),
    }),
    route({
      method: "GET",
      path: "/api/v1/instances/:id",
      summary: "One instance with its payload and every attempt's request and response",
      tag: "log",
      auth: true,
      params: IdParams,
      status: 200,
      response: InstanceDetailOut,
      handler: async ({ accountId, params }) => getInstanceDetail(db, accountId, params.id, deps.now()),
    }),
    route({
      method: "POST",
      path: "/api/v1/instances/:id/resend",
      summary: "Resend a finished instance: a new attempt series with the same apptoto_id",
      tag: "log",
      auth: true,
      params: IdParams,
      status: 202,
      response: InstanceOut,
      handler: async ({ accountId, params }) => {
        const out = await resendInstance(db, accountId, params.id, deps.now());
        deps.onInstances();
        return out;
      },
    }),

    route({
      method: "GET",
      path: "/api/v1/stop-list",
      summary: "The account's stop list: phones and emails its messages are not sent to, kept by stoplist.* events; filter by kind and part of the value",
      tag: "stop-list",
      auth: true,
      query: StopListQuery,
      status: 200,
      response: StopListOut,
      handler: async ({ accountId, query }) => listStopList(db, accountId, query),
    }),
    route({
      method: "DELETE",
      path: "/api/v1/stop-list/:kind/:value",
      summary: "Take a phone or email off the stop list by hand, as a stoplist.*_removed event does (a phone in any form a message takes)",
      tag: "stop-list",
      auth: true,
      params: StopListEntryParams,
      status: 204,
      handler: async ({ accountId, params }) => removeFromStopList(db, accountId, params.kind, params.value),
    }),

    route({
      method: "POST",
      path: "/api/v1/templates/preview",
      summary: `Render a message template against a trigger type's example payload, or a given one; counts as ${PREVIEW_RATE_COST} calls of the rate limit, and an account may have ${RENDERS_PER_ACCOUNT} renders in progress (429 beyond)`,
      tag: "templates",
      auth: true,
      body: PreviewIn,
      rate: { class: "api", cost: () => PREVIEW_RATE_COST },
      status: 200,
      response: PreviewOut,
      handler: async ({ accountId, body }) => previewTemplate(deps.templates, accountId, body),
    }),

    route({
      method: "POST",
      path: "/api/v1/events",
      summary: "Ingest one event; answered after it and its instances are durably stored",
      tag: "ingest",
      auth: true,
      body: EventDoc,
      parseBody: (raw) => [validateEvent(raw)],
      rate: { class: "ingest" },
      status: 202,
      response: EventOut,
      errors: { 409: "idempotency_conflict: the idempotency_key was used before with a different type or data; the message names that event's id" },
      handler: async ({ accountId, body }) => {
        const [out] = await deps.ingest(accountId, body);
        return out;
      },
    }),
    route({
      method: "POST",
      path: "/api/v1/events/batch",
      summary: "Ingest up to 500 events atomically: all are stored, or none",
      tag: "ingest",
      auth: true,
      body: EventBatchDoc,
      parseBody: validateBatch,
      rate: { class: "ingest", cost: (events) => events.length },
      status: 202,
      response: list(EventOut),
      errors: {
        409: "idempotency_conflict: an event's idempotency_key was used before, or earlier in the batch, with a different type or data; nothing is stored, and the message names the event (events[3])",
      },
      handler: async ({ accountId, body }) => ({ data: await deps.ingest(accountId, body) }),
    }),
  ];
}
