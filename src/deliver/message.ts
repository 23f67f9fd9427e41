/** Rendering an sms/email action's recipients and templates for one instance: the step both message senders share. */
import { isTemplated, type RecipientKind, renderedRecipient } from "../actions/recipients.js";
import { iso } from "../iso.js";
import type { ClaimedInstance } from "../queue/claim.js";
import type { RenderPool } from "../templates/render-pool.js";
import { TemplateError, templateContext } from "../templates/templates.js";

export type Rendered<K extends string> = { ok: true; parts: Partial<Record<K, string>> } | { ok: false; error: string };

/**
 * Renders each named template against the instance's object, on a render thread in its action's
 * turn (a slow template delays its own action's messages, not ingest or other actions); a template
 * error fails the attempt permanently.
 */
export async function renderMessage<K extends string>(pool: RenderPool, instance: ClaimedInstance, templates: Record<K, string>): Promise<Rendered<K>> {
  const context = templateContext(instance.objectKey, JSON.parse(instance.object), instance.id);
  const parts: Partial<Record<K, string>> = {};
  for (const [name, source] of Object.entries(templates) as [K, string][]) {
    try {
      parts[name] = await pool.render(instance.actionId, { source, context, kind: "message" });
    } catch (error) {
      if (error instanceof TemplateError) return { ok: false, error: `${name} template: ${error.message}` };
      throw error;
    }
  }
  return { ok: true, parts };
}

/** The recipients as sent (a template rendered), or why they cannot be: `to` then shows what was rendered. */
export type Recipients = { ok: true; to: string[] } | { ok: false; to: string[]; error: string };

/**
 * Renders the recipients written as templates (`to`, or `to[1]` in a list) against the instance's
 * object; fixed ones stay as saved. A recipient that renders empty or invalid fails the attempt
 * permanently: the same event would render it the same way again.
 */
export async function renderRecipients(pool: RenderPool, instance: ClaimedInstance, kind: RecipientKind, to: string | readonly string[]): Promise<Recipients> {
  const list = typeof to === "string" ? [to] : [...to];
  const name = (i: number) => (typeof to === "string" ? "to" : `to[${i}]`);
  const templates: Record<string, string> = {};
  list.forEach((source, i) => {
    if (isTemplated(source)) templates[name(i)] = source;
  });
  if (Object.keys(templates).length === 0) return { ok: true, to: list };
  const rendered = await renderMessage(pool, instance, templates);
  if (!rendered.ok) return { ok: false, to: list, error: rendered.error };
  const out: string[] = [];
  for (const [i, source] of list.entries()) {
    const text = rendered.parts[name(i)];
    if (text === undefined) {
      out.push(source);
      continue;
    }
    const recipient = renderedRecipient(kind, source, text);
    if ("problem" in recipient) return { ok: false, to: [...out, text, ...list.slice(i + 1)], error: recipient.problem.replace(/^to\b/, name(i)) };
    out.push(recipient.value);
  }
  return { ok: true, to: out };
}

/**
 * The account's stop list as a send needs it: which of these recipients (a phone in E.164, an email
 * lowercased) are on it, with when each was added. Declared here, where it is used.
 */
export type StopListLookup = (accountId: string, kind: RecipientKind, values: readonly string[]) => Promise<ReadonlyMap<string, number>>;

/** Why a message to `recipient` was not sent, for the log. */
export const onStopList = (recipient: string, since: number): string => `${recipient} is on the stop list (since ${iso(since)})`;
