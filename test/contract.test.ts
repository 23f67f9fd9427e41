/**
 * The OpenAPI document is the API contract. Every response any test receives is checked against it
 * by the test helper (helpers/contract.ts); here, the behaviours it describes, and requests generated
 * from its own schemas (fast-check), valid and invalid, which must get the answers it promises.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TRIGGER_TYPE_NAMES, TRIGGER_TYPES, triggerType } from "../src/catalogue/trigger-types.js";
import { type ApiContract, contractFor, type JsonSchema, type OpenApiDocument } from "./helpers/contract.js";
import { startTestHookline, type TestHookline } from "./helpers/hookline.js";
import { arbitraryFor, mutated } from "./helpers/schema-arbitrary.js";

let h: TestHookline;
let apiKey: string;
let contract: ApiContract;
let document: OpenApiDocument;
/** Real ids for path parameters, by the collection the path names. */
const ids: Record<string, string> = {};

beforeAll(async () => {
  // Deliveries go nowhere (a closed port on loopback): a test send fails at once.
  h = await startTestHookline();
  const account = await h.account();
  apiKey = account.apiKey;
  document = (await (await fetch(`${h.baseUrl}/api/v1/openapi.json`)).json()) as OpenApiDocument;
  contract = contractFor(document);
  const trigger = await account.client.createTrigger({ name: "t", type: "participant.confirmed" });
  const action = await account.client.createAction(trigger.id, { name: "sink", type: "webhook", url: "http://127.0.0.1:9/sink" });
  await account.client.ingest({ type: "participant.confirmed", data: { participant: { id: 1 } } });
  const instance = await h.eventually(async () => (await account.client.log(action.id)).data[0]);
  Object.assign(ids, { triggers: trigger.id, actions: action.id, instances: instance.id, "trigger-types": "participant.confirmed" });
});
afterAll(() => h.stop());

async function send(method: string, path: string, body?: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${h.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${apiKey}`, ...(body !== undefined && { "content-type": "application/json" }), ...headers },
    ...(body !== undefined && { body }),
  });
  const text = await response.text();
  const json = text && response.headers.get("content-type")?.includes("json") ? (JSON.parse(text) as Record<string, unknown>) : undefined;
  return { status: response.status, headers: response.headers, text, error: json?.error as { code: string; message: string } | undefined };
}

const resolve = (ref: string) => {
  const name = ref.replace("#/components/schemas/", "");
  const schema = document.components.schemas[name];
  if (!schema) throw new Error(`no component ${name}`);
  return schema;
};

describe("the document", () => {
  it("describes a validation_error's details: every problem at its field path", async () => {
    const answer = await send("POST", "/api/v1/triggers", JSON.stringify({ name: "", type: "nope" }));
    expect(answer.status).toBe(400);
    const body = JSON.parse(answer.text) as { error: { details: { issues: { path: string }[] } } };
    expect(body.error.details.issues.map((i) => i.path)).toEqual(["name", "type"]);
    expect(contract.problems("#/components/schemas/Error", body)).toBeUndefined();
  });

  it("publishes each trigger type's data from the catalogue, as a oneOf discriminated by type", async () => {
    const served = (await (await fetch(`${h.baseUrl}/api/v1/trigger-types`)).json()) as { data: { type: string; schema: JsonSchema }[] };
    const bodyOf = (path: string, method: string) => contract.operation(path, method)?.requestBody?.content["application/json"].schema;
    const component = (name: string) => `#/components/schemas/${name}`;
    const mapping = Object.fromEntries(TRIGGER_TYPE_NAMES.map((type) => [type, component(`Event.${type}`)]));
    const events = bodyOf("/api/v1/events", "post");
    expect(events).toEqual({ oneOf: TRIGGER_TYPE_NAMES.map((type) => ({ $ref: mapping[type] })), discriminator: { propertyName: "type", mapping } });
    for (const type of TRIGGER_TYPE_NAMES) {
      const data = component(`EventData.${triggerType(type).objectKey}`);
      expect(resolve(component(`Event.${type}`))).toMatchObject({ properties: { type: { const: type }, data: { $ref: data } } });
      const { $schema: _, ...catalogue } = served.data.find((t) => t.type === type)?.schema ?? {};
      expect(resolve(data)).toEqual(catalogue);
    }
    expect(bodyOf("/api/v1/events/batch", "post")).toMatchObject({ properties: { events: { items: events } } });
    const objectKeys = new Set([...TRIGGER_TYPES.values()].map((t) => t.objectKey));
    expect(bodyOf("/api/v1/actions/{id}/test", "post")).toMatchObject({
      properties: { data: { anyOf: [...objectKeys].map((key) => ({ $ref: component(`EventData.${key}`) })) } },
    });
  });

  it("takes every type's example, and unknown fields inside its object, which ingest keeps", async () => {
    const at = contract.requestBodyAt("/api/v1/events", "post");
    for (const type of TRIGGER_TYPE_NAMES) {
      const { example, objectKey } = triggerType(type);
      const object = example[objectKey];
      const extended = typeof object === "object" ? { ...object, platform_extra: { kept: true } } : object;
      expect(contract.problems(at, { type, data: { [objectKey]: extended } })).toBeUndefined();
    }
    expect(contract.problems(at, { type: "event.created", data: { participant: { id: 1 } } })).toMatch(/data/);
    const answer = await send("POST", "/api/v1/events", JSON.stringify({ type: "participant.confirmed", data: { participant: { id: 9, platform_extra: 1 } } }));
    expect(answer.status).toBe(202);
  });

  it("finds a response the document does not describe: an undeclared field, an undeclared status, a bare 404", async () => {
    const trigger = JSON.parse((await send("GET", `/api/v1/triggers/${ids.triggers}`)).text) as Record<string, unknown>;
    expect(
      contract.check({ method: "GET", url: "/api/v1/triggers/trg_1", route: "/api/v1/triggers/:id", status: 200, body: JSON.stringify(trigger) }),
    ).toBeUndefined();
    const check = (route: string | undefined, status: number, body: unknown, url = "/api/v1/triggers/trg_1") =>
      contract.check({ method: "GET", url, route, status, body: JSON.stringify(body) });
    const problem = check("/api/v1/triggers/:id", 200, { ...trigger, test: true });
    expect(problem).toMatch(/additional properties/);
    expect(check("/api/v1/triggers/:id", 302, trigger)).toMatch(/status 302 is not declared/);
    expect(check(undefined, 404, { message: "no route" }, "/api/v1/nothing")).toMatch(/required property 'error'/);
    expect(check(undefined, 404, { error: { code: "not_found", message: "no route" } }, "/api/v1/nothing")).toBeUndefined();
  });
});

