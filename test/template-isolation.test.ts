/**
 * One account's templates cannot stall the server for the others (issue 35): renders run on a
 * render thread with a deadline, taking turns by account, and an account may have only a few in
 * progress. SQLite is enough: this is about the server's own thread, not the database.
 */
import { Worker } from "node:worker_threads";
import { afterEach, expect, it, onTestFinished } from "vitest";
import { startTestHookline, type TestHookline } from "./helpers/hookline.js";
import { startReceiver } from "./helpers/receiver.js";
import { startTwilio, TWILIO_FROM, TWILIO_SID, TWILIO_TOKEN } from "./helpers/twilio.js";

/** Nine million loop turns: Liquid runs it until its render limit stops it. */
const RUNAWAY = "{% for i in (1..3000) %}{% for j in (1..3000) %}{% endfor %}{% endfor %}x";
/**
 * The most another account's call may take meanwhile. Unloaded it answers in a few milliseconds,
 * and a durable ingest on a loaded two-core machine took up to about 500; with renders on the
 * server's own thread the same calls waited up to 11 s.
 */
const BOUND_MS = 1000;

let h: TestHookline | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

type Request = { path: string; apiKey?: string; body?: unknown };

/** Runs clients on a thread of their own (helpers/outside-clients.mjs) and resolves to what they report. */
function outsideClients<T>(workerData: { role: "flood" | "watch"; baseUrl: string; untilMs: number } & Record<string, unknown>): Promise<T> {
  const thread = new Worker(new URL("./helpers/outside-clients.mjs", import.meta.url), { workerData });
  return new Promise((resolve, reject) => {
    thread.once("message", resolve);
    thread.once("error", reject);
  });
}

/** 40 clients sending `requests` again and again until `untilMs`: how many of each answer they got. */
const flood = (baseUrl: string, untilMs: number, requests: Request[]) =>
  outsideClients<Record<string, number>>({ role: "flood", baseUrl, untilMs, clients: 40, requests });

/**
 * The bystander's calls (/health, a list, an event ingested), made in turn every 50 ms until
 * `untilMs`: those whose slowest answer took BOUND_MS or more, with how long, and any that failed.
 */
async function watchBystander(baseUrl: string, apiKey: string, untilMs: number): Promise<{ tooSlow: [string, number][]; failures: string[] }> {
  const calls = [
    { name: "health", path: "/health" },
    { name: "triggers", path: "/api/v1/triggers", apiKey },
    { name: "ingest", path: "/api/v1/events", apiKey, body: { type: "participant.confirmed", data: { participant: { id: 1 } } } },
  ];
  const { slowest, failures } = await outsideClients<{ slowest: Record<string, number>; failures: string[] }>({
    role: "watch",
    baseUrl,
    untilMs,
    gapMs: 50,
    calls,
  });
  return { tooSlow: Object.entries(slowest).filter(([, ms]) => ms >= BOUND_MS), failures };
}

it(`while one account floods previews and saves of a runaway template, another account's calls and /health answer within ${BOUND_MS} ms`, {
  timeout: 90_000,
}, async () => {
  h = await startTestHookline();
  const { baseUrl } = h;
  const flooder = await h.account("flooder");
  const bystander = await h.account("bystander");
  await bystander.client.createTrigger({ name: "mine", type: "participant.confirmed" });
  const trigger = await flooder.client.createTrigger({ name: "flood", type: "participant.confirmed" });

  // 40 clients at once, each sending again as soon as it is answered: previews, and saves of a
  // webhook action whose body template is checked by rendering it.
  const until = Date.now() + 4_000;
  const { apiKey } = flooder;
  const preview = { path: "/api/v1/templates/preview", apiKey, body: { template: RUNAWAY, trigger_type: "participant.confirmed" } };
  const save = {
    path: `/api/v1/triggers/${trigger.id}/actions`,
    apiKey,
    body: { name: "a", type: "webhook", url: "http://127.0.0.1:9/", body: `[${RUNAWAY}]` },
  };
  const [answers, seen] = await Promise.all([flood(baseUrl, until, [preview, preview, preview, save]), watchBystander(baseUrl, bystander.apiKey, until)]);

  expect(seen).toEqual({ tooSlow: [], failures: [] });
  // The flooder's renders were stopped at the limit, and those past its 4 in progress refused.
  const statuses = new Set(Object.keys(answers).map((k) => Number(k.slice(0, 3))));
  expect(statuses).toEqual(new Set([400, 429]));
  expect(Object.keys(answers).some((k) => /^400 .*(render limit exceeded|took longer)/.test(k))).toBe(true);
});

