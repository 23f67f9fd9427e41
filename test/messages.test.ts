/** SMS and email actions against real protocol peers on loopback: an SMTP server and a Twilio stand-in. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { triggerType } from "../src/catalogue/trigger-types.js";
import type { HooklineClient, InstanceDetailOut, TriggerTypeName } from "../src/client/index.js";
import { eventually, finishedInstance, freePort, startTestHookline, type TestHookline } from "./helpers/hookline.js";
import { type SmtpPeer, startSmtp } from "./helpers/smtp.js";
import { startTwilio, TWILIO_FROM, TWILIO_SID, TWILIO_TOKEN, type TwilioStandIn } from "./helpers/twilio.js";

let h: TestHookline;
let smtp: SmtpPeer;
let twilio: TwilioStandIn;
let client: HooklineClient;
let n = 0;

beforeAll(async () => {
  smtp = await startSmtp();
  twilio = await startTwilio();
  const port = await freePort();
  h = await startTestHookline({
    HOOKLINE_PORT: String(port),
    HOOKLINE_PUBLIC_URL: `http://127.0.0.1:${port}`,
    HOOKLINE_SMTP_URL: smtp.url,
    HOOKLINE_SMTP_FROM: "Front Desk <desk@clinic.example>",
    HOOKLINE_TWILIO_BASE_URL: twilio.baseUrl,
    HOOKLINE_TWILIO_ACCOUNT_SID: TWILIO_SID,
    HOOKLINE_TWILIO_AUTH_TOKEN: TWILIO_TOKEN,
    HOOKLINE_TWILIO_FROM: TWILIO_FROM,
  });
  ({ client } = await h.account());
});
afterAll(async () => {
  await h.stop();
  await smtp.close();
  await twilio.close();
});

const example = (type: TriggerTypeName) => triggerType(type).example as Record<string, unknown>;

async function trigger(type: TriggerTypeName = "participant.confirmed") {
  return client.createTrigger({ name: `t${++n}`, type });
}

/** The action's newest instance, once finished. */
const finished = (actionId: string) => finishedInstance(client, actionId);

describe("email actions", () => {
  it("renders subject and body from the trigger's object and sends them over SMTP to every recipient", async () => {
    const t = await trigger("participant.confirmed");
    const action = await client.createAction(t.id, {
      name: "staff",
      type: "email",
      to: ["staff@clinic.example", "manager@clinic.example"],
      subject: "{{ participant.name }} confirmed {{ event.title }}",
      body: "{{ participant.name }} confirmed for {{ event.day_and_time_phrase }}.\n{% if participant.state == 'confirmed' %}No action needed.{% endif %}",
    });
    expect(action).toMatchObject({ provider_configured: true });
    await client.ingest({ type: "participant.confirmed", data: example("participant.confirmed") });
    const instance = await finished(action.id);
    expect(instance).toMatchObject({ state: "succeeded", sent: true, delivered: true, attempts: 1, last_status: 250 });

    const mail = smtp.mails.find((m) => m.subject === "Jane Doe confirmed Dental cleaning");
    expect(mail).toBeDefined();
    expect(mail?.to).toEqual(["staff@clinic.example", "manager@clinic.example"]);
    expect(mail?.from).toBe("desk@clinic.example");
    expect(mail?.text).toBe("Jane Doe confirmed for Wednesday, April 15th at 12:00pm.\nNo action needed.");

    const attempt = instance.attempt_log[0];
    expect(attempt?.request).toMatchObject({
      envelope: { from: "Front Desk <desk@clinic.example>", to: ["staff@clinic.example", "manager@clinic.example"] },
      subject: "Jane Doe confirmed Dental cleaning",
    });
    expect(attempt?.response).toMatchObject({ status: 250, body: expect.stringContaining("Message queued as test") });
  });

  it("retries an SMTP 4xx (temporary) reply and succeeds when the server accepts", async () => {
    smtp.refuse("busy@clinic.example", (nth) => (nth <= 2 ? [451, "4.7.1 Try again later"] : undefined));
    const t = await trigger("message.failed");
    const action = await client.createAction(t.id, {
      name: "alert",
      type: "email",
      to: "busy@clinic.example",
      subject: "Message {{ message.id }} failed",
      body: "x",
    });
    await client.ingest({ type: "message.failed", data: example("message.failed") });
    const instance = await finished(action.id);
    expect(instance).toMatchObject({ state: "succeeded", attempts: 3 });
    expect(instance.attempt_log.map((a) => a.outcome)).toEqual(["retry", "retry", "succeeded"]);
    expect(instance.attempt_log[0]?.response?.status).toBe(451);
  });

  it("fails an SMTP 5xx (permanent) reply at once", async () => {
    smtp.refuse("nobody@clinic.example", () => [550, "5.1.1 No such user"]);
    const t = await trigger("event.created");
    const action = await client.createAction(t.id, { name: "alert", type: "email", to: "nobody@clinic.example", subject: "New: {{ event.title }}", body: "x" });
    await client.ingest({ type: "event.created", data: example("event.created") });
    const instance = await finished(action.id);
    expect(instance).toMatchObject({ state: "failed", attempts: 1, sent: false, delivered: false, last_status: 550 });
    expect(instance.last_error).toMatch(/550 5\.1\.1 No such user/);
  });

  it("fails permanently, saying why, when a template hits its limits while rendering", async () => {
    const t = await trigger("event.updated");
    const bomb = '{% assign s = "xxxxxxxxxx" %}{% for i in (1..40) %}{% assign s = s | append: s %}{% endfor %}{{ s }}';
    const action = await client.createAction(t.id, { name: "bomb", type: "email", to: "staff@clinic.example", subject: "x", body: bomb });
    await client.ingest({ type: "event.updated", data: example("event.updated") });
    const instance = await finished(action.id);
    expect(instance).toMatchObject({ state: "failed", attempts: 1, sent: false });
    expect(instance.last_error).toMatch(/^body template: .*limit/);
  });
});

