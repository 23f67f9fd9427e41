import { describe, expect, it } from "vitest";
import { ValidationError } from "../errors.js";
import { parseInput } from "../validation.js";
import { type Condition, type ConditionOp, type Conditions, ConditionsSchema, checkConditions, compileConditions } from "./conditions.js";

/** Whether one condition, as sent (parsed by the schema), holds for `data`. */
const holds = (leaf: unknown, data: unknown) => compileConditions(ConditionsSchema.parse({ all: [leaf] }))(data);
const event = (fields: Record<string, unknown>) => ({ event: { id: 1, ...fields } });
/** The message parsing and checking give for `conditions` on an event.created trigger, as the API says it. */
function refusal(conditions: unknown): string {
  try {
    const parsed = parseInput(ConditionsSchema, conditions, "conditions");
    const problems = checkConditions("event.created", parsed);
    return problems.map((p) => `conditions${p.path.map((k) => (typeof k === "number" ? `[${k}]` : `.${k}`)).join("")}: ${p.message}`).join("; ");
  } catch (error) {
    if (error instanceof ValidationError) return error.message;
    throw error;
  }
}

describe("conditions on a number field", () => {
  const n = (op: ConditionOp, value: unknown, actual: unknown) => holds({ field: "event.calendar_id", op, value }, event({ calendar_id: actual }));
  it("eq and ne compare exactly: the number, not its text", () => {
    expect(n("eq", 310, 310)).toBe(true);
    expect(n("eq", 310, "310")).toBe(false);
    expect(n("ne", 310, 311)).toBe(true);
    expect(n("ne", 310, 310)).toBe(false);
  });
  it("in and not_in test membership", () => {
    expect(n("in", [7, 9], 9)).toBe(true);
    expect(n("in", [7, 9], 8)).toBe(false);
    expect(n("not_in", [7, 9], 8)).toBe(true);
    expect(n("not_in", [7, 9], 7)).toBe(false);
  });
  it("gt, gte, lt, lte order numbers", () => {
    expect([n("gt", 5, 6), n("gt", 5, 5), n("gte", 5, 5), n("gte", 5, 4)]).toEqual([true, false, true, false]);
    expect([n("lt", 5, 4), n("lt", 5, 5), n("lte", 5, 5), n("lte", 5, 6)]).toEqual([true, false, true, false]);
  });
  it("a missing field passes only the negations (ne, not_in) and missing", () => {
    const missing = { event: { id: 1 } };
    const test = (leaf: Condition) => holds(leaf, missing);
    expect(test({ field: "event.calendar_id", op: "eq", value: 1 })).toBe(false);
    expect(test({ field: "event.calendar_id", op: "gt", value: 1 })).toBe(false);
    expect(test({ field: "event.calendar_id", op: "ne", value: 1 })).toBe(true);
    expect(test({ field: "event.calendar_id", op: "not_in", value: [1] })).toBe(true);
  });
});

describe("conditions on a text field", () => {
  const t = (op: ConditionOp, value: unknown, actual: unknown) => holds({ field: "event.title", op, value }, event({ title: actual }));
  it("eq, ne, in, not_in compare exactly, case included", () => {
    expect(t("eq", "Cleaning", "Cleaning")).toBe(true);
    expect(t("eq", "Cleaning", "cleaning")).toBe(false);
    expect(t("ne", "Cleaning", "cleaning")).toBe(true);
    expect(t("in", ["A", "B"], "B")).toBe(true);
    expect(t("not_in", ["A", "B"], "b")).toBe(true);
  });
  it("contains and starts_with ignore case", () => {
    expect(t("contains", "cleaning", "Teeth CLEANING (45 min)")).toBe(true);
    expect(t("contains", "filling", "Teeth cleaning")).toBe(false);
    expect(t("starts_with", "teeth", "Teeth cleaning")).toBe(true);
    expect(t("starts_with", "cleaning", "Teeth cleaning")).toBe(false);
  });
});

