/**
 * An sms or email action's recipient (`to`): a fixed phone or address, or a Liquid template taking
 * it from the payload (`{{ participant.phone }}`). What a rendered recipient must be is decided
 * here, for the save-time check against the example payload and for the send alike.
 */
import { emailAddress } from "../validation.js";
import { toE164 } from "./phone.js";

export type RecipientKind = "phone" | "email";

/** A recipient written as a template: it renders per event. */
export const isTemplated = (to: string): boolean => /\{\{|\{%/.test(to);

/** `{{ a.b.c }}` (with any filters): the one field a template reads, to name it when it renders empty. */
const ONE_FIELD = /^\s*\{\{-?\s*([\w.[\]]+)\s*(\|[^}]*)?-?\}\}\s*$/;

const email = emailAddress();

/**
 * A rendered recipient as the provider takes it (a phone in E.164, an address trimmed), or the
 * problem, in words that say which field was at fault.
 */
export function renderedRecipient(kind: RecipientKind, source: string, rendered: string): { value: string } | { problem: string } {
  const text = rendered.trim();
  if (text === "") {
    const field = ONE_FIELD.exec(source)?.[1];
    return { problem: field ? `to rendered empty: ${field} is missing` : `to rendered empty (${source.trim()})` };
  }
  if (kind === "phone") {
    const phone = toE164(text);
    return phone ? { value: phone } : { problem: `to rendered ${JSON.stringify(text)}, which is not a phone number (+<country code><number>)` };
  }
  return email.safeParse(text).success ? { value: text } : { problem: `to rendered ${JSON.stringify(text)}, which is not an email address` };
}
