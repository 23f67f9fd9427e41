/** Webhook delivery end to end: real Hookline, real SQLite file, real receiver on loopback. */
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { triggerType } from "../src/catalogue/trigger-types.js";
import { HooklineApiError, type HooklineClient, type TriggerTypeName } from "../src/client/index.js";
import { eventually, finishedInstance, startTestHookline, type TestHookline } from "./helpers/hookline.js";
import { type Receiver, startReceiver } from "./helpers/receiver.js";

let h: TestHookline;
let receiver: Receiver;
let client: HooklineClient;
let n = 0;

beforeAll(async () => {
  h = await startTestHookline();
  receiver = await startReceiver();
  ({ client } = await h.account());
});
afterAll(async () => {
  await h.stop();
  await receiver.close();
});

/** A trigger of `type` with one webhook action aimed at a fresh receiver path. */
async function hook(type: TriggerTypeName = "participant.confirmed", url?: string) {
  const path = `/hook-${++n}`;
  const trigger = await client.createTrigger({ name: `t${n}`, type });
  const action = await client.createAction(trigger.id, { name: `a${n}`, type: "webhook", url: url ?? receiver.url(path) });
  return { path, trigger, action };
}

function ingestExample(type: TriggerTypeName) {
  return client.ingest({ type, data: triggerType(type).example as Record<string, unknown> });
}

/** The action's newest instance, once finished. */
const finished = (actionId: string) => finishedInstance(client, actionId);