it(`while one account's sms template runs to its limit at every delivery, another account's calls answer within ${BOUND_MS} ms`, {
  timeout: 90_000,
}, async () => {
  const twilio = await startTwilio();
  onTestFinished(() => twilio.close());
  h = await startTestHookline({
    HOOKLINE_ENDPOINT_CONCURRENCY: "4",
    HOOKLINE_SHUTDOWN_GRACE: "0",
    HOOKLINE_TWILIO_BASE_URL: twilio.baseUrl,
    HOOKLINE_TWILIO_ACCOUNT_SID: TWILIO_SID,
    HOOKLINE_TWILIO_AUTH_TOKEN: TWILIO_TOKEN,
    HOOKLINE_TWILIO_FROM: TWILIO_FROM,
  });
  const flooder = await h.account("flooder");
  const bystander = await h.account("bystander");
  await bystander.client.createTrigger({ name: "mine", type: "participant.confirmed" });
  const trigger = await flooder.client.createTrigger({ name: "texts", type: "participant.confirmed" });
  const action = await flooder.client.createAction(trigger.id, { name: "sms", type: "sms", to: "+15552013344", body: RUNAWAY });
  // Watched from the moment the events are sent: their deliveries start before the batch is answered.
  const events = Array.from({ length: 40 }, (_, i) => ({ type: "participant.confirmed" as const, data: { participant: { id: i } } }));
  const [seen] = await Promise.all([watchBystander(h.baseUrl, bystander.apiKey, Date.now() + 3_000), flooder.client.ingestBatch(events)]);
  expect(seen).toEqual({ tooSlow: [], failures: [] });
  // The renders did run meanwhile: instances failed on the render limit, and no message was sent.
  expect(twilio.requests).toEqual([]);
  const log = await flooder.client.log(action.id, { outcome: "failed" });
  expect(log.data.length).toBeGreaterThan(0);
  expect(log.data[0]?.last_error).toMatch(/body template: .*(render limit exceeded|took longer)/);
});

it(`with webhooks sent from the server's thread, a webhook body running to its limit at every delivery leaves another account's calls answering within ${BOUND_MS} ms`, {
  timeout: 90_000,
}, async () => {
  const receiver = await startReceiver();
  onTestFinished(() => receiver.close());
  h = await startTestHookline({ HOOKLINE_WEBHOOK_THREAD: "off", HOOKLINE_ENDPOINT_CONCURRENCY: "4", HOOKLINE_SHUTDOWN_GRACE: "0" });
  const flooder = await h.account("flooder");
  const bystander = await h.account("bystander");
  await bystander.client.createTrigger({ name: "mine", type: "participant.confirmed" });
  const trigger = await flooder.client.createTrigger({ name: "hooks", type: "participant.confirmed" });
  // Valid JSON for the example payload (checked when saved); a runaway for this account's real events.
  const body = `{% if participant.name == "Runaway" %}${RUNAWAY}{% endif %}{}`;
  const action = await flooder.client.createAction(trigger.id, { name: "hook", type: "webhook", url: receiver.url("/hook"), body });
  const events = Array.from({ length: 40 }, (_, i) => ({ type: "participant.confirmed" as const, data: { participant: { id: i, name: "Runaway" } } }));

  const [seen] = await Promise.all([watchBystander(h.baseUrl, bystander.apiKey, Date.now() + 3_000), flooder.client.ingestBatch(events)]);
  expect(seen).toEqual({ tooSlow: [], failures: [] });
  expect(receiver.received).toEqual([]);
  const log = await flooder.client.log(action.id, { outcome: "failed" });
  expect(log.data.length).toBeGreaterThan(0);
  expect(log.data[0]?.last_error).toMatch(/body template: .*(render limit exceeded|took longer)/);
});

it("a preview counts as 10 calls of the account's API rate limit", async () => {
  // 1 call a second, bursts of 2: a preview costing 1 would leave a call for now; costing 10, none for 9 s.
  h = await startTestHookline({ HOOKLINE_RATE_LIMIT_API: "1" });
  const { client } = await h.account();
  const preview = { template: "Hi {{ participant.name }}", trigger_type: "participant.confirmed" };
  expect(await client.request("POST", "/api/v1/templates/preview", preview)).toMatchObject({ output: expect.stringMatching(/^Hi /) });
  await expect(client.listTriggers()).rejects.toMatchObject({ status: 429, code: "rate_limited" });
});