describe("sms actions", () => {
  it("normalises the number, renders the body and hands it to the provider: sent, not yet delivered", async () => {
    const t = await trigger("participant.not_coming");
    const action = await client.createAction(t.id, {
      name: "front desk",
      type: "sms",
      to: "(555) 201-9999",
      body: "{{ participant.name }} can't make {{ event.time_phrase }} on {{ event.date_phrase }}",
    });
    expect(action).toMatchObject({ to: "+15552019999", provider_configured: true });
    await client.ingest({ type: "participant.not_coming", data: example("participant.not_coming") });
    const instance = await finished(action.id);
    expect(instance).toMatchObject({ state: "succeeded", sent: true, delivered: false, attempts: 1, last_status: 201 });
    const sms = twilio.messages.find((m) => m.to === "+15552019999");
    expect(sms).toMatchObject({ from: TWILIO_FROM, body: "Jane Doe can't make 12:00pm on Wednesday, April 15th" });
    expect(sms?.statusCallback).toBe(`${h.baseUrl}/api/v1/callbacks/twilio/${instance.id}`);
    // The log shows the request without the provider's credentials.
    expect(instance.attempt_log[0]?.request).toMatchObject({ method: "POST", headers: { authorization: "[redacted]" } });
    expect(JSON.stringify(instance)).not.toContain(TWILIO_TOKEN);
    expect(JSON.stringify(instance)).not.toContain(Buffer.from(`${TWILIO_SID}:${TWILIO_TOKEN}`).toString("base64"));

    // The provider's status callback confirms delivery.
    expect(await twilio.callback(sms as NonNullable<typeof sms>, "sent")).toBe(204);
    expect((await client.instance(instance.id)).delivered).toBe(false);
    expect(await twilio.callback(sms as NonNullable<typeof sms>, "delivered")).toBe(204);
    expect(await client.instance(instance.id)).toMatchObject({ state: "succeeded", delivered: true });
  });

  it("marks an instance failed when the provider later reports the message undelivered", async () => {
    const t = await trigger("participant.canceled_booking");
    const action = await client.createAction(t.id, { name: "desk", type: "sms", to: "+1 555 201 8888", body: "{{ participant.name }} canceled" });
    await client.ingest({ type: "participant.canceled_booking", data: example("participant.canceled_booking") });
    const instance = await finished(action.id);
    const sms = twilio.messages.find((m) => m.to === "+15552018888");
    expect(await twilio.callback(sms as NonNullable<typeof sms>, "undelivered", { ErrorCode: "30003" })).toBe(204);
    const after = await client.instance(instance.id);
    expect(after).toMatchObject({ state: "failed", delivered: false });
    expect(after.last_error).toBe("the SMS provider reported the message undelivered (error 30003)");
  });

  it("applies a status callback that arrives before the attempt that sent the message is recorded", async () => {
    const t = await trigger("participant.confirmed");
    const delivered = await client.createAction(t.id, { name: "fast", type: "sms", to: "+15552016666", body: "confirmed" });
    // The callback reaches Hookline while the send still waits for the provider's answer, so the
    // instance is leased and unrecorded: the verdict waits for the record instead of being dropped.
    const early = twilio.callBackBeforeAnswering("delivered", 300);
    await client.ingest({ type: "participant.confirmed", data: example("participant.confirmed") });
    expect(await early).toBe(204);
    expect(await finished(delivered.id)).toMatchObject({ state: "succeeded", sent: true, delivered: true });
  });

  it("applies an early undelivered callback too: the instance ends failed, saying why", async () => {
    const t = await trigger("participant.declined_booking");
    const action = await client.createAction(t.id, { name: "fast", type: "sms", to: "+15552015555", body: "declined" });
    const early = twilio.callBackBeforeAnswering("undelivered", 300, { ErrorCode: "30005" });
    await client.ingest({ type: "participant.declined_booking", data: example("participant.declined_booking") });
    expect(await early).toBe(204);
    const instance = await finished(action.id);
    expect(instance).toMatchObject({ state: "failed", sent: true, delivered: false });
    expect(instance.last_error).toBe("the SMS provider reported the message undelivered (error 30005)");
  });

  it("answers 503 to a callback for an instance still leased after the wait, as a process that died before recording leaves it", async () => {
    const t = await trigger("participant.replied");
    const action = await client.createAction(t.id, { name: "desk", type: "sms", to: "+15552014444", body: "missed" });
    await client.ingest({ type: "participant.replied", data: example("participant.replied") });
    const instance = await finished(action.id);
    // The row a kill -9 between the send and its record leaves: pending, leased by a worker that is gone.
    await h.hookline.store.db
      .updateTable("instances")
      .set({ state: "pending", sent: 0, lease_until: Date.now() + 60_000, lease_token: "gone", next_attempt_at: Date.now() + 60_000 })
      .where("id", "=", instance.id)
      .execute();
    const sms = twilio.messages.find((m) => m.to === "+15552014444");
    const asked = Date.now();
    expect(await twilio.callback(sms as NonNullable<typeof sms>, "delivered")).toBe(503);
    // It waited for a record first: the request timeout (1 s in tests) and a second.
    expect(Date.now() - asked).toBeGreaterThanOrEqual(2_000);
    expect(await client.instance(instance.id)).toMatchObject({ state: "pending", delivered: false });
  });

  it("refuses a status callback whose signature does not verify", async () => {
    const t = await trigger("participant.declined_booking");
    const action = await client.createAction(t.id, { name: "desk", type: "sms", to: "+15552017777", body: "declined" });
    await client.ingest({ type: "participant.declined_booking", data: example("participant.declined_booking") });
    const instance = await finished(action.id);
    const sms = twilio.messages.find((m) => m.to === "+15552017777");
    expect(await twilio.callback(sms as NonNullable<typeof sms>, "undelivered", {}, "not-the-auth-token")).toBe(403);
    expect(await client.instance(instance.id)).toMatchObject({ state: "succeeded" });
  });

  it("fails at once when the provider answers 400", async () => {
    const t = await trigger("participant.replied");
    const action = await client.createAction(t.id, { name: "bad number", type: "sms", to: "+15005550001", body: "hi" });
    await client.ingest({ type: "participant.replied", data: example("participant.replied") });
    const instance = await finished(action.id);
    expect(instance).toMatchObject({ state: "failed", attempts: 1, sent: false, last_status: 400 });
    expect(instance.last_error).toMatch(/HTTP 400.*21211/);
  });

  it("retries a provider 5xx, at most 5 attempts in all", async () => {
    const t = await trigger("booking_page.viewed");
    const action = await client.createAction(t.id, { name: "views", type: "sms", to: "+15552016666", body: "{{ booking_page.name }} viewed" });
    twilio.failNext(503, 5);
    await client.ingest({ type: "booking_page.viewed", data: example("booking_page.viewed") });
    const instance = await finished(action.id);
    expect(instance).toMatchObject({ state: "failed", attempts: 5, last_status: 503 });
    twilio.failNext(500, 2);
    await client.resend(instance.id);
    const resent = await eventually(async () => {
      const i = await client.instance(instance.id);
      return i.state === "succeeded" ? i : undefined;
    });
    expect(resent.attempts).toBe(8);
  });

  it("logs the message as sent: the provider's URL and the To, From, Body and StatusCallback fields, never the credentials", async () => {
    const t = await trigger("participant.check_in_state_changed");
    const action = await client.createAction(t.id, { name: "arrivals", type: "sms", to: "+15552017777", body: "{{ participant.name }} is here" });
    await client.ingest({ type: "participant.check_in_state_changed", data: example("participant.check_in_state_changed") });
    const instance = await finished(action.id);
    expect(instance).toMatchObject({ state: "succeeded", attempts: 1 });
    expect(instance.attempt_log[0]?.request).toEqual({
      method: "POST",
      url: `${twilio.baseUrl}/2010-04-01/Accounts/${TWILIO_SID}/Messages.json`,
      headers: { "content-type": "application/x-www-form-urlencoded", authorization: "[redacted]" },
      form: { To: "+15552017777", From: TWILIO_FROM, Body: "Jane Doe is here", StatusCallback: `${h.baseUrl}/api/v1/callbacks/twilio/${instance.id}` },
    });
    // The logged fields are the ones the provider received.
    expect(twilio.requests.at(-1)?.form).toEqual(instance.attempt_log[0]?.request.form);
    const shown = JSON.stringify(await client.instance(instance.id));
    expect(shown).not.toContain(TWILIO_TOKEN);
    expect(shown).not.toContain(Buffer.from(`${TWILIO_SID}:${TWILIO_TOKEN}`).toString("base64"));
  });

  it("fails a rendered body longer than the provider's 1,600 characters without calling it, and logs the whole rendered body", async () => {
    const t = await trigger("booking_request.completed");
    const action = await client.createAction(t.id, { name: "long", type: "sms", to: "+15552015555", body: "{% for i in (1..170) %}0123456789{% endfor %}" });
    const before = twilio.requests.length;
    await client.ingest({ type: "booking_request.completed", data: example("booking_request.completed") });
    const instance = await finished(action.id);
    expect(instance).toMatchObject({ state: "failed", attempts: 1, sent: false });
    expect(instance.last_error).toBe("the rendered SMS body is 1700 characters; the provider accepts at most 1600");
    expect(twilio.requests.length).toBe(before);
    const [attempt] = instance.attempt_log;
    expect(attempt?.request.form).toEqual({
      To: "+15552015555",
      From: TWILIO_FROM,
      Body: "0123456789".repeat(170),
      StatusCallback: `${h.baseUrl}/api/v1/callbacks/twilio/${instance.id}`,
    });
    expect(attempt?.response).toBeNull();
  });

  it("marks an SMS test send in the log (there is no header a phone shows), with the message it sent", async () => {
    const t = await trigger("message.received");
    const action = await client.createAction(t.id, { name: "inbox", type: "sms", to: "+15552013333", body: "New message, instance {{ apptoto_id }}" });
    const result = await client.request<InstanceDetailOut>("POST", `/api/v1/actions/${action.id}/test`, {});
    expect(result).toMatchObject({ state: "succeeded", test: true });
    expect(result.attempt_log[0]?.request.form).toMatchObject({ To: "+15552013333", Body: `New message, instance ${result.id}` });
    expect((await client.log(action.id)).data[0]).toMatchObject({ id: result.id, test: true });
  });

  it("logs what it could render of a message whose template fails: the recipient, and the error", async () => {
    const t = await trigger("message.sent");
    const bomb = '{% assign s = "xxxxxxxxxx" %}{% for i in (1..40) %}{% assign s = s | append: s %}{% endfor %}{{ s }}';
    const action = await client.createAction(t.id, { name: "bomb", type: "sms", to: "+15552014444", body: bomb });
    await client.ingest({ type: "message.sent", data: example("message.sent") });
    const instance = await finished(action.id);
    expect(instance).toMatchObject({ state: "failed", attempts: 1, sent: false });
    const [attempt] = instance.attempt_log;
    expect(attempt?.error).toMatch(/^body template: .*limit/);
    expect(attempt?.request.form).toEqual({ To: "+15552014444", From: TWILIO_FROM, StatusCallback: `${h.baseUrl}/api/v1/callbacks/twilio/${instance.id}` });
  });
});