describe("webhook delivery", () => {
  it("delivers 200 in one attempt: succeeded, sent and delivered", async () => {
    const { path, action } = await hook();
    await ingestExample("participant.confirmed");
    const instance = await finished(action.id);
    expect(instance).toMatchObject({ state: "succeeded", sent: true, delivered: true, attempts: 1, last_status: 200 });
    expect(instance.attempt_log).toHaveLength(1);
    expect(instance.attempt_log[0]).toMatchObject({ outcome: "succeeded", response: { status: 200, body: "ok" } });
    expect(receiver.received.filter((r) => r.path === path)).toHaveLength(1);
  });

  it.each([201, 202, 204])("treats %i as success", async (status) => {
    const { path, action } = await hook();
    receiver.respond(path, () => ({ status }));
    await ingestExample("participant.confirmed");
    expect((await finished(action.id)).state).toBe("succeeded");
  });

  it("POSTs JSON with a User-Agent and Standard Webhooks headers that verify with the action's secret", async () => {
    const { path, action } = await hook();
    await ingestExample("participant.confirmed");
    const [request] = await receiver.waitFor(1, path);
    expect(request?.headers["content-type"]).toBe("application/json");
    expect(request?.headers["user-agent"]).toMatch(/^Hookline/);
    const payload = JSON.parse(request?.body ?? "") as { apptoto_id: string };
    expect(request?.headers["webhook-id"]).toBe(payload.apptoto_id);
    const verified = new Webhook(action.secret).verify(request?.body ?? "", request?.headers as Record<string, string>);
    expect(verified).toEqual(payload);
  });

  it("after a secret rotation, signs with both secrets so either verifies", async () => {
    const { path, action } = await hook();
    const rotated = await client.rotateSecret(action.id);
    await ingestExample("participant.confirmed");
    const [request] = await receiver.waitFor(1, path);
    const headers = request?.headers as Record<string, string>;
    expect(headers["webhook-signature"]?.split(" ")).toHaveLength(2);
    for (const secret of [action.secret, rotated.secret]) expect(() => new Webhook(secret).verify(request?.body ?? "", headers)).not.toThrow();
  });

  it("a second and a third rotation within 24 h keep every earlier secret verifying", async () => {
    const { path, action } = await hook();
    const rotations = [await client.rotateSecret(action.id), await client.rotateSecret(action.id), await client.rotateSecret(action.id)];
    await ingestExample("participant.confirmed");
    const [request] = await receiver.waitFor(1, path);
    const headers = request?.headers as Record<string, string>;
    expect(headers["webhook-signature"]?.split(" ")).toHaveLength(4);
    for (const secret of [action.secret, ...rotations.map((r) => r.secret)]) {
      expect(() => new Webhook(secret).verify(request?.body ?? "", headers)).not.toThrow();
    }
  });

  it("retries 503 exactly 5 times in all, then fails, with the same apptoto_id on every attempt", async () => {
    const { path, action } = await hook();
    receiver.respond(path, () => ({ status: 503, body: "down" }));
    await ingestExample("participant.confirmed");
    const instance = await finished(action.id);
    expect(instance).toMatchObject({ state: "failed", attempts: 5, sent: true, delivered: false, last_status: 503 });
    expect(instance.attempt_log.map((a) => a.outcome)).toEqual(["retry", "retry", "retry", "retry", "failed"]);
    const requests = receiver.received.filter((r) => r.path === path);
    expect(requests).toHaveLength(5);
    const ids = new Set(requests.map((r) => (JSON.parse(r.body) as { apptoto_id: string }).apptoto_id));
    expect(ids).toEqual(new Set([instance.id]));
    expect(new Set(requests.map((r) => r.headers["webhook-id"]))).toEqual(new Set([instance.id]));
  });

  it("succeeds when a 5xx receiver recovers, recording each attempt", async () => {
    const { path, action } = await hook();
    receiver.respond(path, (_r, _res, nth) => (nth < 3 ? { status: 502 } : { status: 200 }));
    await ingestExample("participant.confirmed");
    const instance = await finished(action.id);
    expect(instance).toMatchObject({ state: "succeeded", attempts: 3 });
    expect(instance.attempt_log.map((a) => a.response?.status)).toEqual([502, 502, 200]);
  });

  it("fails a 404 after one attempt, never retried", async () => {
    const { path, action } = await hook();
    receiver.respond(path, () => ({ status: 404, body: "no such hook" }));
    await ingestExample("participant.confirmed");
    const instance = await finished(action.id);
    expect(instance).toMatchObject({ state: "failed", attempts: 1, sent: true, delivered: false, last_status: 404 });
    expect(instance.attempt_log[0]?.response?.body).toBe("no such hook");
    await new Promise((r) => setTimeout(r, 200));
    expect(receiver.received.filter((r) => r.path === path)).toHaveLength(1);
  });

  it("does not follow a 301: one attempt, failed, the redirect target never called", async () => {
    const { path, action } = await hook();
    const target = `${path}-target`;
    receiver.respond(path, () => ({ status: 301, headers: { location: receiver.url(target) } }));
    await ingestExample("participant.confirmed");
    const instance = await finished(action.id);
    expect(instance).toMatchObject({ state: "failed", attempts: 1, last_status: 301 });
    expect(instance.last_error).toMatch(/redirects are not followed/);
    expect(receiver.received.filter((r) => r.path === target)).toHaveLength(0);
  });

  it("retries 429 after the receiver's Retry-After", async () => {
    const { path, action } = await hook();
    receiver.respond(path, (_r, _res, nth) => (nth === 1 ? { status: 429, headers: { "retry-after": "1" } } : { status: 200 }));
    await ingestExample("participant.confirmed");
    const instance = await finished(action.id);
    expect(instance).toMatchObject({ state: "succeeded", attempts: 2 });
    const [first, second] = receiver.received.filter((r) => r.path === path);
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(950);
  });

  it("times out a hanging receiver and retries", async () => {
    const { path, action } = await hook();
    receiver.respond(path, (_r, res, nth) => {
      if (nth === 1) return undefined; // never answers: the 1 s request timeout cuts it
      res.writeHead(200).end("late but fine");
      return undefined;
    });
    await ingestExample("participant.confirmed");
    const instance = await finished(action.id);
    expect(instance).toMatchObject({ state: "succeeded", attempts: 2 });
    expect(instance.attempt_log[0]).toMatchObject({ outcome: "retry", response: null });
    expect(instance.attempt_log[0]?.error).toMatch(/timed out/);
    expect(instance.attempt_log[0]?.duration_ms).toBeGreaterThanOrEqual(900);
  });

  it("retries a refused connection, and fails after 5 attempts, never sent", async () => {
    const { action } = await hook("participant.confirmed", "http://127.0.0.1:1/closed");
    await ingestExample("participant.confirmed");
    const instance = await finished(action.id);
    expect(instance).toMatchObject({ state: "failed", attempts: 5, sent: false, delivered: false, last_status: null });
    expect(instance.attempt_log[0]?.error).toMatch(/ECONNREFUSED/);
  });

  it("stores a long response body truncated at the cap", async () => {
    const { path, action } = await hook();
    receiver.respond(path, () => ({ status: 200, body: "x".repeat(200_000) }));
    await ingestExample("participant.confirmed");
    const instance = await finished(action.id);
    expect(instance.attempt_log[0]?.response).toMatchObject({ truncated: true });
    expect(instance.attempt_log[0]?.response?.body).toHaveLength(65_536);
  });

  it("resends a finished instance as a new series with the same apptoto_id", async () => {
    const { path, action } = await hook();
    receiver.respond(path, (_r, _res, nth) => (nth === 1 ? { status: 400 } : { status: 200 }));
    await ingestExample("participant.confirmed");
    const failed = await finished(action.id);
    expect(failed.state).toBe("failed");
    await client.resend(failed.id);
    const resent = await eventually(async () => {
      const i = await client.instance(failed.id);
      return i.state === "succeeded" ? i : undefined;
    });
    expect(resent.attempts).toBe(2);
    expect(resent.attempt_log.map((a) => [a.series, a.number])).toEqual([
      [1, 1],
      [2, 1],
    ]);
    const ids = receiver.received.filter((r) => r.path === path).map((r) => r.headers["webhook-id"]);
    expect(ids).toEqual([failed.id, failed.id]);
  });

  it("answers 409 when resending an instance that is still being delivered", async () => {
    const { path, action } = await hook();
    receiver.respond(path, () => undefined); // hangs
    await ingestExample("participant.confirmed");
    const { data } = await eventually(async () => {
      const log = await client.log(action.id);
      return log.data.length > 0 ? log : undefined;
    });
    await expect(client.resend(data[0]?.id ?? "")).rejects.toMatchObject({ status: 409, code: "conflict" });
  });
});

