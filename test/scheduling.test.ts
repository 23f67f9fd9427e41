/**
 * Timing, quiet hours, cancel and reschedule through the API, on a real Hookline whose clock the
 * test moves (deliveries wait for their due time; the test jumps to it). Runs on both databases.
 */

import { CompiledQuery } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HooklineApiError, HooklineClient, type InstanceOut } from "../src/client/index.js";
import { waitingQuery } from "../src/schedule/changes.js";
import { DIALECT, eventually, freshDatabase, startTestHookline, type TestHookline, tempDir } from "./helpers/hookline.js";
import { type Receiver, startReceiver } from "./helpers/receiver.js";

const HOUR = 3_600_000;
let receiver: Receiver;
let h: TestHookline;
let client: HooklineClient;
/** Hookline's clock runs this far ahead of the real one. */
let offset = 0;
const now = () => Date.now() + offset;
const iso = (ms: number) => new Date(ms).toISOString();

beforeAll(async () => {
  receiver = await startReceiver();
  // On the main thread: the webhook thread keeps its own (real) clock.
  h = await startTestHookline({ HOOKLINE_WEBHOOK_THREAD: "off" }, { now });
  ({ client } = await h.account());
});
afterAll(async () => {
  await h.stop();
  await receiver.close();
});

async function hook(name: string, type: "event.created" | "participant.confirmed", timing: object | null, extra: object = {}) {
  const trigger = await client.createTrigger({ name, type });
  return client.createAction(trigger.id, { name, type: "webhook", url: receiver.url(`/${name}`), timing, ...extra } as never);
}

const only = async (actionId: string, query = {}): Promise<InstanceOut> => {
  const { data } = await client.log(actionId, query);
  expect(data).toHaveLength(1);
  return data[0] as InstanceOut;
};

const event = (id: number, startsIn: number, extra: object = {}) => ({
  event: { id, start_time: iso(now() + startsIn), end_time: iso(now() + startsIn + HOUR), ...extra },
});

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (e: unknown) => (e instanceof HooklineApiError ? e : undefined),
  );

describe("saving timing and quiet hours", () => {
  it("a timing not relative to a date field of the trigger type, or a bad offset, is a 400 naming the field", async () => {
    const trigger = await client.createTrigger({ name: "bad", type: "event.created" });
    const create = (timing: object) => refusal(client.createAction(trigger.id, { name: "a", type: "webhook", url: receiver.url("/x"), timing } as never));
    expect((await create({ at: "event.title", offset: "-1h" }))?.message).toMatch(
      /^400 validation_error: timing\.at: "event\.title" is not a date field of trigger type event\.created/,
    );
    expect((await create({ at: "event.start_time", offset: "yesterday" }))?.message).toMatch(/timing\.offset: must be a signed duration/);
    expect((await create({ at: null, offset: "-5m" }))?.message).toMatch(/timing\.offset: must be after ingest/);
  });

  it("quiet hours are for messages, in a known zone; timing and quiet hours read back as saved", async () => {
    const trigger = await client.createTrigger({ name: "q", type: "booking_request.completed" });
    const quiet = { start: "21:00", end: "08:00", days: null, time_zone: "Mars/Base", time_zone_field: null };
    const email = (quiet_hours: object) =>
      client.createAction(trigger.id, { name: "e", type: "email", to: "a@example.com", subject: "s", body: "b", quiet_hours } as never);
    expect((await refusal(email(quiet)))?.message).toMatch(/quiet_hours\.time_zone: unknown time zone "Mars\/Base"/);
    expect((await refusal(email({ ...quiet, time_zone: null, time_zone_field: "booking_request.start_time" })))?.message).toMatch(
      /quiet_hours\.time_zone_field: "booking_request\.start_time" is not a text field/,
    );
    const saved = await email({ ...quiet, time_zone: "America/New_York", time_zone_field: "booking_request.timezone" });
    expect(saved).toMatchObject({
      timing: null,
      quiet_hours: { start: "21:00", end: "08:00", time_zone: "America/New_York", time_zone_field: "booking_request.timezone" },
    });
    const webhook = await hook("wq", "event.created", { at: "event.start_time", offset: "-24h" });
    expect(webhook.timing).toEqual({ at: "event.start_time", offset: "-24h", run_late: false });
    expect((await refusal(client.updateAction(webhook.id, { quiet_hours: { ...quiet, time_zone: null } } as never)))?.message).toMatch(
      /quiet_hours: only sms and email actions/,
    );
  });

  it("a trigger's type change that its actions' timing would not fit is refused, naming the action", async () => {
    const action = await hook("moving", "event.created", { at: "event.start_time", offset: "-1h" });
    const error = await refusal(client.updateTrigger(action.trigger_id, { type: "message.sent" }));
    expect(error?.message).toMatch(new RegExp(`^400 validation_error: type: action ${action.id}'s timing\\.at would not fit`));
    expect((await client.updateTrigger(action.trigger_id, { type: "event.updated" })).type).toBe("event.updated");
  });

  it("the account's time zone is set by PATCH /api/v1/account, and an unknown one is a 400", async () => {
    expect((await client.account()).time_zone).toBe("UTC");
    expect((await refusal(client.updateAccount({ time_zone: "Nowhere/Land" })))?.message).toMatch(/^400 validation_error: time_zone: unknown time zone/);
    expect(await client.updateAccount({ time_zone: "Europe/Berlin" })).toMatchObject({ time_zone: "Europe/Berlin", notification_email: null });
    await client.updateAccount({ time_zone: "UTC" });
  });
});

