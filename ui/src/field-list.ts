/**
 * The template editor's field list: the trigger type's fields from the catalogue, each with its
 * example value, inserting `{{ path }}` at the cursor of its template box.
 */
import { html, render } from "lit-html";
import type { CatalogueField } from "./types.js";

const shown = (example: unknown) => (example === undefined || example === null ? "—" : typeof example === "string" ? example : JSON.stringify(example));

/** Inserts at the cursor (replacing a selection) and fires `input`, so the preview follows. */
function insert(box: HTMLTextAreaElement | HTMLInputElement, text: string) {
  box.focus();
  box.setRangeText(text, box.selectionStart ?? box.value.length, box.selectionEnd ?? box.value.length, "end");
  box.dispatchEvent(new Event("input", { bubbles: true }));
}

export function fieldList(container: HTMLElement, box: HTMLTextAreaElement | HTMLInputElement, fields: readonly CatalogueField[]): void {
  render(
    html`<details class="field-list">
      <summary>Insert a field</summary>
      <ul>${fields.map(
        (
          f,
        ) => html`<li><button type="button" class="link" title=${f.description} @click=${() => insert(box, `{{ ${f.path} }}`)}><span class="sr-only">Insert </span><code>${f.path}</code></button>
          <span class="muted">${shown(f.example)}</span></li>`,
      )}</ul>
    </details>`,
    container,
  );
}

/** The fields that hold a phone number or an email address: what `to` may name. */
export const recipientFields = (fields: readonly CatalogueField[], kind: "sms" | "email") =>
  fields.filter((f) => f.kind === "text" && (kind === "sms" ? /phone$/ : /email$/).test(f.path));
