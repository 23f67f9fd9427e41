/** The condition builder's model: typed values from the rows as typed, and its words for conditions. */
import { describe, expect, it } from "vitest";
import { OPS_BY_KIND } from "../src/match/conditions.js";
import { build, conditionName, describeConditions, OPS, toDraft } from "../ui/src/condition-model.js";
import type { TriggerType } from "../ui/src/types.js";

const field = (path: string, kind: TriggerType["fields"][number]["kind"]) => ({ path, kind, description: "", example: null });
const EVENT: TriggerType = {
  type: "event.created",
  label: "Appointment created",
  description: "",
  object_key: "event",
  also_fires: null,
  schema: {},
  example: {},
  fields: [field("event.calendar_id", "number"), field("event.title", "text"), field("event.start_time", "date"), field("event.all_day", "boolean")],
  open_objects: ["event.custom_data"],
};

describe("the condition builder's words", () => {
  it("names a condition the API refuses by its row, nested or not", () => {
    expect(conditionName("conditions.all[1].any[0].field")).toBe("condition 2.1");
    expect(conditionName("conditions.any[0].value")).toBe("condition 1");
    expect(conditionName("conditions")).toBe("conditions");
  });

  it("words saved conditions in one line, a group in parentheses", () => {
    expect(
      describeConditions({
        all: [
          { field: "event.calendar_id", op: "in", value: [7, 9] },
          {
            any: [
              { field: "event.title", op: "contains", value: "Cleaning" },
              { field: "event.custom_data.room", op: "exists" },
            ],
          },
        ],
      }),
    ).toBe('event.calendar_id is one of 7, 9 and (event.title contains "Cleaning" or event.custom_data.room is present)');
  });
});

describe("the condition builder's model", () => {
  it("offers for each kind exactly the operators the server accepts for it", () => {
    for (const kind of ["number", "text", "date", "boolean", "any"] as const) expect(new Set(OPS[kind]), kind).toEqual(new Set(OPS_BY_KIND[kind]));
  });

  it("reads each row's text as its field's kind: numbers, a list, a date as an instant, yes/no, a custom key's text", () => {
    const built = build(EVENT, {
      mode: "all",
      items: [
        { field: "event.calendar_id", op: "in", value: "7, 9," },
        { field: "event.start_time", op: "gt", value: "2026-04-15T12:00:00Z" },
        {
          mode: "any",
          items: [
            { field: "event.all_day", op: "eq", value: "false" },
            { field: "event.custom_data.room", op: "eq", value: "2" },
          ],
        },
        { field: "event.title", op: "exists", value: "ignored" },
      ],
    });
    expect(built).toEqual({
      conditions: {
        all: [
          { field: "event.calendar_id", op: "in", value: [7, 9] },
          { field: "event.start_time", op: "gt", value: "2026-04-15T12:00:00.000Z" },
          {
            any: [
              { field: "event.all_day", op: "eq", value: false },
              { field: "event.custom_data.room", op: "eq", value: "2" },
            ],
          },
          { field: "event.title", op: "exists" },
        ],
      },
    });
  });

  it("names the first unfinished row instead of building, and builds no rows as null", () => {
    expect(build(EVENT, { mode: "any", items: [{ field: "event.calendar_id", op: "eq", value: "seven" }] })).toEqual({
      problem: 'condition 1 "seven" is not a number',
    });
    expect(build(EVENT, { mode: "all", items: [{ mode: "all", items: [{ field: "event.custom_data.", op: "eq", value: "2" }] }] })).toEqual({
      problem: "condition 1.1 needs a field",
    });
    expect(build(EVENT, { mode: "all", items: [] })).toEqual({ conditions: null });
  });

  it("gives back saved conditions as the rows that build them again", () => {
    const saved = {
      any: [
        { field: "event.calendar_id", op: "not_in" as const, value: [310] },
        { all: [{ field: "event.title", op: "contains" as const, value: "Cleaning" }] },
      ],
    };
    expect(build(EVENT, toDraft(EVENT, saved))).toEqual({ conditions: saved });
  });
});
