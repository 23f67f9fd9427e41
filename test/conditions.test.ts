/** Triggers' conditions through the API: saved and returned, refused naming the condition, applied at ingest. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { type TriggerTypeName, triggerType } from "../src/catalogue/trigger-types.js";
import type { Conditions, HooklineClient } from "../src/client/index.js";
import { startTestHookline, type TestHookline } from "./helpers/hookline.js";

let h: TestHookline;
let client: HooklineClient;
let apiKey: string;

beforeAll(async () => {
  h = await startTestHookline();
  ({ client, apiKey } = await h.account());
});
afterAll(async () => {
  await h.stop();
});

/** The type's example payload with its object's fields replaced by `fields`. */
function payload(type: TriggerTypeName, fields: Record<string, unknown>): Record<string, unknown> {
  const { objectKey, example } = triggerType(type);
  const object = (example as Record<string, Record<string, unknown>>)[objectKey];
  return { [objectKey]: { ...object, ...fields } };
}

const ErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

/** The 400 message creating a trigger of `type` with `conditions` answers (sent raw: the typed client would not take them). */
async function refusal(type: TriggerTypeName, conditions: unknown): Promise<string> {
  const response = await fetch(`${h.baseUrl}/api/v1/triggers`, {
    method: "POST",
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "bad", type, conditions }),
  });
  const body = ErrorBody.parse(await response.json());
  expect([response.status, body.error.code]).toEqual([400, "validation_error"]);
  return body.error.message;
}

describe("conditions on triggers", () => {
  it("are saved and returned as sent; a trigger without them has null", async () => {
    const conditions: Conditions = {
      all: [{ field: "event.calendar_id", op: "in", value: [310, 311] }, { any: [{ field: "event.title", op: "contains", value: "cleaning" }] }],
    };
    const trigger = await client.createTrigger({ name: "Dr. Patel", type: "event.created", conditions });
    expect(trigger.conditions).toEqual(conditions);
    expect((await client.getTrigger(trigger.id)).conditions).toEqual(conditions);
    expect((await client.listTriggers()).data.find((t) => t.id === trigger.id)?.conditions).toEqual(conditions);
    expect((await client.createTrigger({ name: "plain", type: "event.created" })).conditions).toBeNull();
  });

  it("a PATCH replaces them, and null removes them", async () => {
    const trigger = await client.createTrigger({ name: "t", type: "event.created", conditions: { all: [{ field: "event.title", op: "exists" }] } });
    const replaced: Conditions = { any: [{ field: "event.location", op: "missing" }] };
    expect((await client.updateTrigger(trigger.id, { conditions: replaced })).conditions).toEqual(replaced);
    expect((await client.updateTrigger(trigger.id, { name: "renamed" })).conditions).toEqual(replaced);
    expect((await client.updateTrigger(trigger.id, { conditions: null })).conditions).toBeNull();
  });

  it("are refused 400 naming the condition by its path: unknown field, op not fitting the kind, wrong value, bad date, too deep, too many", async () => {
    expect(await refusal("event.created", { all: [{ field: "event.title", op: "exists" }, { any: [{ field: "event.nope", op: "exists" }] }] })).toBe(
      'conditions.all[1].any[0].field: unknown field "event.nope" for trigger type event.created',
    );
    expect(await refusal("event.created", { all: [{ field: "event.calendar_id", op: "starts_with", value: 3 }] })).toMatch(
      /^conditions\.all\[0\]\.op: starts_with does not fit number field "event\.calendar_id"/,
    );
    expect(await refusal("event.created", { all: [{ field: "event.calendar_id", op: "in", value: [310, "311"] }] })).toMatch(
      /^conditions\.all\[0\]\.value\[1\]: expected a number, got "311"/,
    );
    expect(await refusal("event.created", { any: [{ field: "event.start_time", op: "gt", value: "tomorrow" }] })).toMatch(
      /^conditions\.any\[0\]\.value: expected an ISO 8601 date-time/,
    );
    expect(await refusal("event.created", { any: [{ all: [{ any: [{ field: "event.title", op: "exists" }] }] }] })).toMatch(
      /^conditions\.any\[0\]\.all\[0\]\.op: groups nest one level deep/,
    );
    expect(await refusal("event.created", { all: Array(21).fill({ field: "event.title", op: "exists" }) })).toMatch(/^conditions\.all: .*<=20 items/);
    const leaf = { field: "event.title", op: "exists" };
    expect(await refusal("event.created", { all: [{ any: Array(11).fill(leaf) }, { any: Array(10).fill(leaf) }] })).toBe(
      "conditions: 21 conditions; a trigger takes at most 20",
    );
  });

  it("changing a trigger's type checks its stored conditions against the new type, and keeps the trigger when they do not fit", async () => {
    const trigger = await client.createTrigger({
      name: "t",
      type: "event.created",
      conditions: { all: [{ field: "event.custom_data.room", op: "eq", value: "2" }] },
    });
    // event.updated carries the same event object: the conditions still fit.
    expect((await client.updateTrigger(trigger.id, { type: "event.updated" })).type).toBe("event.updated");
    const refused = await client.updateTrigger(trigger.id, { type: "participant.confirmed" }).catch((error: unknown) => error);
    expect(refused).toMatchObject({ status: 400, code: "validation_error" });
    expect(String(refused)).toMatch(/conditions\.all\[0\]\.field: unknown field "event\.custom_data\.room" for trigger type participant\.confirmed/);
    expect((await client.getTrigger(trigger.id)).type).toBe("event.updated");
    // With conditions that fit the new type, in the same PATCH, the change is taken.
    const moved = await client.updateTrigger(trigger.id, {
      type: "participant.confirmed",
      conditions: { all: [{ field: "participant.event.custom_data.room", op: "eq", value: "2" }] },
    });
    expect(moved.type).toBe("participant.confirmed");
    // New conditions alone are checked against the stored type.
    await expect(client.updateTrigger(trigger.id, { conditions: { all: [{ field: "event.title", op: "exists" }] } })).rejects.toMatchObject({ status: 400 });
  });
});

