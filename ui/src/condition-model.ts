/**
 * The condition builder's model, apart from its view (conditions.ts): the operators of each kind,
 * a trigger's conditions as drafted rows and back into the API's shape with typed values, and the
 * words the UI uses for them. No DOM: unit-tested under Node.
 */
import type { ConditionGroup, ConditionLeaf, ConditionOp, FieldKind, Scalar, TriggerType } from "./types.js";

export type Mode = "all" | "any";
/** A condition as typed: the value is the input's text (a list comma-separated) until it is read for the API. */
export interface LeafDraft {
  field: string;
  op: ConditionOp;
  value: string;
}
export interface GroupDraft {
  mode: Mode;
  items: LeafDraft[];
}
export interface Draft {
  mode: Mode;
  items: (LeafDraft | GroupDraft)[];
}

/** The operators of each kind, as the contract of issue 37 lists them, in the order offered. */
export const OPS: Record<FieldKind, ConditionOp[]> = {
  number: ["eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "exists", "missing"],
  text: ["eq", "ne", "in", "not_in", "contains", "starts_with", "exists", "missing"],
  date: ["gt", "gte", "lt", "lte", "eq", "ne", "exists", "missing"],
  boolean: ["eq", "ne", "exists", "missing"],
  any: ["eq", "ne", "in", "not_in", "contains", "starts_with", "gt", "gte", "lt", "lte", "exists", "missing"],
};
export const OP_LABELS: Record<ConditionOp, string> = {
  eq: "equals",
  ne: "does not equal",
  in: "is one of",
  not_in: "is none of",
  contains: "contains",
  starts_with: "starts with",
  exists: "is present",
  missing: "is missing",
  gt: "is greater than",
  gte: "is at least",
  lt: "is less than",
  lte: "is at most",
};
/** Dates read better as before / after. */
export const DATE_LABELS: Partial<Record<ConditionOp, string>> = { gt: "is after", gte: "is at or after", lt: "is before", lte: "is at or before" };
export const LIST_OPS: readonly ConditionOp[] = ["in", "not_in"];
export const NO_VALUE: readonly ConditionOp[] = ["exists", "missing"];
/** The server's limit. */
export const MAX_LEAVES = 20;

export const isGroup = (item: LeafDraft | GroupDraft): item is GroupDraft => "items" in item;
const modeOf = (group: ConditionGroup<unknown>): Mode => ("all" in group ? "all" : "any");
const itemsOf = <T>(group: ConditionGroup<T>): T[] => ("all" in group ? group.all : group.any);

/** The kind of the field a path names: a listed field's, `any` beneath an open object, undefined otherwise. */
export function kindAt(type: TriggerType, path: string): FieldKind | undefined {
  const listed = type.fields.find((f) => f.path === path);
  if (listed) return listed.kind;
  return openObjectOf(type, path) !== undefined ? "any" : undefined;
}
export function openObjectOf(type: TriggerType, path: string): string | undefined {
  return type.open_objects.find((o) => path.startsWith(`${o}.`));
}

/** A datetime-local input's value for an ISO time, in the browser's zone. */
const localInput = (iso: string) => {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? "" : new Date(ms - new Date(ms).getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
};

function leafText(leaf: ConditionLeaf, kind: FieldKind | undefined): string {
  if (Array.isArray(leaf.value)) return leaf.value.join(", ");
  if (leaf.value === undefined) return "";
  return kind === "date" ? localInput(String(leaf.value)) : String(leaf.value);
}

export function toDraft(type: TriggerType, conditions: ConditionGroup | null | undefined): Draft {
  if (!conditions) return { mode: "all", items: [] };
  const leaf = (l: ConditionLeaf): LeafDraft => ({ field: l.field, op: l.op, value: leafText(l, kindAt(type, l.field)) });
  return {
    mode: modeOf(conditions),
    items: itemsOf(conditions).map((item) =>
      "field" in item ? leaf(item) : { mode: modeOf(item), items: itemsOf<ConditionLeaf>(item as ConditionGroup<ConditionLeaf>).map(leaf) },
    ),
  };
}

/** One typed value from its text, or a sentence saying what is wrong. */
function scalar(kind: FieldKind, op: ConditionOp, text: string): Scalar | { problem: string } {
  const t = text.trim();
  if (t === "") return { problem: "needs a value" };
  switch (kind) {
    case "number": {
      const n = Number(t);
      return Number.isFinite(n) ? n : { problem: `"${t}" is not a number` };
    }
    case "boolean":
      return t === "true";
    case "date": {
      const ms = Date.parse(t);
      return Number.isNaN(ms) ? { problem: "needs a date and time" } : new Date(ms).toISOString();
    }
    case "any": {
      // In custom data a comparison is numeric when the value reads as a number.
      const n = Number(t);
      return ["gt", "gte", "lt", "lte"].includes(op) && Number.isFinite(n) ? n : t;
    }
    default:
      return t;
  }
}

/** A drafted condition as the API takes it, or what is missing. */
function toLeaf(type: TriggerType, leaf: LeafDraft): ConditionLeaf | { problem: string } {
  const kind = kindAt(type, leaf.field);
  if (!kind || leaf.field.endsWith(".")) return { problem: "needs a field" };
  if (NO_VALUE.includes(leaf.op)) return { field: leaf.field, op: leaf.op };
  if (LIST_OPS.includes(leaf.op)) {
    const values = leaf.value
      .split(",")
      .filter((v) => v.trim() !== "")
      .map((v) => scalar(kind, leaf.op, v));
    if (values.length === 0) return { problem: "needs at least one value" };
    const bad = values.find((v): v is { problem: string } => typeof v === "object");
    return bad ?? { field: leaf.field, op: leaf.op, value: values as Scalar[] };
  }
  const value = scalar(kind, leaf.op, leaf.value);
  return typeof value === "object" ? value : { field: leaf.field, op: leaf.op, value };
}

export type Built = { conditions: ConditionGroup | null } | { problem: string };

/** The draft as the API's `conditions` (null when there are none), or the first condition that is not finished. */
export function build(type: TriggerType, draft: Draft): Built {
  const items: (ConditionLeaf | ConditionGroup<ConditionLeaf>)[] = [];
  for (const [i, item] of draft.items.entries()) {
    if (isGroup(item)) {
      const leaves: ConditionLeaf[] = [];
      for (const [j, l] of item.items.entries()) {
        const leaf = toLeaf(type, l);
        if ("problem" in leaf) return { problem: `condition ${i + 1}.${j + 1} ${leaf.problem}` };
        leaves.push(leaf);
      }
      if (leaves.length > 0) items.push(item.mode === "all" ? { all: leaves } : { any: leaves });
    } else {
      const leaf = toLeaf(type, item);
      if ("problem" in leaf) return { problem: `condition ${i + 1} ${leaf.problem}` };
      items.push(leaf);
    }
  }
  if (items.length === 0) return { conditions: null };
  return { conditions: draft.mode === "all" ? { all: items } : { any: items } };
}

export const leafCount = (draft: Draft) => draft.items.reduce((n, item) => n + (isGroup(item) ? item.items.length : 1), 0);

function describeLeaf(leaf: ConditionLeaf): string {
  const value = Array.isArray(leaf.value) ? leaf.value.join(", ") : leaf.value === undefined ? "" : ` ${JSON.stringify(leaf.value)}`;
  return `${leaf.field} ${OP_LABELS[leaf.op]}${Array.isArray(leaf.value) ? ` ${value}` : value}`;
}

/** The conditions in one line for the trigger's page: `event.calendar_id is one of 7, 9 and (…)`. */
export function describeConditions(group: ConditionGroup): string {
  const join = (mode: Mode) => (mode === "all" ? " and " : " or ");
  return itemsOf(group)
    .map((item) =>
      "field" in item
        ? describeLeaf(item)
        : `(${itemsOf<ConditionLeaf>(item as ConditionGroup<ConditionLeaf>)
            .map(describeLeaf)
            .join(join(modeOf(item)))})`,
    )
    .join(join(modeOf(group)));
}

/**
 * The API names a refused condition by its path in the body (`conditions.all[1].any[0].field`);
 * the builder calls it by its row (`condition 2.1`). Other paths are left as they are.
 */
export function conditionName(path: string): string {
  const indexes = /^conditions\.(?:all|any)\[(\d+)\](?:\.(?:all|any)\[(\d+)\])?/.exec(path);
  if (!indexes) return path;
  return `condition ${[indexes[1], indexes[2]]
    .filter((i) => i !== undefined)
    .map((i) => Number(i) + 1)
    .join(".")}`;
}