describe("saving sms and email actions", () => {
  it.each([
    [{ type: "sms", to: "+15552013344", body: "Hi {{ participant.name " }, /^400 validation_error: body: line 1, column 4: /],
    [{ type: "email", to: "a@example.com", subject: "{% if %}", body: "ok" }, /^400 validation_error: subject: line 1, column 6: invalid value expression/],
    [
      { type: "email", to: "a@example.com", subject: "s", body: "{{ x | no_such_filter }}" },
      /^400 validation_error: body: line 1, column 1: undefined filter: no_such_filter/,
    ],
    [{ type: "sms", to: "call me maybe", body: "hi" }, /^400 validation_error: to: "call me maybe" is not a phone number/],
    [{ type: "email", to: "not-an-address", subject: "s", body: "b" }, /^400 validation_error: to: /],
    [{ type: "email", to: [], subject: "s", body: "b" }, /^400 validation_error: to: /],
  ] as const)("rejects %j with a 400 naming the field", async (settings, message) => {
    const t = await trigger();
    await expect(client.createAction(t.id, { name: "x", ...settings } as never)).rejects.toThrow(message);
  });

  it("validates a PATCHed template the same way and leaves the action unchanged", async () => {
    const t = await trigger();
    const action = await client.createAction(t.id, { name: "x", type: "sms", to: "+15552013344", body: "ok" });
    await expect(client.updateAction(action.id, { body: "{{ broken" })).rejects.toThrow(/body: line 1/);
    expect((await client.getAction(action.id)).body).toBe("ok");
    expect(await client.updateAction(action.id, { to: "555-201-4444" })).toMatchObject({ to: "+15552014444" });
  });
});