describe("the server answers as the document says", () => {
  it("answers a known path called with another method 405, with an Allow header listing its methods", async () => {
    const answer = await send("PUT", "/api/v1/triggers", "{}");
    expect(answer.status).toBe(405);
    expect(answer.headers.get("allow")).toBe("POST, GET, HEAD");
    expect(answer.error).toEqual({ code: "method_not_allowed", message: "PUT /api/v1/triggers is not allowed; use POST, GET, HEAD" });
    expect((await send("DELETE", `/api/v1/actions/${ids.actions}/secret`)).headers.get("allow")).toBe("GET, HEAD");
    expect((await send("GET", "/api/v1/nothing-here")).status).toBe(404);
  });

  it("refuses a query parameter the operation does not list, naming it as a query parameter", async () => {
    const list = await send("GET", "/api/v1/triggers?foo=1");
    expect(list.status).toBe(400);
    expect(list.error?.message).toBe('query: Unrecognized key: "foo"');
    const log = await send("GET", `/api/v1/actions/${ids.actions}/log?limit=5&sortt=name`);
    expect(log.error?.message).toBe('query: Unrecognized key: "sortt"');
    expect((await send("GET", `/api/v1/actions/${ids.actions}/log?limit=0`)).error?.message).toMatch(/^query\.limit: /);
    expect((await send("GET", `/api/v1/actions/${ids.actions}/log?limit=5`)).status).toBe(200);
  });

  it("refuses a null PATCH body instead of taking it as an empty patch", async () => {
    const answer = await send("PATCH", `/api/v1/triggers/${ids.triggers}`, "null");
    expect(answer.status).toBe(400);
    expect(answer.error?.message).toBe("body: Invalid input: expected object, received null");
    expect((await send("PATCH", `/api/v1/triggers/${ids.triggers}`, "{}")).status).toBe(200);
  });

  it("refuses an email address that format: email refuses (a domain label ending in '-')", async () => {
    const bad = { notification_email: "a@bad-.example.com" };
    expect(contract.problems(contract.requestBodyAt("/api/v1/account", "patch"), bad)).toMatch(/format "email"/);
    const answer = await send("PATCH", "/api/v1/account", JSON.stringify(bad));
    expect(answer.status).toBe(400);
    expect(answer.error?.message).toMatch(/^notification_email: /);
    const action = await send(
      "POST",
      `/api/v1/triggers/${ids.triggers}/actions`,
      JSON.stringify({ name: "m", type: "email", to: "a@bad-.example.com", subject: "s", body: "b" }),
    );
    expect(action.status).toBe(400);
    expect((await send("PATCH", "/api/v1/account", JSON.stringify({ notification_email: "ops@good-host.example.com" }))).status).toBe(200);
  });

  it("refuses a name of only whitespace, as the document's pattern does, and takes one of 200 characters", async () => {
    const blank = { name: " \t", type: "event.created" };
    expect(contract.problems(contract.requestBodyAt("/api/v1/triggers", "post"), blank)).toMatch(/pattern/);
    const answer = await send("POST", "/api/v1/triggers", JSON.stringify(blank));
    expect(answer.status).toBe(400);
    expect(answer.error?.message).toBe("name: name must not be empty");
    const long = { name: `${"n".repeat(199)} `, type: "event.created" };
    expect(contract.problems(contract.requestBodyAt("/api/v1/triggers", "post"), long)).toBeUndefined();
    expect((await send("POST", "/api/v1/triggers", JSON.stringify(long))).status).toBe(201);
  });

  it("takes an empty application/json body as no body, as an empty text/plain one", async () => {
    const rotate = await send("POST", `/api/v1/actions/${ids.actions}/secret/rotate`, "");
    expect(rotate.status).toBe(200);
    // An endpoint that needs a body says which: the same answer as for no body at all.
    const events = await send("POST", "/api/v1/events", "");
    expect(events.error?.message).toBe((await send("POST", "/api/v1/events")).error?.message);
    expect(events.error?.code).toBe("validation_error");
  });
});

