/**
 * Hostile input: property-based fuzzing (fast-check) of the ingest and management endpoints with
 * random and malformed bodies. Every answer is JSON with a 2xx or 4xx status, no stack trace leaks,
 * the server keeps serving, and afterwards the database is consistent with what was acknowledged.
 */
import Database from "better-sqlite3";
import fc from "fast-check";
import { afterAll, beforeAll, expect, it } from "vitest";
import { TRIGGER_TYPE_NAMES, triggerType } from "../src/catalogue/trigger-types.js";
import { DIALECT, startTestHookline, type TestHookline } from "./helpers/hookline.js";
import { mutated } from "./helpers/schema-arbitrary.js";

let h: TestHookline;
let apiKey: string;
let triggerId: string;
let actionId: string;
const acknowledged = new Map<string, number>(); // event id → instances
const STACK = /\bat .+[\\/].+\.(js|ts):\d+|node_modules|\n\s+at /;

beforeAll(async () => {
  // Deliveries go nowhere (a closed port on loopback): refused at once, no network load.
  h = await startTestHookline({ HOOKLINE_MAX_BODY_BYTES: "16384" });
  const account = await h.account();
  apiKey = account.apiKey;
  for (const type of TRIGGER_TYPE_NAMES) {
    const t = await account.client.createTrigger({ name: type, type });
    const a = await account.client.createAction(t.id, { name: "sink", type: "webhook", url: "http://127.0.0.1:9/sink" });
    triggerId = t.id;
    actionId = a.id;
  }
});
afterAll(() => h.stop());

async function send(method: string, path: string, body: string | undefined, contentType: string | undefined) {
  const response = await fetch(`${h.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${apiKey}`, ...(contentType && { "content-type": contentType }) },
    ...(body !== undefined && { body }),
  });
  const text = await response.text();
  return { status: response.status, text };
}

/** The invariant every answer must meet. Returns the parsed body. */
function expectSaneAnswer(answer: { status: number; text: string }, allowed: number[]): Record<string, unknown> {
  expect(allowed, `unexpected status ${answer.status}: ${answer.text.slice(0, 300)}`).toContain(answer.status);
  expect(answer.text).not.toMatch(STACK);
  if (answer.status === 204) return {};
  const body = JSON.parse(answer.text) as Record<string, unknown>;
  if (answer.status >= 400) {
    const error = body.error as { code?: unknown; message?: unknown };
    expect(typeof error.code).toBe("string");
    expect(typeof error.message).toBe("string");
  }
  return body;
}

const contentTypes = fc.constantFrom("application/json", "application/json; charset=utf-8", "text/plain", undefined, "application/x-www-form-urlencoded");

/** A valid event of a random type, as it is or mutated at a random place: replaced, removed or added to. */
const validEvent = fc
  .record({ type: fc.constantFrom(...TRIGGER_TYPE_NAMES), idempotency: fc.option(fc.string({ maxLength: 10 }), { nil: undefined }) })
  .map(({ type, idempotency }) => ({
    type,
    data: structuredClone(triggerType(type).example),
    ...(idempotency !== undefined && { idempotency_key: idempotency }),
  }));
const eventOrMutant = fc.oneof(validEvent, mutated(validEvent));
const mutatedEvent = eventOrMutant.map((event) => JSON.stringify(event) ?? "");

const anyBody = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  mutatedEvent,
  fc.string({ minLength: 17_000, maxLength: 17_500 }), // over the body limit
  fc.constantFrom('{"type":', "\u0000", "{}", "[]", "null", '{"__proto__":{"polluted":1},"type":"event.created","data":{"event":{"id":1}}}'),
);

it("ingest answers every body with JSON 202/4xx and never a stack trace", async () => {
  await fc.assert(
    fc.asyncProperty(anyBody, contentTypes, async (body, contentType) => {
      const answer = await send("POST", "/api/v1/events", body, contentType);
      // 409: a random idempotency key that an earlier, different event already used.
      const parsed = expectSaneAnswer(answer, [202, 400, 409, 413, 415]);
      if (answer.status === 202) acknowledged.set(parsed.id as string, parsed.instances as number);
    }),
    { numRuns: 400 },
  );
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
}, 120_000);

it("the batch endpoint answers every body with JSON 202/4xx", async () => {
  const batch = fc.array(fc.oneof(eventOrMutant, fc.jsonValue()), { maxLength: 5 }).map((events) => JSON.stringify({ events }));
  await fc.assert(
    fc.asyncProperty(fc.oneof(batch, anyBody), async (body) => {
      const answer = await send("POST", "/api/v1/events/batch", body, "application/json");
      const parsed = expectSaneAnswer(answer, [202, 400, 409, 413]);
      if (answer.status === 202) for (const e of parsed.data as { id: string; instances: number }[]) acknowledged.set(e.id, e.instances);
    }),
    { numRuns: 150 },
  );
}, 120_000);

