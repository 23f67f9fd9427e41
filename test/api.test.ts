/** The REST API: CRUD, validation, ingest, the log, and account isolation on every route. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TRIGGER_TYPE_NAMES, triggerType } from "../src/catalogue/trigger-types.js";
import { HooklineApiError, type HooklineClient } from "../src/client/index.js";
import { apiRoutes } from "../src/http/routes.js";
import { eventually, startTestHookline, type TestHookline } from "./helpers/hookline.js";
import { type Receiver, startReceiver } from "./helpers/receiver.js";

let h: TestHookline;
let receiver: Receiver;
let client: HooklineClient;
let apiKey: string;

beforeAll(async () => {
  h = await startTestHookline({ HOOKLINE_MAX_BODY_BYTES: "65536" });
  receiver = await startReceiver();
  ({ client, apiKey } = await h.account());
});
afterAll(async () => {
  await h.stop();
  await receiver.close();
});

/** A raw request, for inputs the typed client would not let us send. */
async function raw(method: string, path: string, body?: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${h.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${apiKey}`, ...(body !== undefined && { "content-type": "application/json" }), ...headers },
    ...(body !== undefined && { body }),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text ? (JSON.parse(text) as { error?: { code: string; message: string } } & Record<string, unknown>) : undefined,
    text,
  };
}

const example = (type: (typeof TRIGGER_TYPE_NAMES)[number]) => triggerType(type).example as Record<string, unknown>;

describe("service endpoints", () => {
  it("answers /health and /ready", async () => {
    expect(await (await fetch(`${h.baseUrl}/health`)).json()).toEqual({ status: "ok" });
    expect((await fetch(`${h.baseUrl}/ready`)).status).toBe(200);
  });

  it("serves an OpenAPI document listing every API route", async () => {
    const doc = (await (await fetch(`${h.baseUrl}/api/v1/openapi.json`)).json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toBe("3.1.0");
    for (const r of apiRoutes({} as never)) {
      expect(doc.paths[r.path.replace(/:(\w+)/g, "{$1}")]?.[r.method.toLowerCase()]).toBeDefined();
    }
  });

  it("the OpenAPI document lists the conflicts a client should handle: a reused idempotency key, a seventh live signing secret", async () => {
    type Operation = { responses: Record<string, { description: string }> };
    const doc = (await (await fetch(`${h.baseUrl}/api/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, Operation>> };
    expect(doc.paths["/api/v1/events"]?.post?.responses["409"]?.description).toMatch(/^idempotency_conflict/);
    expect(doc.paths["/api/v1/events/batch"]?.post?.responses["409"]?.description).toMatch(/^idempotency_conflict/);
    expect(doc.paths["/api/v1/actions/{id}/secret/rotate"]?.post?.responses["409"]?.description).toMatch(/^limit_reached/);
  });

  it("serves the trigger catalogue without a key: 23 types (the product's 21 and Hookline's stop-list removals) with label, object key, schema and example", async () => {
    const { data } = await new (client.constructor as typeof HooklineClient)({ baseUrl: h.baseUrl }).triggerTypes();
    expect(data.map((t) => t.type)).toEqual(TRIGGER_TYPE_NAMES);
    expect(data.find((t) => t.type === "participant.confirmed")).toMatchObject({
      label: "Participant confirmed",
      object_key: "participant",
      also_fires: "participant.reminder_state_changed",
      example: { participant: { id: 8812 } },
    });
  });

  it("lists each type's payload fields with kind and example value, and the open objects whose keys are free", async () => {
    const { data } = await client.triggerTypes();
    const booking = data.find((t) => t.type === "booking_request.completed");
    expect(booking?.fields).toContainEqual({
      path: "booking_request.start_time",
      kind: "date",
      description: "Booking start time",
      example: "2026-04-15T12:00:00-07:00",
    });
    expect(booking?.fields).toContainEqual(expect.objectContaining({ path: "booking_request.contact_info.email", kind: "text" }));
    expect(booking?.open_objects).toEqual(["booking_request.field_data"]);
  });
});