/** Each document path with its path parameters filled: a real id, or one that names nothing. */
function pathWith(path: string, missing: boolean): string {
  const collection = path.split("/")[3] ?? "";
  return path.replace(/\{\w+\}/, missing ? "missing_1" : (ids[collection] ?? "missing_1"));
}

/**
 * Operations whose rules go beyond the schema (a reachable webhook URL, a template that parses, a test
 * send's data for its action's type, a time range in order, a time zone the platform knows): a body the document takes may still
 * get a 400 there. Everywhere else the schema is the whole rule.
 */
const RULES_BEYOND_SCHEMA = new Set([
  "post /api/v1/triggers/{id}/actions",
  "patch /api/v1/actions/{id}",
  "post /api/v1/actions/{id}/test",
  "post /api/v1/actions/{id}/recover",
  "post /api/v1/templates/preview",
  "patch /api/v1/account",
]);

/**
 * A trigger's conditions name fields of its type (the stored type, for a PATCH without one): a body
 * with conditions may get a 400 the document cannot foretell; one without is held to the schema.
 */
const CONDITIONS_BEYOND_SCHEMA = new Set(["post /api/v1/triggers", "patch /api/v1/triggers/{id}"]);
const withConditions = (body: unknown) => typeof body === "object" && body !== null && "conditions" in body && body.conditions != null;