describe("template preview", () => {
  it("renders against the trigger type's example payload", async () => {
    const { output } = await client.request<{ output: string }>("POST", "/api/v1/templates/preview", {
      template: "{{ participant.name }}: {{ event.day_and_time_phrase }} ({{ apptoto_id }})",
      trigger_type: "participant.confirmed",
    });
    expect(output).toBe("Jane Doe: Wednesday, April 15th at 12:00pm (ins_preview)");
  });

  it("renders against a given payload, validated like an ingested one", async () => {
    const { output } = await client.request<{ output: string }>("POST", "/api/v1/templates/preview", {
      template: "{{ event.title }} at {{ event.start_time | add_minutes: 30 | time_phrase }}",
      trigger_type: "event.created",
      data: { event: { id: 5, title: "Checkup", start_time: "2026-06-01T09:15:00+02:00" } },
    });
    expect(output).toBe("Checkup at 9:45am");
    await expect(
      client.request("POST", "/api/v1/templates/preview", { template: "x", trigger_type: "event.created", data: { event: { id: "five" } } }),
    ).rejects.toThrow(/data\.event\.id/);
  });

  it("answers 400 with line and column for a template that does not parse", async () => {
    await expect(client.request("POST", "/api/v1/templates/preview", { template: "ok\n{% for %}", trigger_type: "event.created" })).rejects.toThrow(
      /^400 validation_error: template: line 2, column/,
    );
  });
});