describe("conditions on a date field", () => {
  const d = (op: ConditionOp, value: string, actual: unknown) => holds({ field: "event.start_time", op, value }, event({ start_time: actual }));
  it("compares instants, whatever the offsets", () => {
    expect(d("eq", "2026-04-15T19:00:00Z", "2026-04-15T12:00:00-07:00")).toBe(true);
    expect(d("ne", "2026-04-15T19:00:00Z", "2026-04-15T12:00:00-07:00")).toBe(false);
    // 12:00 at -07:00 is later than 20:00 at +02:00 (19:00 vs 18:00 UTC), though the clock reads earlier.
    expect(d("gt", "2026-04-15T20:00:00+02:00", "2026-04-15T12:00:00-07:00")).toBe(true);
    expect(d("gte", "2026-04-15T19:00:00Z", "2026-04-15T12:00:00-07:00")).toBe(true);
    expect(d("lt", "2026-04-15T20:00:00+02:00", "2026-04-15T12:00:00-07:00")).toBe(false);
    expect(d("lte", "2026-04-15T19:00:00.000Z", "2026-04-15T12:00:00-07:00")).toBe(true);
  });
});

describe("conditions on a boolean field", () => {
  it("eq and ne compare exactly", () => {
    expect(holds({ field: "event.all_day", op: "eq", value: true }, event({ all_day: true }))).toBe(true);
    expect(holds({ field: "event.all_day", op: "eq", value: true }, event({ all_day: "true" }))).toBe(false);
    expect(holds({ field: "event.all_day", op: "ne", value: true }, event({ all_day: false }))).toBe(true);
  });
});

describe("exists and missing", () => {
  const exists: Condition = { field: "event.location", op: "exists" };
  const missing: Condition = { field: "event.location", op: "missing" };
  it("count null as missing, like an absent field; an empty string exists", () => {
    expect([holds(exists, event({ location: "Room 2" })), holds(missing, event({ location: "Room 2" }))]).toEqual([true, false]);
    expect([holds(exists, event({ location: null })), holds(missing, event({ location: null }))]).toEqual([false, true]);
    expect([holds(exists, event({})), holds(missing, event({}))]).toEqual([false, true]);
    expect(holds(exists, event({ location: "" }))).toBe(true);
  });
});

describe("conditions on custom data (fields of kind any)", () => {
  const c = (op: ConditionOp, value: unknown, room: unknown) => holds({ field: "event.custom_data.room", op, value }, event({ custom_data: { room } }));
  it('eq compares exactly: the text "2" is not the number 2', () => {
    expect(c("eq", "2", "2")).toBe(true);
    expect(c("eq", "2", 2)).toBe(false);
    expect(c("in", ["2", "3"], "3")).toBe(true);
  });
  it("orders numbers, and strings when both read as numbers", () => {
    expect(c("gt", 10, "12")).toBe(true);
    expect(c("gt", "10", 9)).toBe(false);
    expect(c("lte", 10, "ten")).toBe(false);
  });
  it("contains reads numbers as their text", () => {
    expect(c("contains", "20", 1205)).toBe(true);
    expect(c("starts_with", "b", "Blue room")).toBe(true);
  });
  it("a custom_data array, or no custom_data, has no such field", () => {
    const exists: Condition = { field: "event.custom_data.room", op: "exists" };
    expect(holds(exists, event({ custom_data: [{ room: 2 }] }))).toBe(false);
    expect(holds(exists, event({}))).toBe(false);
  });
});

describe("all and any", () => {
  const calendar: Condition = { field: "event.calendar_id", op: "eq", value: 310 };
  const cleaning: Condition = { field: "event.title", op: "contains", value: "cleaning" };
  it("all needs every item, any one of them", () => {
    const data = event({ calendar_id: 310, title: "Checkup" });
    expect(compileConditions({ all: [calendar, cleaning] })(data)).toBe(false);
    expect(compileConditions({ any: [calendar, cleaning] })(data)).toBe(true);
  });
  it("a group nests inside a group: calendar 310 and (cleaning or room 2)", () => {
    const conditions: Conditions = { all: [calendar, { any: [cleaning, { field: "event.custom_data.room", op: "eq", value: "2" }] }] };
    const test = compileConditions(conditions);
    expect(test(event({ calendar_id: 310, title: "Checkup", custom_data: { room: "2" } }))).toBe(true);
    expect(test(event({ calendar_id: 310, title: "Checkup", custom_data: { room: "3" } }))).toBe(false);
    expect(test(event({ calendar_id: 311, title: "Cleaning", custom_data: { room: "2" } }))).toBe(false);
  });
});

