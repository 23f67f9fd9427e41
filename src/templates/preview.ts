/** Template preview: render a template against a trigger type's example payload, or a given one. */
import { z } from "zod";
import { triggerType, triggerTypeSchema } from "../catalogue/trigger-types.js";
import { ValidationError } from "../errors.js";
import { parseInput } from "../validation.js";
import { type RenderPool, renderForAccount } from "./render-pool.js";
import { LIMITS, TemplateError, templateContext } from "./templates.js";

export const PreviewIn = z.strictObject({
  template: z.string().max(LIMITS.parse),
  trigger_type: triggerTypeSchema,
  /** `{<object key>: …}` as in an ingested event; the type's example when absent. */
  data: z.record(z.string(), z.unknown()).optional(),
  /** "json": a webhook body template (values JSON-escaped, the result must be JSON). */
  kind: z.enum(["message", "json"]).default("message"),
});
export type PreviewIn = z.output<typeof PreviewIn>;
export const PreviewOut = z.object({ output: z.string() });

/** The apptoto_id shown in previews: no instance exists yet. */
export const PREVIEW_ID = "ins_preview";

/**
 * What a preview costs of the account's API rate limit, in calls: a render may hold a render
 * thread for up to its time limit, where an ordinary call takes a fraction of a millisecond.
 */
export const PREVIEW_RATE_COST = 10;

export async function previewTemplate(templates: RenderPool, accountId: string, input: PreviewIn): Promise<z.output<typeof PreviewOut>> {
  const type = triggerType(input.trigger_type);
  const data = input.data ? (parseInput(type.schema, input.data, "data") as Record<string, unknown>) : type.example;
  try {
    const context = templateContext(type.objectKey, data[type.objectKey], PREVIEW_ID);
    return { output: await renderForAccount(templates, accountId, { source: input.template, context, kind: input.kind }) };
  } catch (error) {
    if (error instanceof TemplateError) throw new ValidationError(`template: ${error.message}`);
    throw error;
  }
}
