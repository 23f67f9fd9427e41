/** Integrations that work out of the box: body templates, custom headers, presets, test send, recovery, failing notice. */
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { triggerType } from "../src/catalogue/trigger-types.js";
import type { HooklineClient, InstanceDetailOut, TriggerTypeName } from "../src/client/index.js";
import type { StatsOut } from "../src/log/stats.js";
import { eventually, finishedInstance, startTestHookline, type TestHookline } from "./helpers/hookline.js";
import { type Receiver, startReceiver } from "./helpers/receiver.js";
import { type SmtpPeer, startSmtp } from "./helpers/smtp.js";

let h: TestHookline;
let receiver: Receiver;
let client: HooklineClient;
let n = 0;

/** A stand-in for a Slack incoming webhook: 400 `no_text` unless the JSON body has `text`, else 200 `ok`. */
function slack(r: { body: string }) {
  try {
    const body = JSON.parse(r.body) as { text?: unknown };
    if (typeof body.text === "string" && body.text.trim() !== "") return { status: 200, body: "ok" };
  } catch {
    return { status: 400, body: "invalid_payload" };
  }
  return { status: 400, body: "no_text" };
}

beforeAll(async () => {
  h = await startTestHookline();
  receiver = await startReceiver();
  ({ client } = await h.account());
});
afterAll(async () => {
  await h.stop();
  await receiver.close();
});

const example = (type: TriggerTypeName) => triggerType(type).example as Record<string, unknown>;

/** The action's newest instance, once finished. */
const finished = (actionId: string) => finishedInstance(client, actionId);

async function webhook(type: TriggerTypeName, settings: Record<string, unknown>) {
  const path = `/int-${++n}`;
  const trigger = await client.createTrigger({ name: `t${n}`, type });
  const action = await client.createAction(trigger.id, { name: `a${n}`, type: "webhook", url: receiver.url(path), ...settings } as never);
  return { path, trigger, action };
}