describe("payloads", () => {
  it.each([
    ["event.created", "event"],
    ["participant.confirmed", "participant"],
    ["booking_page.viewed", "booking_page"],
    ["booking_request.completed", "booking_request"],
    ["message.failed", "message"],
    ["stoplist.phone_added", "phone"],
    ["stoplist.email_added", "email"],
  ] as const)("%s sends exactly {%s, apptoto_id}, the object unchanged", async (type, key) => {
    const { path } = await hook(type);
    await ingestExample(type);
    const [request] = await receiver.waitFor(1, path);
    const payload = JSON.parse(request?.body ?? "{}") as Record<string, unknown>;
    expect(Object.keys(payload)).toEqual([key, "apptoto_id"]);
    expect(payload[key]).toEqual(triggerType(type).example[key]);
    expect(payload.apptoto_id).toMatch(/^ins_/);
  });

  it("a participant carries its event", async () => {
    const { path } = await hook("participant.not_coming");
    await ingestExample("participant.not_coming");
    const [request] = await receiver.waitFor(1, path);
    const { participant } = JSON.parse(request?.body ?? "{}") as { participant: { event: { id: number; title: string } } };
    expect(participant.event).toMatchObject({ id: 40211, title: "Dental cleaning" });
  });

  it("passes unknown extra fields through to the receiver", async () => {
    const { path } = await hook("booking_page.viewed");
    await client.ingest({ type: "booking_page.viewed", data: { booking_page: { id: 9, referrer: "newsletter", nested: { a: [1, 2] } } } });
    const [request] = await receiver.waitFor(1, path);
    expect(JSON.parse(request?.body ?? "{}")).toMatchObject({ booking_page: { id: 9, referrer: "newsletter", nested: { a: [1, 2] } } });
  });
});