describe("checking conditions on save", () => {
  it("accepts every op on a field of a kind it fits, with a value of that kind", () => {
    const fits: Conditions = {
      all: [
        { field: "event.calendar_id", op: "in", value: [7, 9] },
        { field: "event.title", op: "starts_with", value: "Dr." },
        { field: "event.start_time", op: "gte", value: "2026-04-15T12:00:00-07:00" },
        { field: "event.all_day", op: "eq", value: false },
        {
          any: [
            { field: "event.custom_data.room", op: "lt", value: "5" },
            { field: "event.custom_data.vip", op: "exists" },
          ],
        },
      ],
    };
    expect(checkConditions("event.created", fits)).toEqual([]);
  });
  it("names an unknown field by its path in the body", () => {
    expect(refusal({ all: [{ field: "event.title", op: "exists" }, { any: [{ field: "event.nope", op: "exists" }] }] })).toBe(
      'conditions.all[1].any[0].field: unknown field "event.nope" for trigger type event.created',
    );
  });
  it("refuses an op that does not fit the field's kind", () => {
    expect(refusal({ all: [{ field: "event.calendar_id", op: "contains", value: 3 }] })).toMatch(
      /^conditions\.all\[0\]\.op: contains does not fit number field/,
    );
    expect(refusal({ all: [{ field: "event.start_time", op: "in", value: ["2026-04-15T12:00:00Z"] }] })).toMatch(
      /^conditions\.all\[0\]\.op: in does not fit date/,
    );
    expect(refusal({ all: [{ field: "event.all_day", op: "gt", value: true }] })).toMatch(/^conditions\.all\[0\]\.op: gt does not fit boolean/);
  });
  it("refuses a value of the wrong type, naming the list item", () => {
    expect(refusal({ any: [{ field: "event.calendar_id", op: "eq", value: "310" }] })).toMatch(/^conditions\.any\[0\]\.value: expected a number, got "310"/);
    expect(refusal({ any: [{ field: "event.calendar_id", op: "in", value: [7, "9"] }] })).toMatch(/^conditions\.any\[0\]\.value\[1\]: expected a number/);
    expect(refusal({ any: [{ field: "event.title", op: "eq", value: true }] })).toMatch(/^conditions\.any\[0\]\.value: expected a string/);
    expect(refusal({ any: [{ field: "event.custom_data.room", op: "gt", value: "big" }] })).toMatch(/^conditions\.any\[0\]\.value: gt compares numbers/);
  });
  it("refuses a date without an offset or that is no date", () => {
    expect(refusal({ all: [{ field: "event.start_time", op: "gt", value: "2026-04-15T12:00:00" }] })).toMatch(
      /^conditions\.all\[0\]\.value: expected an ISO 8601 date-time/,
    );
    expect(refusal({ all: [{ field: "event.start_time", op: "gt", value: "2026-13-45T12:00:00Z" }] })).toMatch(
      /^conditions\.all\[0\]\.value: expected an ISO 8601/,
    );
    expect(refusal({ all: [{ field: "event.start_time", op: "gt", value: 1776270000000 }] })).toMatch(/^conditions\.all\[0\]\.value: expected an ISO 8601/);
  });
  it("refuses a group inside a group inside the top group", () => {
    expect(refusal({ all: [{ any: [{ all: [{ field: "event.title", op: "exists" }] }] }] })).toMatch(
      /^conditions\.all\[0\]\.any\[0\]\.op: groups nest one level deep/,
    );
  });
  it("refuses exists with a value, in with a single value, an empty list, an unknown op", () => {
    expect(refusal({ all: [{ field: "event.title", op: "exists", value: 1 }] })).toMatch(/^conditions\.all\[0\]: Unrecognized key: "value"/);
    expect(refusal({ all: [{ field: "event.title", op: "in", value: "a" }] })).toMatch(/^conditions\.all\[0\]\.value: .*expected array/);
    expect(refusal({ all: [{ field: "event.title", op: "in", value: [] }] })).toMatch(/^conditions\.all\[0\]\.value: .*>=1 items/);
    expect(refusal({ all: [{ field: "event.title", op: "like", value: "a" }] })).toMatch(/^conditions\.all\[0\]\.op: op must be one of eq, ne, in/);
  });
  it("refuses more than 20 conditions in all, counted across groups", () => {
    const leaf: Condition = { field: "event.title", op: "exists" };
    const twenty: Conditions = { all: [{ any: Array(10).fill(leaf) }, { all: Array(10).fill(leaf) }] };
    expect(checkConditions("event.created", twenty)).toEqual([]);
    expect(refusal({ all: [...twenty.all, leaf] })).toBe("conditions: 21 conditions; a trigger takes at most 20");
  });
});