describe("Slack", () => {
  it("the documented payload alone gets Slack's 400 no_text; the Slack preset is accepted", async () => {
    const plain = await webhook("participant.confirmed", {});
    receiver.respond(plain.path, slack);
    const preset = await webhook("participant.confirmed", { preset: "slack" });
    receiver.respond(preset.path, slack);
    expect(preset.action.body).toMatch(/^\{"text": /);
    await client.ingest({ type: "participant.confirmed", data: example("participant.confirmed") });

    expect(await finished(plain.action.id)).toMatchObject({ state: "failed", attempts: 1, last_status: 400 });
    const ok = await finished(preset.action.id);
    expect(ok).toMatchObject({ state: "succeeded", last_status: 200 });
    const [request] = receiver.received.filter((r) => r.path === preset.path);
    expect(JSON.parse(request?.body ?? "")).toEqual({
      text: "*Participant confirmed*: Jane Doe (confirmed) for Dental cleaning, Wednesday, April 15th at 12:00pm",
    });
    // The signature covers the body actually sent, and apptoto_id is still the webhook-id.
    expect(request?.headers["webhook-id"]).toBe(ok.id);
    expect(() => new Webhook(preset.action.secret).verify(request?.body ?? "", request?.headers as Record<string, string>)).not.toThrow();
  });
});

describe("body templates", () => {
  it("JSON-escapes hostile values, so the body stays valid JSON with the values intact", async () => {
    const { path, action } = await webhook("participant.replied", {
      body: '{"text": "{{ participant.name }} said: {{ participant.last_reply }}", "id": {{ participant.id }}, "raw": {{ participant | json }}, "apptoto_id": "{{ apptoto_id }}"}',
    });
    const hostile = 'Zoë "Z" O\'Brien \\ back\\slash\nnew line\t</script><script>alert(1)</script> 😀\u2028';
    await client.ingest({ type: "participant.replied", data: { participant: { id: 7, name: hostile, last_reply: "C\r\nANCEL" } } });
    const instance = await finished(action.id);
    expect(instance.state).toBe("succeeded");
    const [request] = receiver.received.filter((r) => r.path === path);
    const body = JSON.parse(request?.body ?? "") as { text: string; id: number; raw: { name: string }; apptoto_id: string };
    expect(body.text).toBe(`${hostile} said: C\r\nANCEL`);
    expect(body.id).toBe(7);
    expect(body.raw.name).toBe(hostile);
    expect(body.apptoto_id).toBe(instance.id);
  });

  it.each([
    ['{"text": {{ participant.name }}}', /^400 validation_error: body: with the example payload of participant.confirmed, the rendered body is not valid JSON/],
    ['{"text": "{{ participant.name "}', /^400 validation_error: body: line 1, column \d+: /],
    ['{"text": "{{ participant.name | no_such }}"}', /^400 validation_error: body: line 1, column \d+: undefined filter: no_such/],
  ])("refuses %s on save, saying where", async (body, message) => {
    const trigger = await client.createTrigger({ name: "bad body", type: "participant.confirmed" });
    await expect(client.createAction(trigger.id, { name: "x", type: "webhook", url: receiver.url("/never"), body } as never)).rejects.toThrow(message);
  });

  it("a PATCH with body null goes back to the documented payload", async () => {
    const { path, action } = await webhook("booking_page.viewed", { body: '{"page": "{{ booking_page.name }}"}' });
    await client.updateAction(action.id, { body: null } as never);
    expect((await client.getAction(action.id)).body).toBeUndefined();
    await client.ingest({ type: "booking_page.viewed", data: example("booking_page.viewed") });
    await receiver.waitFor(1, path);
    expect(Object.keys(JSON.parse(receiver.received.find((r) => r.path === path)?.body ?? "{}"))).toEqual(["booking_page", "apptoto_id"]);
  });
});

describe("Zapier", () => {
  it("the Zapier preset sends the payload flat and readable", async () => {
    const { path, action } = await webhook("booking_request.completed", { preset: "zapier" });
    await client.ingest({ type: "booking_request.completed", data: example("booking_request.completed") });
    expect((await finished(action.id)).state).toBe("succeeded");
    const body = JSON.parse(receiver.received.find((r) => r.path === path)?.body ?? "{}") as Record<string, unknown>;
    expect(body).toMatchObject({
      booking_request_token: "br_9c2e71",
      booking_request_contact_info_email: "jane.doe@example.com",
      booking_request_booking_page_name: "Book a cleaning",
    });
  });
});

describe("custom headers", () => {
  it("arrive at the receiver, are sealed at rest, and are redacted in the API and the log", async () => {
    const { path, action } = await webhook("event.created", {
      headers: { Authorization: "Bearer crm-token-123", "X-Api-Key": "key-456", "X-Tenant": "clinic-9" },
    });
    expect(action.headers).toEqual({ Authorization: "[redacted]", "X-Api-Key": "[redacted]", "X-Tenant": "[redacted]" });
    await client.ingest({ type: "event.created", data: example("event.created") });
    const instance = await finished(action.id);
    const [request] = receiver.received.filter((r) => r.path === path);
    expect(request?.headers).toMatchObject({ authorization: "Bearer crm-token-123", "x-api-key": "key-456", "x-tenant": "clinic-9" });
    expect(instance.attempt_log[0]?.request.headers).toMatchObject({ Authorization: "[redacted]", "X-Api-Key": "[redacted]", "X-Tenant": "[redacted]" });
    const everything = JSON.stringify([instance, await client.getAction(action.id)]);
    for (const secret of ["crm-token-123", "key-456", "clinic-9"]) expect(everything).not.toContain(secret);
    const stored = JSON.stringify(await h.hookline.store.db.selectFrom("actions").select("settings").where("id", "=", action.id).executeTakeFirst());
    for (const secret of ["crm-token-123", "key-456", "clinic-9"]) expect(stored).not.toContain(secret);
  });

  it("keep a value sent back as [redacted] on PATCH, and take new ones", async () => {
    const { path, action } = await webhook("event.updated", { headers: { Authorization: "Bearer old" } });
    await client.updateAction(action.id, { headers: { Authorization: "[redacted]", "X-Extra": "new" } } as never);
    await client.ingest({ type: "event.updated", data: example("event.updated") });
    await receiver.waitFor(1, path);
    expect(receiver.received.find((r) => r.path === path)?.headers).toMatchObject({ authorization: "Bearer old", "x-extra": "new" });
  });

  it.each([
    [{ "webhook-id": "x" }, /headers\.webhook-id: is set by Hookline/],
    [{ Host: "evil.example" }, /headers\.Host: is set by Hookline/],
    [{ "Content-Length": "1" }, /headers\.Content-Length: is set by Hookline/],
    [{ "X-Bad": "a\r\nInjected: 1" }, /line breaks/],
    [{ "Bad Name": "x" }, /not a valid header name/],
  ])("refuse %j", async (headers, message) => {
    const trigger = await client.createTrigger({ name: "h", type: "event.created" });
    await expect(client.createAction(trigger.id, { name: "x", type: "webhook", url: receiver.url("/never"), headers } as never)).rejects.toThrow(message);
  });
});

describe("send test", () => {
  it("sends the example payload through the real delivery path, even for a disabled action, and returns the attempt", async () => {
    const { path, action } = await webhook("message.received", {});
    await client.updateAction(action.id, { enabled: false });
    const result = await client.request<InstanceDetailOut>("POST", `/api/v1/actions/${action.id}/test`, {});
    expect(result).toMatchObject({ state: "succeeded", attempts: 1, last_status: 200 });
    expect(result.attempt_log).toHaveLength(1);
    const [request] = receiver.received.filter((r) => r.path === path);
    expect(JSON.parse(request?.body ?? "")).toEqual({ message: triggerType("message.received").example.message, apptoto_id: result.id });
    expect(() => new Webhook(action.secret).verify(request?.body ?? "", request?.headers as Record<string, string>)).not.toThrow();
    expect((await client.log(action.id)).data.map((i) => i.id)).toEqual([result.id]);
    // A given payload is validated like an ingested one.
    await expect(client.request("POST", `/api/v1/actions/${action.id}/test`, { data: { message: { id: "x" } } })).rejects.toThrow(/data\.message\.id/);
  });
});

describe("test sends are marked", () => {
  it("a test send carries x-hookline-test: true and says test: true in the log; a real delivery has neither", async () => {
    const { path, action } = await webhook("participant.accepted_booking", {});
    const result = await client.request<InstanceDetailOut>("POST", `/api/v1/actions/${action.id}/test`, {});
    expect(result).toMatchObject({ state: "succeeded", test: true });
    expect(result.attempt_log[0]?.request.headers).toMatchObject({ "x-hookline-test": "true" });
    await client.ingest({ type: "participant.accepted_booking", data: example("participant.accepted_booking") });
    const [tested, real] = await receiver.waitFor(2, path);
    expect(tested?.headers["x-hookline-test"]).toBe("true");
    expect(real?.headers).not.toHaveProperty("x-hookline-test");
    // Both still verify as Standard Webhooks: the mark is beside the signature, not in it.
    for (const r of [tested, real]) expect(() => new Webhook(action.secret).verify(r?.body ?? "", r?.headers as Record<string, string>)).not.toThrow();
    const realInstance = await eventually(async () => {
      const log = (await client.log(action.id)).data;
      return log.length === 2 && log.every((i) => i.state === "succeeded") ? log.find((i) => i.id !== result.id) : undefined;
    });
    expect((await client.log(action.id)).data.map((i) => [i.id, i.test])).toEqual(
      expect.arrayContaining([
        [result.id, true],
        [realInstance.id, false],
      ]),
    );
    expect(await client.instance(result.id)).toMatchObject({ test: true });
    expect(await client.instance(realInstance.id)).toMatchObject({ test: false });
  });

  it("cannot be forged by a custom header", async () => {
    const trigger = await client.createTrigger({ name: "forge", type: "event.created" });
    await expect(
      client.createAction(trigger.id, { name: "x", type: "webhook", url: receiver.url("/never"), headers: { "X-Hookline-Test": "true" } } as never),
    ).rejects.toThrow(/is set by Hookline and cannot be overridden/);
  });

  it("a test send counts in neither the success rate, the attempts chart, the metrics nor the failing flag, and recovery leaves it alone", async () => {
    const f = await startTestHookline({ HOOKLINE_FAILING_AFTER: "0.2" });
    try {
      const { client: c } = await f.account("Test sends");
      const type = "participant.canceled_booking";
      const trigger = await c.createTrigger({ name: "t", type });
      const path = "/test-sends";
      const action = await c.createAction(trigger.id, { name: "CRM", type: "webhook", url: receiver.url(path) });
      const since = new Date(Date.now() - 1000).toISOString();
      const figures = async () => {
        const stats = await c.request<StatsOut>("GET", `/api/v1/actions/${action.id}/stats`);
        const attempts = stats.hourly.reduce((n, h) => n + h.succeeded + h.retry + h.failed, 0);
        return { success_rate: stats.success_rate, instances: stats.instances, attempts };
      };
      const attemptsMetric = async () => {
        const text = await (await fetch(`${f.baseUrl}/metrics`)).text();
        return [...text.matchAll(/^hookline_attempts_total\{[^}]*\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
      };
      const realDelivery = async (state: "succeeded" | "failed") => {
        const event = await c.ingest({ type, data: example(type) });
        return eventually(async () => {
          const log = (await c.log(action.id)).data;
          return log.filter((i) => i.event_id === event.id && i.state === state)[0];
        });
      };
      const testSend = () => c.request<InstanceDetailOut>("POST", `/api/v1/actions/${action.id}/test`, {});

      receiver.respond(path, () => ({ status: 200 }));
      await realDelivery("succeeded");
      const healthy = await figures();
      expect(healthy).toEqual({ success_rate: 1, instances: { succeeded: 1, failed: 0, pending: 0, suppressed: 0 }, attempts: 1 });
      const metric = await attemptsMetric();
      expect(metric).toBe(1);

      // A failing test send is in the log, and nowhere else.
      receiver.respond(path, () => ({ status: 404 }));
      expect(await testSend()).toMatchObject({ state: "failed", test: true });
      expect(await figures()).toEqual(healthy);
      expect(await attemptsMetric()).toBe(metric);
      await new Promise((r) => setTimeout(r, 300)); // past HOOKLINE_FAILING_AFTER
      expect(await c.getAction(action.id)).toMatchObject({ failing: false, failing_since: null });

      // Real deliveries fail: the action is failing, and a succeeding test send does not clear it.
      const failed = await realDelivery("failed");
      const failing = await eventually(async () => {
        const a = await c.getAction(action.id);
        return a.failing ? a : undefined;
      });
      receiver.respond(path, () => ({ status: 200 }));
      expect(await testSend()).toMatchObject({ state: "succeeded", test: true });
      expect(await c.getAction(action.id)).toMatchObject({ failing: true, failing_since: failing.failing_since });
      expect(await figures()).toEqual({ success_rate: 0.5, instances: { succeeded: 1, failed: 1, pending: 0, suppressed: 0 }, attempts: 2 });
      expect(await attemptsMetric()).toBe(metric + 1);

      // Recovery re-sends the real failure, not the failed test send; its success clears the flag.
      expect(await c.request("POST", `/api/v1/actions/${action.id}/recover`, { since })).toEqual({ recovered: 1 });
      await eventually(async () => ((await c.instance(failed.id)).state === "succeeded" ? true : undefined));
      expect(await c.getAction(action.id)).toMatchObject({ failing: false, failing_since: null });
      expect((await c.log(action.id, { outcome: "failed" })).data.map((i) => i.test)).toEqual([true]);
    } finally {
      await f.stop();
    }
  });
});

describe("bulk recovery", () => {
  it("re-sends exactly the failed instances of the window, each with its own apptoto_id", async () => {
    const { path, action } = await webhook("participant.invite_sent", {});
    receiver.respond(path, () => ({ status: 410, body: "gone" }));
    const ingest = (id: number) => client.ingest({ type: "participant.invite_sent", data: { participant: { id } } });
    await ingest(1);
    await ingest(2);
    await eventually(async () => ((await client.log(action.id, { outcome: "failed" })).data.length === 2 ? true : undefined));
    await new Promise((r) => setTimeout(r, 20));
    const since = new Date().toISOString();
    await ingest(3);
    await ingest(4);
    await eventually(async () => ((await client.log(action.id, { outcome: "failed" })).data.length === 4 ? true : undefined));
    const until = new Date(Date.now() + 1000).toISOString();
    receiver.respond(path, () => ({ status: 200 }));
    const windowed = (await client.log(action.id)).data.filter((i) => i.created_at >= since).map((i) => i.id);

    expect(await client.request("POST", `/api/v1/actions/${action.id}/recover`, { since, until })).toEqual({ recovered: 2 });
    await eventually(async () => ((await client.log(action.id, { outcome: "succeeded" })).data.length === 2 ? true : undefined));
    const log = (await client.log(action.id)).data;
    expect(
      log
        .filter((i) => i.state === "succeeded")
        .map((i) => i.id)
        .sort(),
    ).toEqual([...windowed].sort());
    expect(log.filter((i) => i.state === "failed")).toHaveLength(2);
    const resent = receiver.received.filter((r) => r.path === path).slice(4);
    expect(resent.map((r) => r.headers["webhook-id"]).sort()).toEqual([...windowed].sort());
    // Nothing failed in the window any more: a second recovery finds nothing.
    expect(await client.request("POST", `/api/v1/actions/${action.id}/recover`, { since, until })).toEqual({ recovered: 0 });
    await expect(client.request("POST", `/api/v1/actions/${action.id}/recover`, { since: until, until: since })).rejects.toThrow(/until: must be after since/);
  });
});

describe("failing-endpoint notice", () => {
  it("flags an action whose deliveries keep failing, emails the account once, and clears when it recovers", async () => {
    const smtp: SmtpPeer = await startSmtp();
    const f = await startTestHookline({ HOOKLINE_FAILING_AFTER: "0.3", HOOKLINE_SMTP_URL: smtp.url, HOOKLINE_SMTP_FROM: "hookline@ops.example" });
    try {
      const { client: c } = await f.account("Failing Clinic");
      await c.request("PATCH", "/api/v1/account", { notification_email: "owner@clinic.example" });
      const trigger = await c.createTrigger({ name: "t", type: "stoplist.phone_added" });
      const action = await c.createAction(trigger.id, { name: "CRM sync", type: "webhook", url: receiver.url("/failing") });
      receiver.respond("/failing", () => ({ status: 404 }));
      await c.ingest({ type: "stoplist.phone_added", data: { phone: "+15550001" } });
      const failing = await eventually(async () => {
        const a = await c.getAction(action.id);
        return a.failing ? a : undefined;
      });
      expect(failing.enabled).toBe(true); // never disabled silently
      expect(failing.failing_since).not.toBeNull();
      const mail = await eventually(async () => smtp.mails.find((m) => m.to.includes("owner@clinic.example")));
      expect(mail.subject).toMatch(/^Hookline: "CRM sync" has been failing since /);
      expect(mail.text).toContain(`/api/v1/actions/${action.id}/recover`);
      // More failures: no second email.
      await c.ingest({ type: "stoplist.phone_added", data: { phone: "+15550002" } });
      await new Promise((r) => setTimeout(r, 500));
      expect(smtp.mails.filter((m) => m.to.includes("owner@clinic.example"))).toHaveLength(1);
      // It recovers: the flag clears.
      receiver.respond("/failing", () => ({ status: 200 }));
      await c.ingest({ type: "stoplist.phone_added", data: { phone: "+15550003" } });
      await eventually(async () => ((await c.getAction(action.id)).failing_since === null ? true : undefined));
      expect((await c.getAction(action.id)).failing).toBe(false);
    } finally {
      await f.stop();
      await smtp.close();
    }
  });
});
