import fs from "node:fs";
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { OBJECT_SCHEMAS, TRIGGER_TYPE_NAMES, TRIGGER_TYPES, triggerType } from "./trigger-types.js";

/** Field names of a payload table in the source document, by section heading. */
function sourceTables(): Map<string, Set<string>> {
  const text = fs.readFileSync(new URL("../../docs/spec/webhook-notifications.txt", import.meta.url), "utf8");
  const sections = new Map<string, Set<string>>();
  let current: Set<string> | undefined;
  for (const line of text.split("\n")) {
    if (line.startsWith("JSON Attribute")) continue;
    if (!line.includes("|")) {
      current = new Set();
      sections.set(line.trim(), current);
      continue;
    }
    const first = line.split("|")[0]?.trim() ?? "";
    if (!current || first === "" || first.startsWith("---")) continue;
    // Some rows lost their name in the source ("Email for participant (string) | |"): they are `email`.
    current.add(/email/i.test(first) ? "email" : first);
  }
  return sections;
}

function sectionFor(heading: string): Set<string> {
  const entry = [...sourceTables()].find(([h]) => h.startsWith(heading));
  if (!entry) throw new Error(`no section ${heading}`);
  return entry[1];
}

/** Every field name at any depth of a schema (objects, arrays of objects, optional/nullable wrappers). */
function fieldNames(schema: z.ZodType, into = new Set<string>()): Set<string> {
  const def = (schema as unknown as { _zod: { def: Record<string, unknown> & { type: string } } })._zod.def;
  if (def.type === "optional" || def.type === "nullable") return fieldNames(def.innerType as z.ZodType, into);
  if (def.type === "array") return fieldNames(def.element as z.ZodType, into);
  if (def.type === "union") {
    for (const option of def.options as z.ZodType[]) fieldNames(option, into);
    return into;
  }
  if (def.type === "object") {
    for (const [key, value] of Object.entries(def.shape as Record<string, z.ZodType>)) {
      into.add(key);
      fieldNames(value, into);
    }
  }
  return into;
}

/**
 * Fields PRODUCT.md adds to the source tables: the participant-based table lists no `state`, yet
 * state-change triggers are about it and the event table's participants carry it.
 */
const PRODUCT_ADDITIONS: Partial<Record<keyof typeof OBJECT_SCHEMAS, string[]>> = { participant: ["state"] };

describe("trigger catalogue", () => {
  it("has the 21 trigger types of the product and Hookline's 2 stop-list removals, each with a label and object key", () => {
    expect(TRIGGER_TYPE_NAMES).toHaveLength(23);
    expect(TRIGGER_TYPE_NAMES.filter((t) => t.endsWith("_removed"))).toEqual(["stoplist.phone_removed", "stoplist.email_removed"]);
    for (const t of TRIGGER_TYPES.values()) {
      expect(t.label).not.toBe("");
      expect(Object.keys(OBJECT_SCHEMAS)).toContain(t.objectKey);
    }
  });

  it.each([
    ["Event-Based Triggers", "event"],
    ["Participant-Based Triggers", "participant"],
    ["Booking Page-Based Triggers", "booking_page"],
    ["Booking Request-Based Triggers", "booking_request"],
    ["Message-Based Triggers", "message"],
  ] as const)("schema of %s has exactly the fields of the source table", (heading, key) => {
    const table = sectionFor(heading);
    table.delete("apptoto_id"); // added by Hookline per instance, not part of the ingested object
    for (const field of PRODUCT_ADDITIONS[key] ?? []) table.add(field);
    const schema = OBJECT_SCHEMAS[key];
    const fields = fieldNames(schema);
    fields.add(key); // the table's first row is the object itself
    expect([...fields].sort()).toEqual([...table].sort());
  });

  it("stop-list triggers carry a bare string under phone / email, as the source tables show", () => {
    expect(sectionFor("Phone number is added to stoplist")).toEqual(new Set(["phone", "apptoto_id"]));
    expect(sectionFor("Email is added to stoplist")).toEqual(new Set(["email", "apptoto_id"]));
    expect(triggerType("stoplist.phone_added").objectKey).toBe("phone");
    expect(triggerType("stoplist.email_added").objectKey).toBe("email");
    // Hookline's removals carry the same objects as the additions.
    expect(triggerType("stoplist.phone_removed").objectKey).toBe("phone");
    expect(triggerType("stoplist.email_removed").objectKey).toBe("email");
  });

  it.each(TRIGGER_TYPE_NAMES)("example payload of %s is valid against its schema", (type) => {
    const t = triggerType(type);
    expect(t.schema.safeParse(t.example).success).toBe(true);
    expect(Object.keys(t.example)).toEqual([t.objectKey]);
  });

  it("a participant type's example carries the state the type implies; the rest of the participant is the same everywhere", () => {
    const stateOf = (type: (typeof TRIGGER_TYPE_NAMES)[number]) => (triggerType(type).example.participant as { state: string }).state;
    expect(stateOf("participant.not_coming")).toBe("not_coming");
    expect(stateOf("participant.needs_reschedule")).toBe("not_coming_needs_reschedule");
    expect(stateOf("participant.declined_booking")).toBe("declined");
    expect(stateOf("participant.check_in_state_changed")).toBe("arrived");
    expect(stateOf("participant.confirmed")).toBe("confirmed");
    const { state: _, ...rest } = triggerType("participant.not_coming").example.participant as Record<string, unknown>;
    expect(triggerType("participant.confirmed").example.participant).toEqual({ ...rest, state: "confirmed" });
    for (const t of TRIGGER_TYPES.values()) if (t.exampleState) expect(t.objectKey).toBe("participant");
  });

  it("specific state types also fire their (any state) type; others fire only themselves", () => {
    for (const type of ["participant.confirmed", "participant.not_coming", "participant.needs_reschedule", "participant.invite_sent"] as const) {
      expect(triggerType(type).fires).toEqual([type, "participant.reminder_state_changed"]);
    }
    for (const type of ["participant.accepted_booking", "participant.declined_booking", "participant.canceled_booking"] as const) {
      expect(triggerType(type).fires).toEqual([type, "participant.booking_state_changed"]);
    }
    expect(triggerType("participant.reminder_state_changed").fires).toEqual(["participant.reminder_state_changed"]);
    expect(triggerType("event.created").fires).toEqual(["event.created"]);
  });

  it("keeps unknown extra fields of an ingested object", () => {
    const parsed = triggerType("booking_page.viewed").schema.parse({ booking_page: { id: 1, colour: "teal" } }) as { booking_page: { colour?: string } };
    expect(parsed.booking_page.colour).toBe("teal");
  });

  it("rejects wrong types with the field path", () => {
    const result = triggerType("participant.confirmed").schema.safeParse({ participant: { id: 1, event: { id: 2, start_time: "tomorrow" } } });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(["participant", "event", "start_time"]);
  });
});