it("management endpoints answer every body with JSON 2xx/4xx", async () => {
  const targets = fc.constantFrom(
    ["POST", "/api/v1/triggers"],
    ["PATCH", () => `/api/v1/triggers/${triggerId}`],
    ["POST", () => `/api/v1/triggers/${triggerId}/actions`],
    ["PATCH", () => `/api/v1/actions/${actionId}`],
    ["POST", "/api/v1/templates/preview"],
    ["PATCH", "/api/v1/triggers/trg_does_not_exist"],
  );
  const fields = fc.record(
    {
      name: fc.oneof(fc.string({ maxLength: 300 }), fc.jsonValue()),
      type: fc.oneof(fc.constantFrom(...TRIGGER_TYPE_NAMES, "webhook", "sms", "email"), fc.jsonValue()),
      enabled: fc.oneof(fc.boolean(), fc.jsonValue()),
      url: fc.oneof(fc.webUrl(), fc.string(), fc.constantFrom("http://[::1]/", "javascript:alert(1)", "http://user:pw@x.com/")),
      to: fc.oneof(fc.emailAddress(), fc.string({ maxLength: 20 }), fc.array(fc.emailAddress(), { maxLength: 3 })),
      subject: fc.string({ maxLength: 50 }),
      body: fc.oneof(fc.string({ maxLength: 80 }), fc.constantFrom("{{ participant.name ", "{% for %}", "{% include 'x' %}", "{{ a | nope }}")),
      template: fc.string({ maxLength: 80 }),
      trigger_type: fc.constantFrom(...TRIGGER_TYPE_NAMES),
      description: fc.oneof(fc.string({ maxLength: 50 }), fc.constant(null)),
    },
    { requiredKeys: [] },
  );
  await fc.assert(
    fc.asyncProperty(
      targets,
      fc.oneof(
        fields.map((f) => JSON.stringify(f)),
        anyBody,
      ),
      async ([method, path], body) => {
        const answer = await send(method as string, typeof path === "function" ? path() : (path as string), body, "application/json");
        expectSaneAnswer(answer, [200, 201, 400, 404, 409, 413]);
      },
    ),
    { numRuns: 300 },
  );
}, 120_000);

it("the log's query string answers JSON 200/400", async () => {
  const query = fc.dictionary(fc.constantFrom("outcome", "sort", "order", "limit", "cursor", "x"), fc.string({ maxLength: 30 }), { maxKeys: 4 });
  await fc.assert(
    fc.asyncProperty(query, async (q) => {
      const answer = await send("GET", `/api/v1/actions/${actionId}/log?${new URLSearchParams(q)}`, undefined, undefined);
      expectSaneAnswer(answer, [200, 400]);
    }),
    { numRuns: 150 },
  );
});

it("afterwards, the server still serves and the database matches what was acknowledged", async () => {
  expect((await fetch(`${h.baseUrl}/health`)).status).toBe(200);
  expect(acknowledged.size).toBeGreaterThan(10); // the fuzzer did reach the happy path
  const { db } = h.hookline.store;
  if (DIALECT === "sqlite") {
    const file = new Database(`${h.dataDir}/hookline.db`, { readonly: true });
    expect(file.pragma("integrity_check", { simple: true })).toBe("ok");
    expect(file.pragma("foreign_key_check")).toEqual([]);
    file.close();
  }
  const events = await db.selectFrom("events").select("id").execute();
  expect(new Set(events.map((e) => e.id))).toEqual(new Set(acknowledged.keys()));
  const instances = await db
    .selectFrom("instances")
    .select(["event_id", (eb) => eb.fn.countAll<number>().as("n")])
    .groupBy("event_id")
    .execute();
  const counted = new Map(instances.map((i) => [i.event_id, Number(i.n)]));
  for (const [id, n] of acknowledged) expect(counted.get(id) ?? 0).toBe(n);
  // Every stored trigger and action is one the API can read back.
  const types = await db.selectFrom("triggers").select("type").distinct().execute();
  for (const { type } of types) expect(TRIGGER_TYPE_NAMES).toContain(type);
  const actions = (await h.hookline.store.db.selectFrom("actions").select("id").execute()).map((a) => a.id);
  for (const id of actions) expect((await send("GET", `/api/v1/actions/${id}`, undefined, undefined)).status).toBe(200);
});