describe("triggers and actions", () => {
  it("creates, reads, lists, updates and deletes a trigger", async () => {
    const created = await client.createTrigger({ name: "Confirmations", type: "participant.confirmed", description: "to the CRM" });
    expect(created).toMatchObject({
      name: "Confirmations",
      type: "participant.confirmed",
      type_label: "Participant confirmed",
      enabled: true,
      action_count: 0,
    });
    expect(await client.getTrigger(created.id)).toEqual(created);
    expect((await client.listTriggers()).data.map((t) => t.id)).toContain(created.id);
    const updated = await client.updateTrigger(created.id, { name: "Renamed", enabled: false });
    expect(updated).toMatchObject({ name: "Renamed", enabled: false, description: "to the CRM" });
    await client.deleteTrigger(created.id);
    await expect(client.getTrigger(created.id)).rejects.toMatchObject({ status: 404, code: "not_found" });
  });

  it("creates a webhook action with a signing secret shown on creation only", async () => {
    const trigger = await client.createTrigger({ name: "t", type: "event.created" });
    const action = await client.createAction(trigger.id, { name: "CRM", type: "webhook", url: "https://crm.example.com/hook" });
    expect(action).toMatchObject({ name: "CRM", type: "webhook", enabled: true, url: "https://crm.example.com/hook", trigger_id: trigger.id });
    expect(action.secret).toMatch(/^whsec_/);
    const read = await client.getAction(action.id);
    expect(read.secret).toBeUndefined();
    expect((await client.revealSecret(action.id)).secret).toBe(action.secret);
    const rotated = await client.rotateSecret(action.id);
    expect(rotated.secret).not.toBe(action.secret);
    expect((await client.revealSecret(action.id)).secret).toBe(rotated.secret);
    expect((await client.getTrigger(trigger.id)).action_count).toBe(1);
    expect((await client.listActions(trigger.id)).data).toHaveLength(1);
    const patched = await client.updateAction(action.id, { url: "https://crm.example.com/v2", enabled: false });
    expect(patched).toMatchObject({ url: "https://crm.example.com/v2", enabled: false });
    await client.deleteAction(action.id);
    await expect(client.getAction(action.id)).rejects.toMatchObject({ status: 404 });
  });

  it("admits sms and email actions in the model", async () => {
    const trigger = await client.createTrigger({ name: "t", type: "participant.not_coming" });
    const sms = await client.createAction(trigger.id, { name: "front desk", type: "sms", to: "+15551234567", body: "{{ participant.name }} is not coming" });
    const email = await client.createAction(trigger.id, { name: "staff", type: "email", to: ["a@example.com"], subject: "Cancellation", body: "…" });
    expect(sms).toMatchObject({ type: "sms", to: "+15551234567" });
    expect(email).toMatchObject({ type: "email", to: ["a@example.com"] });
  });

  it.each([
    ["ftp://example.com/x", /absolute http/],
    ["/relative/path", /absolute http/],
    ["not a url", /absolute http/],
    ["https://user:pass@example.com/", /credentials/],
  ])("rejects the webhook url %s with a 400 naming the field", async (url, message) => {
    const trigger = await client.createTrigger({ name: "t", type: "event.created" });
    const error = (await client.createAction(trigger.id, { name: "x", type: "webhook", url }).catch((e: unknown) => e)) as HooklineApiError;
    expect(error).toBeInstanceOf(HooklineApiError);
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/^400 validation_error: url: /);
    expect(error.message).toMatch(message);
  });

  it("validates a PATCH against the action's type and leaves the action unchanged on error", async () => {
    const trigger = await client.createTrigger({ name: "t", type: "event.created" });
    const action = await client.createAction(trigger.id, { name: "x", type: "webhook", url: "https://ok.example.com/" });
    await expect(client.updateAction(action.id, { url: "nope" })).rejects.toMatchObject({ status: 400 });
    await expect(client.updateAction(action.id, { subject: "x" })).rejects.toMatchObject({ status: 400 });
    expect((await client.getAction(action.id)).url).toBe("https://ok.example.com/");
  });

  it("rejects unknown trigger types and unknown fields", async () => {
    const unknownType = await raw("POST", "/api/v1/triggers", JSON.stringify({ name: "x", type: "participant.exploded" }));
    expect(unknownType.status).toBe(400);
    expect(unknownType.body?.error?.message).toMatch(/^type: unknown trigger type "participant.exploded"/);
    const extra = await raw("POST", "/api/v1/triggers", JSON.stringify({ name: "x", type: "event.created", colour: "red" }));
    expect(extra.status).toBe(400);
    expect(extra.body?.error?.message).toMatch(/colour/);
  });
});