describe("without providers", () => {
  it("saves sms and email actions, says the provider is missing, and fails their instances saying why, logging the SMS as rendered", async () => {
    const bare = await startTestHookline();
    try {
      const { client: c } = await bare.account();
      const t = await c.createTrigger({ name: "t", type: "participant.needs_reschedule" });
      const sms = await c.createAction(t.id, { name: "sms", type: "sms", to: "+15552013344", body: "hi" });
      const email = await c.createAction(t.id, { name: "email", type: "email", to: "a@example.com", subject: "s", body: "b" });
      const hook = await c.createAction(t.id, { name: "hook", type: "webhook", url: "https://example.com/" });
      expect(sms).toMatchObject({
        provider_configured: false,
        provider_error: expect.stringMatching(/^SMS provider not configured: set HOOKLINE_TWILIO_BASE_URL/),
      });
      expect(email).toMatchObject({ provider_configured: false, provider_error: "email provider not configured: set HOOKLINE_SMTP_URL" });
      expect(hook.provider_configured).toBe(true);
      await c.ingest({ type: "participant.needs_reschedule", data: example("participant.needs_reschedule") });
      for (const [action, message] of [
        [sms, /^SMS provider not configured/],
        [email, /^email provider not configured/],
      ] as const) {
        const instance = await eventually(async () => {
          const i = (await c.log(action.id)).data[0];
          return i?.state === "failed" ? i : undefined;
        });
        expect(instance).toMatchObject({ attempts: 1, sent: false });
        expect(instance.last_error).toMatch(message);
      }
      // The SMS that could not be sent is still in the log, as rendered.
      const smsInstance = (await c.log(sms.id)).data[0];
      const [attempt] = (await c.instance(smsInstance?.id ?? "")).attempt_log;
      expect(attempt?.request).toEqual({ form: { To: "+15552013344", Body: "hi" } });
    } finally {
      await bare.stop();
    }
  });

  it("retries when the SMTP server cannot be reached", async () => {
    const unreachable = await startTestHookline({ HOOKLINE_SMTP_URL: "smtp://127.0.0.1:1" });
    try {
      const { client: c } = await unreachable.account();
      const t = await c.createTrigger({ name: "t", type: "stoplist.email_added" });
      const action = await c.createAction(t.id, { name: "e", type: "email", to: "a@example.com", subject: "{{ email }} opted out", body: "b" });
      await c.ingest({ type: "stoplist.email_added", data: example("stoplist.email_added") });
      const instance = await eventually(async () => {
        const i = (await c.log(action.id)).data[0];
        return i?.state === "failed" ? i : undefined;
      });
      expect(instance.attempts).toBe(5);
      expect(instance.last_error).toMatch(/ECONNECTION|ECONNREFUSED|ESOCKET/);
    } finally {
      await unreachable.stop();
    }
  });
});

