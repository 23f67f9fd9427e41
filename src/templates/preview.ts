/** Template preview: render a template against a trigger type's example payload, or a given one. */
import { z } from "zod";
import { triggerType, triggerTypeSchema } from "../catalogue/trigger-types.js";
import { ValidationError } from "../errors.js";
import { parseInput } from "../validation.js";
import { type RenderPool, renderForAccount } from "./render-pool.js";
import { countSms } from "./sms-segments.js";
import { LIMITS, TemplateError, templateContext } from "./templates.js";

export const PreviewIn = z.strictObject({
  template: z.string().max(LIMITS.parse),
  trigger_type: triggerTypeSchema,
  /** `{<object key>: …}` as in an ingested event; the type's example when absent. */
  data: z.record(z.string(), z.unknown()).optional(),
  /**
   * "json": a webhook body template (values JSON-escaped, the result must be JSON); "sms": a message
   * rendered as "message", with its length and segments as carriers count them.
   */
  kind: z.enum(["message", "json", "sms"]).default("message"),
});
export type PreviewIn = z.output<typeof PreviewIn>;
export const PreviewOut = z.object({
  output: z.string(),
  sms: z
    .object({
      length: z.number().int().describe("Characters of the message as sent (trimmed), as the provider's limit counts them"),
      encoding: z.enum(["GSM-7", "UCS-2"]),
      segments: z.number().int().describe("Segments a carrier bills: 160 GSM-7 septets or 70 UCS-2 units in one, 153 or 67 each when split"),
      over_limit: z.boolean().describe("Longer than the provider's 1,600 characters: the message would fail"),
    })
    .optional()
    .describe("For kind sms only"),
});

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
    const kind = input.kind === "json" ? "json" : "message";
    const output = await renderForAccount(templates, accountId, { source: input.template, context, kind });
    // The SMS sender sends the body trimmed (deliver/sms.ts): count what it would send.
    return input.kind === "sms" ? { output, sms: countSms(output.trim()) } : { output };
  } catch (error) {
    if (error instanceof TemplateError) throw new ValidationError(`template: ${error.message}`);
    throw error;
  }
}