describe("scheduled instances", () => {
  it("wait as scheduled, with their time and reason, and are delivered when due", async () => {
    const action = await hook("reminder", "event.created", { at: "event.start_time", offset: "-24h" });
    await client.ingest({ type: "event.created", data: event(1, 25 * HOUR) });
    const waiting = await only(action.id);
    expect(waiting).toMatchObject({ state: "scheduled", attempts: 0, reason: "24 h before event.start_time" });
    expect(Date.parse(waiting.scheduled_for ?? "")).toBeGreaterThan(now() + HOUR - 60_000);
    expect((await client.log(action.id, { outcome: "scheduled" })).data).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.received.filter((r) => r.path === "/reminder")).toHaveLength(0);
    offset += HOUR + 1_000;
    await receiver.waitFor(1, "/reminder");
    await eventually(async () => ((await only(action.id)).state === "succeeded" ? true : undefined));
  });

  it("already past at ingest: skipped with the reason, or with run_late run at once", async () => {
    const skipped = await hook("late-skip", "event.created", { at: "event.start_time", offset: "-24h" });
    const runs = await hook("late-run", "event.created", { at: "event.start_time", offset: "-24h", run_late: true });
    await client.ingest({ type: "event.created", data: event(2, 2 * HOUR) });
    expect(await only(skipped.id)).toMatchObject({
      state: "skipped",
      attempts: 0,
      reason: expect.stringMatching(/^24 h before event\.start_time \(.*\) had passed at ingest$/),
    });
    expect((await client.log(skipped.id, { outcome: "skipped" })).data).toHaveLength(1);
    await receiver.waitFor(1, "/late-run");
    expect((await only(runs.id)).reason).toMatch(/^ran late: 24 h before event\.start_time was /);
    // Resent like a failed instance: it runs now.
    await client.resend((await only(skipped.id)).id);
    await receiver.waitFor(1, "/late-skip");
  });

  it("a fixed delay after ingest", async () => {
    const action = await hook("delay", "event.created", { at: null, offset: "90m" });
    await client.ingest({ type: "event.created", data: event(3, 0) });
    const waiting = await only(action.id);
    expect(waiting).toMatchObject({ state: "scheduled", reason: "90 min after ingest" });
  });

  it("event.updated with a new start time moves them; event.deleted cancels them, with the reason", async () => {
    const action = await hook("moved", "event.created", { at: "event.start_time", offset: "-24h" });
    await client.ingest({ type: "event.created", data: event(40211, 48 * HOUR) });
    const before = Date.parse((await only(action.id)).scheduled_for ?? "");
    await client.ingest({ type: "event.updated", data: event(40211, 72 * HOUR) });
    const moved = await only(action.id);
    expect(Date.parse(moved.scheduled_for ?? "") - before).toBeGreaterThan(24 * HOUR - 60_000);
    expect(moved.reason).toBe("24 h before event.start_time; moved by event.updated");
    // Moved into the past: skipped.
    await client.ingest({ type: "event.updated", data: event(40211, HOUR) });
    expect(await only(action.id)).toMatchObject({ state: "skipped", reason: expect.stringMatching(/had passed at ingest \(moved by event\.updated\)$/) });

    const canceled = await hook("canceled", "event.created", { at: "event.start_time", offset: "-24h" });
    await client.ingest({ type: "event.created", data: event(40212, 48 * HOUR) });
    await client.ingest({ type: "event.deleted", data: event(40212, 48 * HOUR) });
    expect(await only(canceled.id)).toMatchObject({ state: "canceled", reason: "canceled: event.deleted for appointment 40212" });
    expect((await client.log(canceled.id, { outcome: "canceled" })).data).toHaveLength(1);
    // event.updated saying is_deleted cancels too.
    await client.ingest({ type: "event.created", data: event(40213, 48 * HOUR) });
    await client.ingest({ type: "event.updated", data: event(40213, 48 * HOUR, { is_deleted: true }) });
    const [latest] = (await client.log(canceled.id)).data;
    expect(latest).toMatchObject({ state: "canceled", reason: "canceled: event.updated for appointment 40213" });
  });

  it("participant.not_coming cancels that participant's, and leaves the other participants'", async () => {
    const action = await hook("participants", "participant.confirmed", { at: "participant.event.start_time", offset: "-2h" });
    const participant = (id: number) => ({ participant: { id, event_id: 700, event: { id: 700, start_time: iso(now() + 10 * HOUR) } } });
    await client.ingest({ type: "participant.confirmed", data: participant(1) });
    await client.ingest({ type: "participant.confirmed", data: participant(2) });
    await client.ingest({ type: "participant.not_coming", data: participant(1) });
    const { data } = await client.log(action.id, { sort: "created_at", order: "asc" });
    expect(data.map((i) => i.state)).toEqual(["canceled", "scheduled"]);
    expect(data[0]?.reason).toBe("canceled: participant.not_coming for participant 1 of appointment 700");
  });

  it("quiet hours push a due time inside them to their end, in the account's zone", async () => {
    await client.updateAccount({ time_zone: "America/New_York" });
    const trigger = await client.createTrigger({ name: "quiet", type: "event.created" });
    const action = await client.createAction(trigger.id, {
      name: "quiet",
      type: "email",
      to: "patient@example.com",
      subject: "Reminder",
      body: "See you",
      timing: { at: "event.start_time", offset: "-12h" },
      quiet_hours: { start: "21:00", end: "08:00" },
    } as never);
    // 12 h before a 09:00 appointment is 21:00 the evening before: inside quiet hours until 08:00.
    const start = Date.parse("2031-06-10T09:00:00-04:00");
    await client.ingest({ type: "event.created", data: { event: { id: 9001, start_time: iso(start) } } });
    const waiting = await only(action.id);
    expect(waiting).toMatchObject({ state: "scheduled", scheduled_for: "2031-06-10T12:00:00.000Z" });
    expect(waiting.reason).toBe("12 h before event.start_time; quiet hours until 08:00 America/New_York");
    await client.updateAccount({ time_zone: "UTC" });
  });
});