describe("recipients from the payload", () => {
  it("texts the number a template takes from the payload, normalised to E.164", async () => {
    const t = await trigger("participant.confirmed");
    const action = await client.createAction(t.id, { name: "patient", type: "sms", to: "{{ participant.phone }}", body: "See you {{ event.date_phrase }}" });
    expect(action.to).toBe("{{ participant.phone }}");
    const participant = { ...(example("participant.confirmed").participant as object), phone: "(555) 301-0001" };
    await client.ingest({ type: "participant.confirmed", data: { participant } });
    const instance = await finished(action.id);
    expect(instance).toMatchObject({ state: "succeeded", attempts: 1 });
    expect(twilio.messages.find((m) => m.to === "+15553010001")).toMatchObject({ body: "See you Wednesday, April 15th" });
    expect(instance.attempt_log[0]?.request).toMatchObject({ form: { To: "+15553010001" } });
  });

  it("emails the address a template takes from a booking request's contact info", async () => {
    const t = await trigger("booking_request.completed");
    const action = await client.createAction(t.id, {
      name: "patient",
      type: "email",
      to: "{{ booking_request.contact_info.email }}",
      subject: "Booked",
      body: "x",
    });
    const request = { ...(example("booking_request.completed").booking_request as object), contact_info: { name: "Al", email: "al.payload@example.com" } };
    await client.ingest({ type: "booking_request.completed", data: { booking_request: request } });
    expect(await finished(action.id)).toMatchObject({ state: "succeeded" });
    expect(smtp.mails.find((m) => m.to.includes("al.payload@example.com"))).toBeDefined();
  });

  it("fails an instance whose recipient renders empty at once, naming the missing field, without retrying", async () => {
    const t = await trigger("participant.confirmed");
    const action = await client.createAction(t.id, { name: "patient", type: "sms", to: "{{ participant.phone }}", body: "hi" });
    const { phone: _, ...participant } = example("participant.confirmed").participant as Record<string, unknown>;
    await client.ingest({ type: "participant.confirmed", data: { participant } });
    const instance = await finished(action.id);
    expect(instance).toMatchObject({ state: "failed", attempts: 1, sent: false, last_error: "to rendered empty: participant.phone is missing" });
    expect(instance.attempt_log.map((a) => a.outcome)).toEqual(["failed"]);
    expect(twilio.messages.filter((m) => m.statusCallback?.endsWith(instance.id))).toEqual([]);
  });

  it("fails an instance whose recipient renders no email address, showing what it rendered", async () => {
    const t = await trigger("participant.confirmed");
    const action = await client.createAction(t.id, {
      name: "patient",
      type: "email",
      to: ["desk@clinic.example", "{{ participant.email }}"],
      subject: "s",
      body: "b",
    });
    const participant = { ...(example("participant.confirmed").participant as object), email: "jane at home" };
    await client.ingest({ type: "participant.confirmed", data: { participant } });
    const instance = await finished(action.id);
    expect(instance).toMatchObject({ state: "failed", attempts: 1, last_error: 'to[1] rendered "jane at home", which is not an email address' });
    expect(instance.attempt_log[0]?.request).toEqual({ to: ["desk@clinic.example", "jane at home"] });
  });

  it.each([
    [
      { type: "sms", to: "{{ participant.nope }}", body: "hi" },
      /^400 validation_error: to: with the example payload of participant.confirmed, to rendered empty: participant.nope is missing$/,
    ],
    [
      { type: "sms", to: "{{ participant.name }}", body: "hi" },
      /^400 validation_error: to: with the example payload of participant.confirmed, to rendered "Jane Doe", which is not a phone number/,
    ],
    [
      { type: "email", to: ["a@example.com", "{{ participant.phone }}"], subject: "s", body: "b" },
      /^400 validation_error: to\[1\]: .*which is not an email address$/,
    ],
    [{ type: "sms", to: "{{ participant.phone ", body: "hi" }, /^400 validation_error: to: line 1, column/],
  ] as const)("refuses a recipient template that does not give a recipient for the example payload: %j", async (settings, message) => {
    const t = await trigger("participant.confirmed");
    await expect(client.createAction(t.id, { name: "x", ...settings } as never)).rejects.toThrow(message);
  });

  it("checks a PATCHed recipient template against the example payload too", async () => {
    const t = await trigger("event.created");
    const action = await client.createAction(t.id, { name: "x", type: "sms", to: "+15552013344", body: "ok" });
    // An event's object has no `participant`: the example renders nothing.
    await expect(client.updateAction(action.id, { to: "{{ participant.phone }}" })).rejects.toThrow(
      /^400 validation_error: to: .*participant\.phone is missing/,
    );
    expect((await client.getAction(action.id)).to).toBe("+15552013344");
    expect(await client.updateAction(action.id, { to: "{{ event.participants[0].phone }}" })).toMatchObject({ to: "{{ event.participants[0].phone }}" });
  });
});

