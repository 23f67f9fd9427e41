/** HTML from template literals, escaping every interpolated value unless it is already `Html`. */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
export const escapeHtml = (value: unknown): string => String(value ?? "").replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);

function render(value: unknown): string {
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(render).join("");
  if (value === false || value === null || value === undefined) return "";
  return escapeHtml(value);
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0] ?? "";
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? "");
  });
  return new Html(out);
}

/** An attribute value: text is escaped once; true writes the bare name (`checked`); false or nullish leaves it out. */
export type AttributeValue = string | number | boolean | null | undefined;

/**
 * Attributes from a typed object, ` name="value"` each, every value escaped exactly once. Attributes
 * go in through here and never as a pre-built `name="value"` string, which `html` would escape
 * again (`data-do=&quot;…&quot;`: the browser then reads the quotes as part of the value).
 */
export function attrs(attributes: Readonly<Record<string, AttributeValue>>): Html {
  let out = "";
  for (const [name, value] of Object.entries(attributes)) {
    if (!/^[a-z][a-z0-9-]*$/i.test(name)) throw new Error(`not an attribute name: ${JSON.stringify(name)}`);
    if (value === true) out += ` ${name}`;
    else if (value !== false && value !== null && value !== undefined) out += ` ${name}="${escapeHtml(value)}"`;
  }
  return new Html(out);
}

export const when = (condition: unknown, value: () => Html): Html | "" => (condition ? value() : "");