describe("ingest", () => {
  it("answers 202 {id, instances} after storing the event", async () => {
    const response = await raw("POST", "/api/v1/events", JSON.stringify({ type: "booking_page.viewed", data: example("booking_page.viewed") }));
    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({ id: expect.stringMatching(/^evt_/), instances: 0 });
  });

  it("de-duplicates on idempotency_key: the same key twice creates nothing new", async () => {
    const trigger = await client.createTrigger({ name: "t", type: "message.received" });
    const action = await client.createAction(trigger.id, { name: "a", type: "webhook", url: receiver.url("/idem") });
    const event = { type: "message.received" as const, data: example("message.received"), idempotency_key: "msg-99120-received" };
    const first = await client.ingest(event);
    const second = await client.ingest(event);
    expect(second).toEqual({ id: first.id, instances: 1, duplicate: true });
    expect(first.duplicate).toBe(false);
    await receiver.waitFor(1, "/idem");
    expect((await client.log(action.id)).data).toHaveLength(1);
    // Keys are per account: another account may use the same key.
    const other = await h.account("other");
    expect((await other.client.ingest(event)).duplicate).toBe(false);
  });

  it("an idempotency_key sent again with the same type and data, in another key order, is a duplicate of the first event", async () => {
    const data = { message: { id: 7701, body: "see you", direction: "inbound" } };
    const first = await raw("POST", "/api/v1/events", JSON.stringify({ type: "message.received", data, idempotency_key: "same-body" }));
    const reordered = JSON.stringify({
      idempotency_key: "same-body",
      data: { message: { direction: "inbound", body: "see you", id: 7701 } },
      type: "message.received",
    });
    const again = await raw("POST", "/api/v1/events", reordered);
    expect(first.status).toBe(202);
    expect(again).toMatchObject({ status: 202, body: { id: first.body?.id, duplicate: true } });
  });

  it("an idempotency_key sent again with a different type or data is refused 409 idempotency_conflict naming the first event, and nothing new is stored", async () => {
    const trigger = await client.createTrigger({ name: "t", type: "message.received" });
    const action = await client.createAction(trigger.id, { name: "a", type: "webhook", url: receiver.url("/idem-conflict") });
    const data = example("message.received") as { message: Record<string, unknown> };
    const first = await client.ingest({ type: "message.received", data, idempotency_key: "conflicting" });
    const otherData = { message: { ...data.message, body: "a different message" } };
    for (const event of [
      { type: "message.received", data: otherData },
      { type: "message.sent", data },
    ]) {
      const refused = await raw("POST", "/api/v1/events", JSON.stringify({ ...event, idempotency_key: "conflicting" }));
      expect(refused.status).toBe(409);
      expect(refused.body?.error?.code).toBe("idempotency_conflict");
      expect(refused.body?.error?.message).toContain(first.id);
    }
    await receiver.waitFor(1, "/idem-conflict");
    expect((await client.log(action.id)).data).toHaveLength(1);
    const stored = await h.hookline.store.db.selectFrom("events").select("id").where("idempotency_key", "=", "conflicting").execute();
    expect(stored).toEqual([{ id: first.id }]);
  });

  it("a batch with an event whose idempotency_key an earlier, different event used is refused whole with 409 naming the event; nothing of it is stored", async () => {
    const event = { type: "event.updated" as const, data: example("event.updated") };
    const first = await client.ingest({ ...event, idempotency_key: "batch-first" });
    const conflicting = { type: "event.deleted" as const, data: example("event.deleted"), idempotency_key: "batch-first" };
    const refused = await raw("POST", "/api/v1/events/batch", JSON.stringify({ events: [{ ...event, idempotency_key: "batch-new" }, conflicting] }));
    expect(refused.status).toBe(409);
    expect(refused.body?.error).toMatchObject({ code: "idempotency_conflict", message: expect.stringMatching(/^events\[1\]: .*batch-first/) });
    expect(refused.body?.error?.message).toContain(first.id);
    const stored = await h.hookline.store.db.selectFrom("events").select("id").where("idempotency_key", "in", ["batch-first", "batch-new"]).execute();
    expect(stored).toEqual([{ id: first.id }]);
  });

  it("within one batch, a key repeated with the same event answers as the first; with a different event it refuses the batch naming both", async () => {
    const event = { type: "event.updated" as const, data: example("event.updated"), idempotency_key: "in-batch" };
    const { data } = await client.ingestBatch([event, event]);
    expect(data[1]).toEqual({ id: data[0]?.id, instances: data[0]?.instances, duplicate: true });
    expect(data[0]?.duplicate).toBe(false);
    const other = { type: "event.deleted" as const, data: example("event.deleted"), idempotency_key: "in-batch-2" };
    const refused = await raw("POST", "/api/v1/events/batch", JSON.stringify({ events: [other, { ...event, idempotency_key: "in-batch-2" }] }));
    expect(refused.status).toBe(409);
    expect(refused.body?.error).toMatchObject({ code: "idempotency_conflict", message: expect.stringMatching(/^events\[1\]: .*in-batch-2.*events\[0\]/) });
    expect(await h.hookline.store.db.selectFrom("events").select("id").where("idempotency_key", "=", "in-batch-2").execute()).toEqual([]);
  });

  it("ingests a batch atomically, and rejects the whole batch naming the bad event's path", async () => {
    const trigger = await client.createTrigger({ name: "t", type: "event.updated" });
    const action = await client.createAction(trigger.id, { name: "a", type: "webhook", url: receiver.url("/batch") });
    const good = { type: "event.updated" as const, data: example("event.updated") };
    const { data } = await client.ingestBatch([good, good, good]);
    expect(data.map((e) => e.instances)).toEqual([1, 1, 1]);
    await receiver.waitFor(3, "/batch");
    const bad = { type: "event.updated" as const, data: { event: { id: "forty" } } };
    const error = (await client.ingestBatch([good, bad]).catch((e: unknown) => e)) as HooklineApiError;
    expect(error.status).toBe(400);
    expect(error.message).toContain("events[1].data.event.id");
    expect((await client.log(action.id)).data).toHaveLength(3);
  });

  it.each([
    ["malformed JSON", '{"type": "event.created", ', 400, "malformed_json", /JSON/],
    ["an empty body", "", 400, "validation_error", /^body: .*expected object, received undefined/],
    ["a JSON array", "[]", 400, "validation_error", /expected object/],
    ["an unknown type", '{"type":"event.exploded","data":{}}', 400, "validation_error", /^type: unknown trigger type/],
    ["a missing data object", '{"type":"event.created"}', 400, "validation_error", /^data: /],
    ["a missing object key", '{"type":"event.created","data":{}}', 400, "validation_error", /^data\.event: /],
    ["a missing required field", '{"type":"event.created","data":{"event":{"title":"x"}}}', 400, "validation_error", /^data\.event\.id: /],
    [
      "a wrongly typed field",
      '{"type":"participant.confirmed","data":{"participant":{"id":1,"event":{"id":2,"all_day":"yes"}}}}',
      400,
      "validation_error",
      /^data\.participant\.event\.all_day: /,
    ],
    [
      "a date without offset",
      '{"type":"event.created","data":{"event":{"id":1,"start_time":"2026-04-15 12:00"}}}',
      400,
      "validation_error",
      /^data\.event\.start_time: /,
    ],
    ["a non-string stop-list phone", '{"type":"stoplist.phone_added","data":{"phone":5551234}}', 400, "validation_error", /^data\.phone: /],
  ])("rejects %s with a clear JSON error and stores nothing", async (_name, body, status, code, message) => {
    const before = await h.hookline.store.db
      .selectFrom("events")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .executeTakeFirstOrThrow();
    const response = await raw("POST", "/api/v1/events", body);
    expect(response.status).toBe(status);
    expect(response.body?.error?.code).toBe(code);
    expect(response.body?.error?.message).toMatch(message);
    expect(response.text).not.toMatch(/at .*\.(js|ts):\d+/); // no stack trace
    const after = await h.hookline.store.db
      .selectFrom("events")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
  });

  it("answers 413 to an oversize body, and keeps serving", async () => {
    const huge = JSON.stringify({ type: "event.created", data: { event: { id: 1, content: "x".repeat(100_000) } } });
    const response = await raw("POST", "/api/v1/events", huge);
    expect(response.status).toBe(413);
    expect(response.body?.error?.code).toBe("payload_too_large");
    expect((await raw("GET", "/api/v1/triggers")).status).toBe(200);
  });

  it.each([
    ["application/xml", "<event/>"],
    // Fastify parses text/plain by default: JSON sent as text reached validation as a string (400
    // "expected object, received string"), which did not say what was wrong.
    ["text/plain", '{"type": "event.created", "data": {"event": {"id": 1}}}'],
  ])("answers 415 to a body sent as %s", async (contentType, body) => {
    const response = await raw("POST", "/api/v1/events", body, { "content-type": contentType });
    expect(response.status).toBe(415);
    expect(response.body?.error).toEqual({ code: "unsupported_media_type", message: "send Content-Type: application/json" });
  });

  it('takes an empty text/plain body as no body, as fetch sends it for body: "" to an endpoint that takes none', async () => {
    const trigger = await client.createTrigger({ name: "t", type: "event.created" });
    const action = await client.createAction(trigger.id, { name: "CRM", type: "webhook", url: "https://crm.example.com/hook" });
    const response = await raw("POST", `/api/v1/actions/${action.id}/secret/rotate`, "", { "content-type": "text/plain;charset=UTF-8" });
    expect(response.status).toBe(200);
    expect(response.body?.secret).toMatch(/^whsec_/);
  });
});