describe("matching", () => {
  it("a specific state event also fires the (any state) trigger: one instance per fired trigger's action", async () => {
    const specific = await hook("participant.canceled_booking");
    const any = await hook("participant.booking_state_changed");
    const result = await ingestExample("participant.canceled_booking");
    expect(result.instances).toBe(2);
    const [a] = await receiver.waitFor(1, specific.path);
    const [b] = await receiver.waitFor(1, any.path);
    expect(a?.headers["webhook-id"]).not.toBe(b?.headers["webhook-id"]);
    const { data } = await client.log(any.action.id);
    expect(data[0]).toMatchObject({ trigger_type: "participant.booking_state_changed", event_type: "participant.canceled_booking" });
  });

  it("ingesting an (any state) type fires only that trigger", async () => {
    const { trigger: specific } = await hook("participant.needs_reschedule");
    const any = await hook("participant.reminder_state_changed");
    const result = await ingestExample("participant.reminder_state_changed");
    expect(result.instances).toBe(1);
    await receiver.waitFor(1, any.path);
    const { data } = await client.listActions(specific.id);
    expect((await client.log(data[0]?.id ?? "")).data).toHaveLength(0);
  });

  it("a trigger with several actions runs each of them", async () => {
    const { trigger, path } = await hook("message.sent");
    await client.createAction(trigger.id, { name: "second", type: "webhook", url: receiver.url(`${path}-2`) });
    expect((await ingestExample("message.sent")).instances).toBe(2);
    await receiver.waitFor(1, path);
    await receiver.waitFor(1, `${path}-2`);
  });

  it("a disabled trigger or a disabled action creates no instances; re-enabled, they do", async () => {
    const { trigger, action } = await hook("event.deleted");
    await client.updateTrigger(trigger.id, { enabled: false });
    expect((await ingestExample("event.deleted")).instances).toBe(0);
    await client.updateTrigger(trigger.id, { enabled: true });
    await client.updateAction(action.id, { enabled: false });
    expect((await ingestExample("event.deleted")).instances).toBe(0);
    await client.updateAction(action.id, { enabled: true });
    expect((await ingestExample("event.deleted")).instances).toBe(1);
    expect((await client.log(action.id)).data).toHaveLength(1);
  });

  it("an event with no trigger is stored and answered with 0 instances", async () => {
    const { client: fresh } = await h.account("no triggers");
    const type = "stoplist.email_added";
    expect(await fresh.ingest({ type, data: triggerType(type).example as Record<string, unknown> })).toMatchObject({ instances: 0, duplicate: false });
  });
});

