/**
 * A trigger's conditions: tests over its event's fields (catalogue/fields.ts paths), combined with
 * all / any, one level of nesting. Checked on save against the trigger type's fields, compiled once
 * into a predicate that ingest runs per event. Pure (zod and the catalogue only): the UI imports it.
 */
import { z } from "zod";
import { type FieldKind, fieldAt, valueAt } from "../catalogue/fields.js";
import type { TriggerTypeName } from "../catalogue/trigger-types.js";

export const MAX_CONDITIONS = 20;

const NO_VALUE_OPS = ["exists", "missing"] as const;
const LIST_OPS = ["in", "not_in"] as const;
const SCALAR_OPS = ["eq", "ne", "contains", "starts_with", "gt", "gte", "lt", "lte"] as const;
export const CONDITION_OPS = ["eq", "ne", "in", "not_in", "contains", "starts_with", "gt", "gte", "lt", "lte", "exists", "missing"] as const;
export type ConditionOp = (typeof CONDITION_OPS)[number];

/** Which operators fit a field of each kind (a field inside an open object takes every one). */
export const OPS_BY_KIND: Readonly<Record<FieldKind, readonly ConditionOp[]>> = {
  number: ["eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "exists", "missing"],
  text: ["eq", "ne", "in", "not_in", "contains", "starts_with", "exists", "missing"],
  date: ["gt", "gte", "lt", "lte", "eq", "ne", "exists", "missing"],
  boolean: ["eq", "ne", "exists", "missing"],
  any: CONDITION_OPS,
};

const Scalar = z.union([z.string().max(1000), z.number(), z.boolean()]);
type Scalar = z.output<typeof Scalar>;
const FieldPath = z
  .string()
  .max(300)
  .regex(/^[^.]+(\.[^.]+)+$/, "a field path from the event's data, e.g. event.calendar_id")
  .describe("A field of the trigger type's payload (GET /api/v1/trigger-types lists them), e.g. `event.calendar_id`");

/** A group where a condition belongs is the one shape a leaf's op cannot explain: say so rather than "bad op". */
const leafError = (issue: { input?: unknown }) =>
  issue.input !== null && typeof issue.input === "object" && ("all" in issue.input || "any" in issue.input)
    ? "groups nest one level deep: a group inside a group holds only conditions {field, op, value}"
    : `op must be one of ${CONDITION_OPS.join(", ")}`;

export const ConditionSchema = z
  .discriminatedUnion(
    "op",
    [
      z.strictObject({ field: FieldPath, op: z.enum(NO_VALUE_OPS) }),
      z.strictObject({ field: FieldPath, op: z.enum(LIST_OPS), value: z.array(Scalar).min(1).max(100) }),
      z.strictObject({ field: FieldPath, op: z.enum(SCALAR_OPS), value: Scalar }),
    ],
    { error: leafError },
  )
  .meta({ id: "Condition" });
export type Condition = z.output<typeof ConditionSchema>;

/** A group of conditions; `items` says what it may hold, so the nesting is spelled out and the document stays finite. */
function group<T extends z.ZodType>(items: T) {
  const list = z.array(items).min(1).max(MAX_CONDITIONS);
  return z.union([z.strictObject({ all: list }), z.strictObject({ any: list })]);
}

const InnerGroupSchema = group(ConditionSchema).meta({ id: "ConditionGroup", description: "A group inside the conditions: of conditions only" });
export const ConditionsSchema = group(z.union([ConditionSchema, InnerGroupSchema])).meta({
  id: "Conditions",
  description: 'Fire only when these hold: {"all": […]} or {"any": […]} of conditions {field, op, value} or of groups of conditions (one level of nesting)',
});
export type Conditions = z.output<typeof ConditionsSchema>;
type Group = Conditions | z.output<typeof InnerGroupSchema>;
type Item = Condition | z.output<typeof InnerGroupSchema>;

/** A problem found on save; `path` is relative to the conditions object (`["all", 1, "any", 0, "field"]`). */
export interface ConditionProblem {
  path: (string | number)[];
  message: string;
}

const ISO_DATE_TIME = z.iso.datetime({ offset: true, local: false });

/** An ISO 8601 date-time with an offset as epoch milliseconds: the one way conditions read a date. */
function instantOf(value: unknown): number | undefined {
  if (typeof value !== "string" || !ISO_DATE_TIME.safeParse(value).success) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** A number, or a string that reads as one (a field inside an open object may hold "12"). */
function numberOf(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value !== "string" || value.trim() === "") return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

const entries = (g: Group): { key: "all" | "any"; items: readonly Item[] } => ("all" in g ? { key: "all", items: g.all } : { key: "any", items: g.any });

/** The problem with one value of a condition on a field of `kind`, or undefined when it fits. */
function valueProblem(kind: FieldKind, op: ConditionOp, value: Scalar): string | undefined {
  const ordered = op === "gt" || op === "gte" || op === "lt" || op === "lte";
  switch (kind) {
    case "number":
      return typeof value === "number" ? undefined : `expected a number, got ${JSON.stringify(value)}`;
    case "text":
      return typeof value === "string" ? undefined : `expected a string, got ${JSON.stringify(value)}`;
    case "boolean":
      return typeof value === "boolean" ? undefined : `expected true or false, got ${JSON.stringify(value)}`;
    case "date":
      return instantOf(value) !== undefined
        ? undefined
        : `expected an ISO 8601 date-time with an offset (2026-03-01T09:00:00-05:00), got ${JSON.stringify(value)}`;
    case "any":
      return !ordered || numberOf(value) !== undefined ? undefined : `${op} compares numbers: expected a number, got ${JSON.stringify(value)}`;
  }
}

function checkLeaf(type: TriggerTypeName, leaf: Condition, at: (string | number)[], problems: ConditionProblem[]): void {
  const field = fieldAt(type, leaf.field);
  if (!field) {
    problems.push({ path: [...at, "field"], message: `unknown field "${leaf.field}" for trigger type ${type}` });
    return;
  }
  if (!OPS_BY_KIND[field.kind].includes(leaf.op)) {
    problems.push({
      path: [...at, "op"],
      message: `${leaf.op} does not fit ${field.kind} field "${leaf.field}" (it takes ${OPS_BY_KIND[field.kind].join(", ")})`,
    });
    return;
  }
  if (!("value" in leaf)) return;
  const values = Array.isArray(leaf.value) ? leaf.value.map((v, i) => ({ v, path: [...at, "value", i] })) : [{ v: leaf.value, path: [...at, "value"] }];
  for (const { v, path } of values) {
    const problem = valueProblem(field.kind, leaf.op, v);
    if (problem) problems.push({ path, message: `${problem} for ${field.kind} field "${leaf.field}"` });
  }
}

/**
 * What is wrong with conditions for a trigger of `type`: unknown fields, an op that does not fit a
 * field's kind, values of the wrong type or bad dates, more than MAX_CONDITIONS conditions. Empty when they fit.
 */
export function checkConditions(type: TriggerTypeName, conditions: Conditions): ConditionProblem[] {
  const problems: ConditionProblem[] = [];
  let leaves = 0;
  const walk = (g: Group, at: (string | number)[]) => {
    const { key, items } = entries(g);
    items.forEach((item, i) => {
      const path = [...at, key, i];
      if ("field" in item) {
        leaves++;
        checkLeaf(type, item, path, problems);
      } else walk(item, path);
    });
  };
  walk(conditions, []);
  if (leaves > MAX_CONDITIONS) problems.push({ path: [], message: `${leaves} conditions; a trigger takes at most ${MAX_CONDITIONS}` });
  return problems;
}

export type Predicate = (data: unknown) => boolean;

/** Equality as conditions mean it: exact (2 is not "2"), except that two date-times are equal as instants. */
function equalTo(expected: Scalar): (actual: unknown) => boolean {
  const instant = instantOf(expected);
  if (instant === undefined) return (actual) => actual === expected;
  return (actual) => actual === expected || instantOf(actual) === instant;
}

/** An ordering test: two date-times compare as instants, anything else as numbers; false when either is neither. */
function ordered(expected: Scalar, holds: (sign: number) => boolean): (actual: unknown) => boolean {
  const instant = instantOf(expected);
  if (instant !== undefined) {
    return (actual) => {
      const a = instantOf(actual);
      return a !== undefined && holds(Math.sign(a - instant));
    };
  }
  const n = numberOf(expected);
  return (actual) => {
    const a = numberOf(actual);
    return a !== undefined && n !== undefined && holds(Math.sign(a - n));
  };
}

/** A text test, case-insensitive; a number or boolean inside an open object is read as its text. */
function textTest(expected: Scalar, holds: (actual: string, expected: string) => boolean): (actual: unknown) => boolean {
  const lower = String(expected).toLowerCase();
  return (actual) => (typeof actual === "string" || typeof actual === "number" || typeof actual === "boolean") && holds(String(actual).toLowerCase(), lower);
}

/** A value absent or null counts as missing: platforms send null for "not set". */
const isMissing = (value: unknown) => value === undefined || value === null;

function compileTest(leaf: Condition): (actual: unknown) => boolean {
  switch (leaf.op) {
    case "exists":
      return (a) => !isMissing(a);
    case "missing":
      return isMissing;
    case "in":
    case "not_in": {
      const tests = leaf.value.map(equalTo);
      const found = (a: unknown) => tests.some((t) => t(a));
      return leaf.op === "in" ? found : (a) => !found(a);
    }
    case "eq":
      return equalTo(leaf.value);
    case "ne": {
      const eq = equalTo(leaf.value);
      return (a) => !eq(a);
    }
    case "contains":
      return textTest(leaf.value, (a, e) => a.includes(e));
    case "starts_with":
      return textTest(leaf.value, (a, e) => a.startsWith(e));
    case "gt":
      return ordered(leaf.value, (s) => s > 0);
    case "gte":
      return ordered(leaf.value, (s) => s >= 0);
    case "lt":
      return ordered(leaf.value, (s) => s < 0);
    case "lte":
      return ordered(leaf.value, (s) => s <= 0);
  }
}

function compileItem(item: Item): Predicate {
  if ("field" in item) {
    const test = compileTest(item);
    const { field } = item;
    return (data) => test(valueAt(data, field));
  }
  return compileConditions(item);
}

/**
 * The predicate conditions stand for, over an event's `data`. Compile once and reuse it: the
 * values (dates, numbers, lowercased text) are read here, not per event.
 */
export function compileConditions(conditions: Group): Predicate {
  const { key, items } = entries(conditions);
  const tests = items.map(compileItem);
  return key === "all" ? (data) => tests.every((t) => t(data)) : (data) => tests.some((t) => t(data));
}