describe("a restart with scheduled work pending", () => {
  it("delivers it when due, after the restart", async () => {
    const dataDir = tempDir();
    const database = await freshDatabase(dataDir);
    const env = { HOOKLINE_DATA_DIR: dataDir, HOOKLINE_DATABASE_URL: database.url, HOOKLINE_WEBHOOK_THREAD: "off" };
    let skew = 0;
    const first = await startTestHookline(env, { now: () => Date.now() + skew });
    const { apiKey, client: before } = await first.account();
    const trigger = await before.createTrigger({ name: "r", type: "event.created" });
    const action = await before.createAction(trigger.id, { name: "r", type: "webhook", url: receiver.url("/restarted"), timing: { at: null, offset: "30m" } });
    await before.ingest({ type: "event.created", data: { event: { id: 1 } } });
    expect((await before.log(action.id)).data[0]?.state).toBe("scheduled");
    await first.hookline.stop(); // the same data folder and database serve the restart

    skew = 31 * 60_000;
    const second = await startTestHookline(env, { now: () => Date.now() + skew });
    try {
      await receiver.waitFor(1, "/restarted");
      const after = new HooklineClient({ baseUrl: second.baseUrl, apiKey });
      await eventually(async () => ((await after.log(action.id)).data[0]?.state === "succeeded" ? true : undefined));
    } finally {
      await second.stop();
      await database.drop();
    }
  });
});

describe("finding an appointment's waiting instances", () => {
  it.runIf(DIALECT === "sqlite")("is a probe of the partial index on (account, appointment, participant), not a scan of scheduled work", async () => {
    const compiled = waitingQuery(h.hookline.store.db, "acc_1", "40211", "7", Date.now()).compile();
    const plan = await h.hookline.store.db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${compiled.sql}`, [...compiled.parameters]));
    const instances = plan.rows.map((r) => r.detail).find((d) => d.includes("instances"));
    expect(instances).toMatch(/USING INDEX instances_appointment \(account_id=\? AND appointment=\? AND participant=\?\)/);
  });
});
