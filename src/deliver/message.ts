/** Rendering an sms/email action's templates for one instance: the step both message senders share. */
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