describe("requests generated from the document", () => {
  const operations = () =>
    Object.entries(document.paths).flatMap(([path, methods]) =>
      // A counterexample names the operation rather than printing it whole.
      Object.entries(methods).map(([method, operation]) => ({ path, method, operation, [fc.toStringMethod]: () => `${method} ${path}` })),
    );

  it("a body the document takes is never refused 400 where the schema is the rule, one it refuses always is; never a 5xx", async () => {
    const withBody = operations().filter((o) => o.operation.requestBody);
    expect(withBody.length).toBeGreaterThan(8);
    const seen = new Set<string>();
    const request = fc.constantFrom(...withBody).chain((o) => {
      const valid = arbitraryFor(o.operation.requestBody?.content["application/json"].schema ?? {}, resolve);
      const body = fc.oneof(
        { weight: 3, arbitrary: valid.map((v) => ({ value: v })) },
        { weight: 3, arbitrary: mutated(valid).map((v) => ({ value: v })) },
        { weight: 1, arbitrary: fc.constant({ value: undefined }) },
      );
      return fc.record({ o: fc.constant(o), body, missing: fc.nat(4).map((n) => n === 0) });
    });
    await fc.assert(
      fc.asyncProperty(request, async ({ o, body, missing }) => {
        // No body counts as `{}` (the document marks such a body not required).
        const sent = body.value === undefined ? {} : body.value;
        const valid =
          !(body.value === undefined && o.operation.requestBody?.required) && contract.problems(contract.requestBodyAt(o.path, o.method), sent) === undefined;
        const url = pathWith(o.path, missing);
        const answer = await send(o.method.toUpperCase(), url, body.value === undefined ? undefined : JSON.stringify(body.value));
        const said = `${o.method} ${url} ${JSON.stringify(body.value)?.slice(0, 300)} → ${answer.status} ${answer.text.slice(0, 300)}`;
        expect(answer.status, said).toBeLessThan(500);
        const route = o.path.replace(/\{(\w+)\}/g, ":$1");
        expect(contract.check({ method: o.method.toUpperCase(), url, route, status: answer.status, body: answer.text }), said).toBeUndefined();
        seen.add(`${o.method} ${o.path} ${valid ? "valid" : "invalid"}`);
        const operation = `${o.method} ${o.path}`;
        const beyondSchema = RULES_BEYOND_SCHEMA.has(operation) || (CONDITIONS_BEYOND_SCHEMA.has(operation) && withConditions(sent));
        // Where the body is checked against the resource the path names, a missing one is found missing first.
        if (!valid) expect(missing && beyondSchema ? [400, 404] : [400], said).toContain(answer.status);
        else if (!beyondSchema) expect(answer.status, said).not.toBe(400);
      }),
      { numRuns: 300 },
    );
    // The generator reached both sides of every operation (a generator that only made garbage would pass the rest).
    for (const o of withBody) for (const side of ["valid", "invalid"]) expect(seen).toContain(`${o.method} ${o.path} ${side}`);
  }, 120_000);

  it("every documented path answers a method the document does not list for it 405, Allow naming the listed ones", async () => {
    for (const [path, methods] of Object.entries(document.paths)) {
      const listed = Object.keys(methods).map((m) => m.toUpperCase());
      const allow = new Set([...listed, ...(listed.includes("GET") ? ["HEAD"] : [])]);
      for (const method of ["GET", "POST", "PUT", "PATCH", "DELETE"].filter((m) => !allow.has(m))) {
        const answer = await send(method, pathWith(path, false));
        expect(answer.status, `${method} ${path}`).toBe(405);
        expect(new Set(answer.headers.get("allow")?.split(", ")), `${method} ${path}`).toEqual(allow);
      }
    }
  });

  it("query parameters the document lists are taken; any other is refused naming it", async () => {
    const withQuery = operations().filter((o) => o.operation.parameters?.some((p) => p.in === "query"));
    expect(withQuery.length).toBeGreaterThan(0);
    const request = fc.constantFrom(...withQuery).chain((o) => {
      // The cursor is opaque: only one the endpoint returned is valid, so it is left out here.
      const listed = (o.operation.parameters ?? []).filter((p) => p.in === "query" && p.name !== "cursor");
      const values = fc.record(Object.fromEntries(listed.map((p) => [p.name, arbitraryFor(p.schema, resolve).map(String)])), { requiredKeys: [] });
      const unknown = fc.option(
        fc.stringMatching(/^[a-z_]{1,12}$/).filter((name) => !listed.some((p) => p.name === name) && name !== "cursor"),
        { nil: undefined },
      );
      return fc.record({ o: fc.constant(o), values, unknown });
    });
    await fc.assert(
      fc.asyncProperty(request, async ({ o, values, unknown }) => {
        const query = new URLSearchParams(Object.entries(values).filter((entry): entry is [string, string] => entry[1] !== undefined));
        if (unknown) query.set(unknown, "1");
        const answer = await send("GET", `${pathWith(o.path, false)}?${query}`);
        const said = `${o.path}?${query} → ${answer.status} ${answer.text.slice(0, 300)}`;
        if (unknown) {
          expect(answer.status, said).toBe(400);
          expect(answer.error?.message, said).toBe(`query: Unrecognized key: "${unknown}"`);
        } else expect(answer.status, said).toBe(200);
      }),
      { numRuns: 100 },
    );
  }, 60_000);
});