describe("authentication", () => {
  it.each([
    ["no Authorization header", undefined],
    ["an unknown key", "Bearer hl_not-a-real-key"],
    ["a malformed header", "Basic dXNlcjpwYXNz"],
  ])("answers 401 to %s", async (_name, authorization) => {
    const response = await fetch(`${h.baseUrl}/api/v1/triggers`, { headers: authorization ? { authorization } : {} });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
  });

  it("answers 404 with a JSON error for unknown routes", async () => {
    const response = await raw("GET", "/api/v1/nothing-here");
    expect(response.status).toBe(404);
    expect(response.body?.error?.code).toBe("not_found");
  });
});

describe("the log", () => {
  it("lists newest first, filters by outcome, sorts by any column, and paginates with a cursor", async () => {
    const trigger = await client.createTrigger({ name: "log", type: "participant.replied" });
    const action = await client.createAction(trigger.id, { name: "a", type: "webhook", url: receiver.url("/log") });
    // Odd-numbered participants are rejected (404, failed at once); even ones succeed.
    receiver.respond("/log", (r) => ((JSON.parse(r.body) as { participant: { id: number } }).participant.id % 2 ? { status: 404 } : { status: 200 }));
    for (let id = 1; id <= 7; id++) await client.ingest({ type: "participant.replied", data: { participant: { id } } });
    await eventually(async () => ((await client.log(action.id, { outcome: "pending" })).data.length === 0 ? true : undefined));

    const all = (await client.log(action.id)).data;
    expect(all).toHaveLength(7);
    expect(all.map((i) => i.created_at)).toEqual([...all.map((i) => i.created_at)].sort().reverse());
    expect(all.map((i) => i.id)).toEqual([...all.map((i) => i.id)].sort().reverse());
    expect(all[0]).toMatchObject({ state: expect.any(String), sent: true, attempts: 1, trigger_type: "participant.replied" });

    expect((await client.log(action.id, { outcome: "succeeded" })).data.map((i) => i.state)).toEqual(["succeeded", "succeeded", "succeeded"]);
    expect((await client.log(action.id, { outcome: "failed" })).data).toHaveLength(4);

    const byStatus = (await client.log(action.id, { sort: "last_status", order: "asc" })).data.map((i) => i.last_status);
    expect(byStatus).toEqual([200, 200, 200, 404, 404, 404, 404]);
    const byState = (await client.log(action.id, { sort: "state", order: "desc" })).data.map((i) => i.state);
    expect(byState).toEqual([...byState].sort().reverse());

    for (const sort of ["created_at", "last_status", "state", "attempts"] as const) {
      const pages: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await client.log(action.id, { sort, limit: 3, ...(cursor && { cursor }) });
        pages.push(...page.data.map((i) => i.id));
        cursor = page.next_cursor ?? undefined;
      } while (cursor);
      expect(pages).toHaveLength(7);
      expect(new Set(pages).size).toBe(7);
    }
  });

  it("rejects a bad query with 400", async () => {
    const trigger = await client.createTrigger({ name: "q", type: "participant.replied" });
    const action = await client.createAction(trigger.id, { name: "a", type: "webhook", url: receiver.url("/q") });
    for (const qs of ["outcome=maybe", "sort=secret", "limit=0", "limit=1000", "cursor=garbage"]) {
      expect((await raw("GET", `/api/v1/actions/${action.id}/log?${qs}`)).status).toBe(400);
    }
  });
});