describe("conditions at ingest", () => {
  it("an event that meets a trigger's conditions makes its instance; one that does not makes none", async () => {
    const { client: own } = await h.account();
    const trigger = await own.createTrigger({
      name: "Dr. Patel",
      type: "event.deleted",
      conditions: { all: [{ field: "event.calendar_id", op: "eq", value: 310 }] },
    });
    await own.createAction(trigger.id, { name: "hook", type: "webhook", url: "http://127.0.0.1:9/hook" });
    const ingest = async (calendar_id: number) => (await own.ingest({ type: "event.deleted", data: payload("event.deleted", { calendar_id }) })).instances;
    expect(await ingest(310)).toBe(1);
    expect(await ingest(311)).toBe(0);
    const log = await own.log((await own.listActions(trigger.id)).data[0]?.id ?? "");
    expect(log.data).toHaveLength(1);
  });

  it("all needs every condition, any one; a nested group and custom data fields count", async () => {
    const { client: own } = await h.account();
    const conditions: Conditions = {
      all: [
        { field: "participant.event.calendar_id", op: "in", value: [310] },
        {
          any: [
            { field: "participant.state", op: "eq", value: "not_coming" },
            { field: "participant.event.custom_data.room", op: "eq", value: "2" },
          ],
        },
      ],
    };
    // The "(any state)" type: a specific state's event fires it too, conditions deciding which.
    const trigger = await own.createTrigger({ name: "Patel cancels", type: "participant.reminder_state_changed", conditions });
    await own.createAction(trigger.id, { name: "hook", type: "webhook", url: "http://127.0.0.1:9/hook" });
    const ingest = async (type: TriggerTypeName, state: string, calendar_id: number, custom_data: unknown) =>
      (await own.ingest({ type, data: payload(type, { state, event: { id: 40211, calendar_id, custom_data } }) })).instances;
    expect(await ingest("participant.not_coming", "not_coming", 310, null)).toBe(1);
    expect(await ingest("participant.not_coming", "not_coming", 311, null)).toBe(0);
    expect(await ingest("participant.confirmed", "confirmed", 310, { room: "2" })).toBe(1);
    expect(await ingest("participant.confirmed", "confirmed", 310, { room: 2 })).toBe(0);
    expect(await ingest("participant.confirmed", "confirmed", 310, null)).toBe(0);
  });

  it("a trigger without conditions beside one with them: each event fires the first, the second only when it holds", async () => {
    const { client: own } = await h.account();
    const plain = await own.createTrigger({ name: "all", type: "booking_request.completed" });
    await own.createAction(plain.id, { name: "hook", type: "webhook", url: "http://127.0.0.1:9/hook" });
    const reason = await own.createTrigger({
      name: "with a reason",
      type: "booking_request.completed",
      conditions: { all: [{ field: "booking_request.field_data.reason", op: "exists" }] },
    });
    await own.createAction(reason.id, { name: "hook", type: "webhook", url: "http://127.0.0.1:9/hook" });
    const ingest = async (field_data: unknown) =>
      (await own.ingest({ type: "booking_request.completed", data: payload("booking_request.completed", { field_data }) })).instances;
    expect(await ingest({ reason: "toothache" })).toBe(2);
    expect(await ingest({ reason: null })).toBe(1);
    expect(await ingest(null)).toBe(1);
    expect(
      (
        await own.ingestBatch(
          [0, 1].map((i) => ({ type: "booking_request.completed", data: payload("booking_request.completed", { field_data: i ? { reason: "x" } : {} }) })),
        )
      ).data.map((e) => e.instances),
    ).toEqual([1, 2]);
  });
});