describe("metrics", () => {
  it("exposes instances, attempts by outcome, latencies and the queue in Prometheus format", async () => {
    const { path, action } = await hook("participant.check_in_state_changed");
    receiver.respond(path, (_r, _res, nth) => (nth === 1 ? { status: 503 } : { status: 200 }));
    await ingestExample("participant.check_in_state_changed");
    expect((await finished(action.id)).state).toBe("succeeded");
    const response = await fetch(`${h.baseUrl}/metrics`);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}"+.*?()[\]\\^$|]/g, "\\$&")} (\\S+)$`, "m").exec(text)?.[1]);
    expect(value('hookline_instances_created_total{action_type="webhook"}')).toBeGreaterThanOrEqual(1);
    expect(value('hookline_attempts_total{action_type="webhook",outcome="succeeded"}')).toBeGreaterThanOrEqual(1);
    expect(value('hookline_attempts_total{action_type="webhook",outcome="retry"}')).toBeGreaterThanOrEqual(1);
    expect(value('hookline_delivery_latency_seconds_count{action_type="webhook"}')).toBeGreaterThanOrEqual(1);
    expect(value('hookline_attempt_duration_seconds_bucket{action_type="webhook",le="+Inf"}')).toBeGreaterThanOrEqual(2);
    expect(value("hookline_queue_due")).toBeGreaterThanOrEqual(0);
    expect(value("hookline_attempts_in_flight")).toBeGreaterThanOrEqual(0);
    // Every line is a comment or a sample: "name{labels} value".
    for (const line of text.trim().split("\n")) expect(line).toMatch(/^(# (HELP|TYPE) \w+ .+|\w+(\{[^}]*\})? -?[\d.e+-]+)$/);
  });
});

describe("webhook delivery on the main thread (HOOKLINE_WEBHOOK_THREAD=off)", () => {
  it("delivers, signed, and records the attempt as with the thread", async () => {
    const single = await startTestHookline({ HOOKLINE_WEBHOOK_THREAD: "off" });
    try {
      const { client: own } = await single.account();
      const trigger = await own.createTrigger({ name: "single", type: "participant.confirmed" });
      const action = await own.createAction(trigger.id, { name: "single", type: "webhook", url: receiver.url("/single-thread") });
      await own.ingest({ type: "participant.confirmed", data: triggerType("participant.confirmed").example as Record<string, unknown> });
      const instance = await finishedInstance(own, action.id);
      expect(instance).toMatchObject({ state: "succeeded", attempts: 1, last_status: 200 });
      const [request] = await receiver.waitFor(1, "/single-thread");
      const secret = (await own.revealSecret(action.id)).secret;
      expect(() => new Webhook(secret).verify(request?.body ?? "", request?.headers as Record<string, string>)).not.toThrow();
    } finally {
      await single.stop();
    }
  });
});

describe("signing secrets over time", () => {
  const HOUR = 3600_000;
  // Hookline's clock runs `offset` from the real one. Deliveries are made at the real time, since
  // the receiver's verifier refuses a timestamp more than 5 minutes off; rotations are made earlier.
  let offset = 0;
  let clocked: TestHookline;
  let own: HooklineClient;
  beforeAll(async () => {
    // On the main thread: the webhook thread keeps its own (real) clock.
    clocked = await startTestHookline({ HOOKLINE_WEBHOOK_THREAD: "off" }, { now: () => Date.now() + offset });
    ({ client: own } = await clocked.account());
  });
  afterAll(() => clocked.stop());

  async function clockedHook(name: string) {
    const trigger = await own.createTrigger({ name, type: "participant.confirmed" });
    return own.createAction(trigger.id, { name, type: "webhook", url: receiver.url(`/${name}`) });
  }

  it("a secret rotated away stops signing once its own 24 h are over; those rotated away later still sign", async () => {
    offset = -25 * HOUR;
    const action = await clockedHook("expiring");
    const second = await own.rotateSecret(action.id);
    offset = -23 * HOUR;
    const third = await own.rotateSecret(action.id);
    offset = -22 * HOUR;
    const fourth = await own.rotateSecret(action.id);
    offset = 0;
    await own.ingest({ type: "participant.confirmed", data: triggerType("participant.confirmed").example as Record<string, unknown> });
    const [request] = await receiver.waitFor(1, "/expiring");
    const headers = request?.headers as Record<string, string>;
    expect(headers["webhook-signature"]?.split(" ")).toHaveLength(3);
    for (const { secret } of [second, third, fourth]) expect(() => new Webhook(secret).verify(request?.body ?? "", headers)).not.toThrow();
    expect(() => new Webhook(action.secret).verify(request?.body ?? "", headers)).toThrow();
  });

  it("a rotation beyond 5 previous secrets still signing is refused with 409 limit_reached until the oldest expires", async () => {
    offset = -23 * HOUR;
    const action = await clockedHook("bounded");
    let current = action.secret;
    for (let i = 0; i < 5; i++) current = (await own.rotateSecret(action.id)).secret;
    const refused = await own.rotateSecret(action.id).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(HooklineApiError);
    expect(refused).toMatchObject({ status: 409, code: "limit_reached" });
    expect((refused as HooklineApiError).message).toMatch(/rotated 5 times within 24 hours.*oldest expires at \d{4}-/);
    expect((await own.revealSecret(action.id)).secret).toBe(current);
    // Past the first rotation's 24 hours, its secret has expired and there is room again.
    offset = HOUR + 1_000;
    expect((await own.rotateSecret(action.id)).secret).not.toBe(current);
  });
});
