/**
 * The trigger form's condition builder: all / any of conditions, one nested group, fields from the
 * catalogue (GET /trigger-types `fields`, or any key under an `open_objects` path), operators and
 * value inputs that fit the field's kind, and whether the type's example payload matches, evaluated
 * by the server's own evaluator (shared.ts).
 */
import { html, nothing, render } from "lit-html";
import { live } from "lit-html/directives/live.js";
import {
  type Built,
  build,
  DATE_LABELS,
  isGroup,
  kindAt,
  type LeafDraft,
  LIST_OPS,
  leafCount,
  MAX_LEAVES,
  type Mode,
  NO_VALUE,
  OP_LABELS,
  OPS,
  openObjectOf,
  toDraft,
} from "./condition-model.js";
import { conditionsCompiler, type Matcher } from "./shared.js";
import type { CatalogueField, ConditionGroup, ConditionOp, FieldKind, TriggerType } from "./types.js";

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

  // A yes/no field's select shows "true" first: the draft says so too.
  const blank = (kind: FieldKind | undefined) => (kind === "boolean" ? "true" : "");
  const newLeaf = (): LeafDraft => {
    const first = type.fields[0];
    return { field: first?.path ?? "", op: OPS[first?.kind ?? "text"][0] ?? "eq", value: blank(first?.kind) };
  };
  const update = () => render(view(), container);

  function setField(leaf: LeafDraft, choice: string) {
    const open = choice.startsWith("open:") ? choice.slice("open:".length) : undefined;
    leaf.field = open !== undefined ? `${open}.` : choice;
    const kind = open !== undefined ? "any" : (kindAt(type, leaf.field) ?? "text");
    if (!OPS[kind].includes(leaf.op)) leaf.op = OPS[kind][0] ?? "eq";
    leaf.value = blank(kind);
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
    const add = (push: () => void) => () => {
      push();
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
              <div class="buttons"><button type="button" ?disabled=${full} @click=${add(() => item.items.push(newLeaf()))}>Add condition to group ${i + 1}</button>
                <button type="button" class="link" @click=${removeAt(draft, i)}>Remove group ${i + 1}</button></div></li>`
          : leafRow(item, `condition ${i + 1}`, removeAt(draft, i)),
      )}</ol>
      <div class="buttons">
        <button type="button" ?disabled=${full} @click=${add(() => draft.items.push(newLeaf()))}>Add condition</button>
        <button type="button" ?disabled=${full} @click=${add(() => draft.items.push({ mode: "any", items: [newLeaf()] }))}>Add group</button>
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
