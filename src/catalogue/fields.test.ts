import { describe, expect, it } from "vitest";
import { fieldAt, fieldsOf, openObjectsOf, valueAt } from "./fields.js";
import { TRIGGER_TYPE_NAMES } from "./trigger-types.js";

describe("catalogue fields", () => {
  it("lists a participant type's fields with their kinds and the example's values, the nested event included", () => {
    const fields = new Map(fieldsOf("participant.confirmed").map((f) => [f.path, f]));
    expect(fields.get("participant.id")).toMatchObject({ kind: "number", description: "Participant ID", example: 8812 });
    expect(fields.get("participant.state")).toMatchObject({ kind: "text", example: "confirmed" });
    expect(fields.get("participant.event.start_time")).toMatchObject({ kind: "date", example: "2026-04-15T12:00:00-07:00" });
    expect(fields.get("participant.event.all_day")).toMatchObject({ kind: "boolean", example: false });
    expect(fields.get("participant.event.calendar_id")).toMatchObject({ kind: "number", description: "Calendar ID" });
  });

  it("takes any path inside an open object (custom data, form answers) as a field of kind any, but not the object itself", () => {
    expect(openObjectsOf("event.created")).toEqual(["event.custom_data"]);
    expect(fieldAt("event.created", "event.custom_data.room")).toEqual({ path: "event.custom_data.room", kind: "any" });
    expect(fieldAt("booking_request.completed", "booking_request.field_data.reason")).toMatchObject({ kind: "any" });
    expect(fieldAt("event.created", "event.custom_data")).toBeUndefined();
    expect(fieldAt("event.created", "event.nope")).toBeUndefined();
    expect(fieldAt("event.created", "event.participants")).toBeUndefined();
  });

  it("names the bare object of the stop-list types by its key", () => {
    expect(fieldsOf("stoplist.phone_added")).toMatchObject([{ path: "phone", kind: "text", example: "+15552013344" }]);
  });

  it("gives every type at least its object's identity", () => {
    for (const type of TRIGGER_TYPE_NAMES) expect(fieldsOf(type).length, type).toBeGreaterThan(0);
  });

  it("reads a value at a path, undefined where a step is missing or not an object", () => {
    const data = { event: { id: 1, custom_data: { room: "2" }, participants: [{ id: 2 }] } };
    expect(valueAt(data, "event.custom_data.room")).toBe("2");
    expect(valueAt(data, "event.title")).toBeUndefined();
    expect(valueAt(data, "event.id.x")).toBeUndefined();
    expect(valueAt(data, "event.participants.0")).toBeUndefined();
  });
});