describe("stop lists", () => {
  /** A fresh account: its stop list is its own. */
  const account = async () => (await h.account()).client;

  it("suppresses a text to a number on the stop list, with the reason, and sends again once stoplist.phone_removed takes it off", async () => {
    const c = await account();
    const t = await c.createTrigger({ name: "t", type: "participant.confirmed" });
    const action = await c.createAction(t.id, { name: "patient", type: "sms", to: "{{ participant.phone }}", body: "hi" });
    // Added in another form than the payload's: both are compared in E.164.
    await c.ingest({ type: "stoplist.phone_added", data: { phone: "555.201.3344" } });
    await c.ingest({ type: "participant.confirmed", data: example("participant.confirmed") });
    const suppressed = await finishedInstance(c, action.id);
    expect(suppressed).toMatchObject({ state: "suppressed", sent: false, attempts: 1, last_error: null });
    expect(suppressed.reason).toMatch(/^\+15552013344 is on the stop list \(since \d{4}-\d\d-\d\dT/);
    expect(suppressed.attempt_log[0]).toMatchObject({ outcome: "suppressed", error: suppressed.reason });
    expect(twilio.messages.filter((m) => m.statusCallback?.endsWith(suppressed.id))).toEqual([]);
    // Neither a failure nor a success: the action is not failing and its success rate has nothing finished.
    expect(await c.getAction(action.id)).toMatchObject({ failing: false, failing_since: null });
    const stats = await c.request<{ success_rate: number | null; instances: Record<string, number> }>("GET", `/api/v1/actions/${action.id}/stats`);
    expect(stats).toMatchObject({ success_rate: null, instances: { suppressed: 1, failed: 0 } });
    expect((await c.log(action.id, { outcome: "suppressed" })).data.map((i) => i.id)).toEqual([suppressed.id]);
    expect((await c.log(action.id, { outcome: "failed" })).data).toEqual([]);

    await c.ingest({ type: "stoplist.phone_removed", data: { phone: "+15552013344" } });
    await c.ingest({ type: "participant.confirmed", data: example("participant.confirmed") });
    await eventually(async () => ((await c.log(action.id)).data[0]?.id !== suppressed.id ? true : undefined));
    expect(await finishedInstance(c, action.id)).toMatchObject({ state: "succeeded", reason: null });
    // The suppressed message itself can be resent now: a new series, its reason cleared.
    expect(await c.resend(suppressed.id)).toMatchObject({ state: "pending", reason: null });
    const resent = await eventually(async () => {
      const i = await c.instance(suppressed.id);
      return i.state === "succeeded" ? i : undefined;
    });
    expect(resent.attempt_log.map((a) => a.outcome)).toEqual(["suppressed", "succeeded"]);
  });

  it("matches emails without regard to case, and leaves out only the stopped recipients of a list", async () => {
    const c = await account();
    const t = await c.createTrigger({ name: "t", type: "participant.confirmed" });
    const alone = await c.createAction(t.id, { name: "patient", type: "email", to: "{{ participant.email }}", subject: "s", body: "b" });
    const both = await c.createAction(t.id, {
      name: "both",
      type: "email",
      to: ["{{ participant.email }}", "desk.stop@clinic.example"],
      subject: "both",
      body: "b",
    });
    await c.ingest({ type: "stoplist.email_added", data: { email: "Jane.Doe@EXAMPLE.com" } });
    await c.ingest({ type: "participant.confirmed", data: example("participant.confirmed") });
    const suppressed = await finishedInstance(c, alone.id);
    expect(suppressed).toMatchObject({ state: "suppressed", reason: expect.stringMatching(/^jane\.doe@example\.com is on the stop list/) });
    const partly = await finishedInstance(c, both.id);
    expect(partly).toMatchObject({ state: "succeeded" });
    expect(partly.attempt_log[0]?.request).toMatchObject({
      envelope: { to: ["desk.stop@clinic.example"] },
      suppressed: [expect.stringMatching(/^jane\.doe@example\.com is on the stop list/)],
    });
  });

  it("keeps the list per account, readable and editable through the API", async () => {
    const c = await account();
    const other = await account();
    await c.ingest({ type: "stoplist.phone_added", data: { phone: "+15553020001" } });
    await c.ingest({ type: "stoplist.phone_added", data: { phone: "+15553020002" } });
    await c.ingest({ type: "stoplist.email_added", data: { email: "Someone@Example.com" } });
    const all = await c.stopList();
    expect(all.data.map((e) => [e.kind, e.value])).toEqual([
      ["email", "someone@example.com"],
      ["phone", "+15553020001"],
      ["phone", "+15553020002"],
    ]);
    expect((await c.stopList({ kind: "phone", q: "(555) 302-0002" })).data.map((e) => e.value)).toEqual(["+15553020002"]);
    expect((await c.stopList({ q: "SOMEONE" })).data.map((e) => e.value)).toEqual(["someone@example.com"]);
    const first = await c.stopList({ limit: 2 });
    expect(first.data).toHaveLength(2);
    expect((await c.stopList({ limit: 2, cursor: first.next_cursor ?? "" })).data.map((e) => e.value)).toEqual(["+15553020002"]);
    expect((await other.stopList()).data).toEqual([]);

    await c.removeFromStopList("phone", "555-302-0001");
    await c.removeFromStopList("email", "SOMEONE@example.com");
    expect((await c.stopList()).data.map((e) => e.value)).toEqual(["+15553020002"]);
    await expect(c.removeFromStopList("phone", "+15553020001")).rejects.toThrow(/^404 not_found/);
    await expect(other.removeFromStopList("phone", "+15553020002")).rejects.toThrow(/^404 not_found/);
    await expect(c.request("GET", "/api/v1/stop-list?kind=fax")).rejects.toThrow(/^400 validation_error: query\.kind: /);
  });

  it("changes the list with the request's other events, in order, or not at all when the request is refused", async () => {
    const c = await account();
    await c.ingest({ type: "event.created", data: example("event.created"), idempotency_key: "k1" });
    const batch = (conflicting: boolean) =>
      c.ingestBatch([
        { type: "stoplist.phone_added", data: { phone: "+15553030001" } },
        { type: "stoplist.phone_added", data: { phone: "+15553030002" } },
        { type: "stoplist.phone_removed", data: { phone: "+15553030001" } },
        { type: "event.created", data: conflicting ? { event: { id: 1 } } : example("event.created"), idempotency_key: "k1" },
      ]);
    await expect(batch(true)).rejects.toThrow(/^409 idempotency_conflict/);
    expect((await c.stopList()).data).toEqual([]);
    await batch(false);
    expect((await c.stopList()).data.map((e) => e.value)).toEqual(["+15553030002"]);
  });

  it("leaves the list alone on a test send of a stop-list trigger (its payload is the example)", async () => {
    const c = await account();
    const t = await c.createTrigger({ name: "t", type: "stoplist.phone_added" });
    const action = await c.createAction(t.id, { name: "w", type: "email", to: "desk@clinic.example", subject: "s", body: "b" });
    await c.request("POST", `/api/v1/actions/${action.id}/test`);
    expect((await c.stopList()).data).toEqual([]);
  });
});

describe("sms preview", () => {
  it("answers the rendered message's length, encoding and segments for kind sms", async () => {
    const preview = await client.previewTemplate({ template: "Hi {{ participant.name }} 🙂", trigger_type: "participant.confirmed", kind: "sms" });
    expect(preview).toEqual({ output: "Hi Jane Doe 🙂", sms: { length: 13, encoding: "UCS-2", segments: 1, over_limit: false } });
    const long = await client.previewTemplate({ template: `${"x".repeat(1600)}€`, trigger_type: "event.created", kind: "sms" });
    expect(long.sms).toEqual({ length: 1601, encoding: "GSM-7", segments: 11, over_limit: true });
    expect(await client.previewTemplate({ template: "hi", trigger_type: "event.created" })).toEqual({ output: "hi" });
  });
});
