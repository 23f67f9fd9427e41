/** Template preview: render a template against a trigger type's example payload, or a given one. */
import { z } from "zod";
import { triggerType, triggerTypeSchema } from "../catalogue/trigger-types.js";
import { ValidationError } from "../errors.js";
import { parseInput } from "../validation.js";
import { LIMITS, render, TemplateError, templateContext } from "./templates.js";

export const PreviewIn = z.strictObject({
  template: z.string().max(LIMITS.parse),
  trigger_type: triggerTypeSchema,
  /** `{<object key>: …}` as in an ingested event; the type's example when absent. */
  data: z.record(z.string(), z.unknown()).optional(),
});
export type PreviewIn = z.output<typeof PreviewIn>;
export const PreviewOut = z.object({ output: z.string() });

/** The apptoto_id shown in previews: no instance exists yet. */
export const PREVIEW_ID = "ins_preview";

export async function previewTemplate(input: PreviewIn): Promise<z.output<typeof PreviewOut>> {
  const type = triggerType(input.trigger_type);
  const data = input.data ? (parseInput(type.schema, input.data, "data") as Record<string, unknown>) : type.example;
  try {
    return { output: await render(input.template, templateContext(type.objectKey, data[type.objectKey], PREVIEW_ID)) };
  } catch (error) {
    if (error instanceof TemplateError) throw new ValidationError(`template: ${error.message}`);
    throw error;
  }
}