describe("account isolation", () => {
  it("answers 404 on every route that names another account's trigger, action or instance", async () => {
    // Account A owns a trigger, an action and an instance.
    const a = await h.account("A");
    const trigger = await a.client.createTrigger({ name: "mine", type: "participant.confirmed" });
    const action = await a.client.createAction(trigger.id, { name: "mine", type: "webhook", url: receiver.url("/iso") });
    await a.client.ingest({ type: "participant.confirmed", data: example("participant.confirmed") });
    const instance = await eventually(async () => (await a.client.log(action.id)).data[0]);
    const idFor = (path: string) => (path.startsWith("/api/v1/triggers/") ? trigger.id : path.startsWith("/api/v1/actions/") ? action.id : instance.id);

    // Account B tries every route that takes an id, as listed in the route table itself.
    const b = await h.account("B");
    const routes = apiRoutes({} as never).filter((r) => r.path.includes(":id"));
    expect(routes.length).toBeGreaterThanOrEqual(12);
    for (const r of routes) {
      const path = r.path.replace(":id", idFor(r.path));
      // A valid body for each route, so that only ownership decides the answer.
      const validBodies: Record<string, unknown> = {
        "/api/v1/triggers/:id/actions": { name: "x", type: "webhook", url: "https://e.com/" },
        "/api/v1/actions/:id/recover": { since: new Date(0).toISOString() },
      };
      const body = r.method === "POST" || r.method === "PATCH" ? JSON.stringify(validBodies[r.path] ?? {}) : undefined;
      const response = await fetch(`${h.baseUrl}${path}`, {
        method: r.method,
        headers: { authorization: `Bearer ${b.apiKey}`, ...(body && { "content-type": "application/json" }) },
        ...(body && { body }),
      });
      expect(`${r.method} ${r.path} → ${response.status}`).toBe(`${r.method} ${r.path} → 404`);
    }
    // B's lists show nothing of A's, and A's objects are untouched.
    expect((await b.client.listTriggers()).data).toEqual([]);
    expect(await a.client.getAction(action.id)).toMatchObject({ name: "mine", enabled: true });
    expect((await a.client.log(action.id)).data).toHaveLength(1);
  });
});
