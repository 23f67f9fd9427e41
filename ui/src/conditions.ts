/**
 * The trigger form's condition builder: all / any of conditions, one nested group, fields from the
 * catalogue (GET /trigger-types `fields`, or any key under an `open_objects` path), operators and
 * value inputs that fit the field's kind, and whether the type's example payload matches, evaluated
 * by the server's own evaluator (shared.ts).
 */
import { html, nothing, render } from "lit-html";
import { live } from "lit-html/directives/live.js";
import { conditionsCompiler, type Matcher } from "./shared.js";
import type { CatalogueField, ConditionGroup, ConditionLeaf, ConditionOp, FieldKind, Scalar, TriggerType } from "./types.js";

type Mode = "all" | "any";
/** A condition as typed: the value is the input's text (a list comma-separated) until it is read for the API. */
interface LeafDraft {
  field: string;
  op: ConditionOp;
  value: string;
}
interface GroupDraft {
  mode: Mode;
  items: LeafDraft[];
}
interface Draft {
  mode: Mode;
  items: (LeafDraft | GroupDraft)[];
}

/** The operators of each kind, as the contract of issue 37 lists them, in the order offered. */
const OPS: Record<FieldKind, ConditionOp[]> = {
  number: ["eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "exists", "missing"],
  text: ["eq", "ne", "in", "not_in", "contains", "starts_with", "exists", "missing"],
  date: ["gt", "gte", "lt", "lte", "eq", "ne", "exists", "missing"],
  boolean: ["eq", "ne", "exists", "missing"],
  any: ["eq", "ne", "in", "not_in", "contains", "starts_with", "gt", "gte", "lt", "lte", "exists", "missing"],
};
const OP_LABELS: Record<ConditionOp, string> = {
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
const DATE_LABELS: Partial<Record<ConditionOp, string>> = { gt: "is after", gte: "is at or after", lt: "is before", lte: "is at or before" };
const LIST_OPS: readonly ConditionOp[] = ["in", "not_in"];
const NO_VALUE: readonly ConditionOp[] = ["exists", "missing"];
/** The server's limit. */
const MAX_LEAVES = 20;

const isGroup = (item: LeafDraft | GroupDraft): item is GroupDraft => "items" in item;
const modeOf = (group: ConditionGroup<unknown>): Mode => ("all" in group ? "all" : "any");
const itemsOf = <T>(group: ConditionGroup<T>): T[] => ("all" in group ? group.all : group.any);

/** The kind of the field a path names: a listed field's, `any` beneath an open object, undefined otherwise. */
export function kindAt(type: TriggerType, path: string): FieldKind | undefined {
  const listed = type.fields.find((f) => f.path === path);
  if (listed) return listed.kind;
  return openObjectOf(type, path) !== undefined ? "any" : undefined;
}
function openObjectOf(type: TriggerType, path: string): string | undefined {
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

function toDraft(type: TriggerType, conditions: ConditionGroup | null | undefined): Draft {
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

type Built = { conditions: ConditionGroup | null } | { problem: string };

/** The draft as the API's `conditions` (null when there are none), or the first condition that is not finished. */
function build(type: TriggerType, draft: Draft): Built {
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

const leafCount = (draft: Draft) => draft.items.reduce((n, item) => n + (isGroup(item) ? item.items.length : 1), 0);

export interface ConditionBuilder {
  /** The conditions to save, or the problem to show instead of saving. */
  read(): Built;
  /** Starts over for another trigger type (its fields differ). */
  reset(type: TriggerType): void;
}

/** Renders the builder into `container` and keeps it live; `initial` is the trigger's saved conditions. */
export function conditionBuilder(container: HTMLElement, initialType: TriggerType, initial: ConditionGroup | null | undefined): ConditionBuilder {
  let type = initialType;
  let draft = toDraft(type, initial);
  let matcher: { compile: ((c: ConditionGroup) => Matcher) | undefined } | undefined;
  void conditionsCompiler().then((compile) => {
    matcher = { compile };
    update();
  });

  const newLeaf = (): LeafDraft => ({ field: type.fields[0]?.path ?? "", op: OPS[type.fields[0]?.kind ?? "text"][0] ?? "eq", value: "" });
  const update = () => render(view(), container);

  function setField(leaf: LeafDraft, choice: string) {
    const open = choice.startsWith("open:") ? choice.slice("open:".length) : undefined;
    leaf.field = open !== undefined ? `${open}.` : choice;
    const ops = OPS[open !== undefined ? "any" : (kindAt(type, leaf.field) ?? "text")];
    if (!ops.includes(leaf.op)) leaf.op = ops[0] ?? "eq";
    leaf.value = "";
    update();
  }

  function fieldPicker(leaf: LeafDraft, name: string) {
    const open = openObjectOf(type, leaf.field);
    const listed = (f: CatalogueField) => html`<option value=${f.path} ?selected=${!open && f.path === leaf.field}>${f.path}</option>`;
    return html`<select aria-label="Field of ${name}" @change=${(e: Event) => setField(leaf, (e.target as HTMLSelectElement).value)}>
        ${type.fields.map(listed)}
        ${type.open_objects.map((o) => html`<option value=${`open:${o}`} ?selected=${open === o}>${o}.… (a key of your own)</option>`)}
      </select>
      ${
        open === undefined
          ? nothing
          : html`<input class="key" aria-label="Key in ${open} for ${name}" placeholder="room" .value=${live(leaf.field.slice(open.length + 1))}
            @input=${(e: Event) => {
              leaf.field = `${open}.${(e.target as HTMLInputElement).value.trim()}`;
              update();
            }}>`
      }`;
  }

  function valueInput(leaf: LeafDraft, kind: FieldKind, name: string) {
    if (NO_VALUE.includes(leaf.op)) return nothing;
    const set = (e: Event) => {
      leaf.value = (e.target as HTMLInputElement | HTMLSelectElement).value;
      update();
    };
    const label = `Value of ${name}`;
    if (kind === "boolean") {
      return html`<select aria-label=${label} .value=${live(leaf.value || "true")} @change=${set}><option value="true">true</option><option value="false">false</option></select>`;
    }
    if (kind === "date") return html`<input type="datetime-local" aria-label=${label} .value=${live(leaf.value)} @input=${set}>`;
    const list = LIST_OPS.includes(leaf.op);
    const example = type.fields.find((f) => f.path === leaf.field)?.example;
    return html`<input aria-label=${label} inputmode=${kind === "number" && !list ? "decimal" : "text"}
      placeholder=${list ? "comma-separated: 7, 9" : example === undefined || example === null ? "" : String(example)} .value=${live(leaf.value)} @input=${set}>`;
  }

  function leafRow(leaf: LeafDraft, name: string, remove: () => void) {
    const kind = leaf.field.endsWith(".") ? "any" : (kindAt(type, leaf.field) ?? "text");
    if (kind === "boolean" && leaf.value === "") leaf.value = "true";
    return html`<li class="condition">
      ${fieldPicker(leaf, name)}
      <select aria-label="Operator of ${name}" .value=${live(leaf.op)} @change=${(e: Event) => {
        leaf.op = (e.target as HTMLSelectElement).value as ConditionOp;
        update();
      }}>${OPS[kind].map((op) => html`<option value=${op} ?selected=${op === leaf.op}>${(kind === "date" && DATE_LABELS[op]) || OP_LABELS[op]}</option>`)}</select>
      ${valueInput(leaf, kind, name)}
      <button type="button" class="link" aria-label="Remove ${name}" @click=${remove}>Remove</button>
    </li>`;
  }

  function modePicker(owner: { mode: Mode }, label: string) {
    return html`<select aria-label=${label} .value=${live(owner.mode)} @change=${(e: Event) => {
      owner.mode = (e.target as HTMLSelectElement).value as Mode;
      update();
    }}><option value="all" ?selected=${owner.mode === "all"}>all of</option><option value="any" ?selected=${owner.mode === "any"}>any of</option></select>`;
  }

  function matchLine() {
    const built = build(type, draft);
    if ("problem" in built) return html`<span class="muted">Finish ${built.problem}.</span>`;
    if (built.conditions === null) return html`<span class="muted">No conditions: every ${type.label} event fires the trigger.</span>`;
    if (!matcher) return html`<span class="muted">Checking…</span>`;
    if (!matcher.compile) return html`<span class="muted">Checking the example is not available on this server.</span>`;
    let matches: boolean;
    try {
      matches = matcher.compile(built.conditions)(type.example);
    } catch (error) {
      return html`<span class="field-error">${(error as Error).message}</span>`;
    }
    return html`The example payload matches: <strong class=${matches ? "yes" : "no"}>${matches ? "yes" : "no"}</strong>`;
  }

  function view() {
    const full = leafCount(draft) >= MAX_LEAVES;
    const add = (into: { items: (LeafDraft | GroupDraft)[] } | GroupDraft, item: LeafDraft | GroupDraft) => () => {
      (into.items as (LeafDraft | GroupDraft)[]).push(item);
      update();
    };
    const removeAt = (from: { items: unknown[] }, i: number) => () => {
      from.items.splice(i, 1);
      update();
    };
    return html`<fieldset class="conditions">
      <legend>Only when <span class="muted">(optional)</span></legend>
      ${draft.items.length > 1 ? html`<p>Fire when ${modePicker(draft, "Combine the conditions")} these are true:</p>` : nothing}
      <ol class="conditions">${draft.items.map((item, i) =>
        isGroup(item)
          ? html`<li class="group"><p>${modePicker(item, `Combine group ${i + 1}`)} these (group ${i + 1}):</p>
              <ol>${item.items.map((leaf, j) => leafRow(leaf, `condition ${i + 1}.${j + 1}`, removeAt(item, j)))}</ol>
              <div class="buttons"><button type="button" ?disabled=${full} @click=${add(item, newLeaf())}>Add condition to group ${i + 1}</button>
                <button type="button" class="link" @click=${removeAt(draft, i)}>Remove group ${i + 1}</button></div></li>`
          : leafRow(item, `condition ${i + 1}`, removeAt(draft, i)),
      )}</ol>
      <div class="buttons">
        <button type="button" ?disabled=${full} @click=${add(draft, newLeaf())}>Add condition</button>
        <button type="button" ?disabled=${full} @click=${add(draft, { mode: "any", items: [newLeaf()] })}>Add group</button>
      </div>
      <p class="field-error" data-error-for="conditions" hidden></p>
      <output class="match" aria-live="polite">${matchLine()}</output>
    </fieldset>`;
  }

  update();
  return {
    read: () => build(type, draft),
    reset(next) {
      type = next;
      draft = { mode: "all", items: [] };
      update();
    },
  };
}

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
