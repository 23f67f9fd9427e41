/**
 * How carriers count an SMS (3GPP TS 23.038 and 23.040), for the template editor and the preview:
 * a message of GSM-7 characters only is billed in septets (the extension table's characters take an
 * escape and count 2), anything else goes as UCS-2, in UTF-16 units. One segment holds 160 septets
 * or 70 units; a longer message is split into segments of 153 or 67, the rest being the
 * concatenation header. Pure (no node imports): the UI imports it.
 */

/** GSM 03.38's default alphabet (without the escape, 0x1B). */
const GSM_BASIC = new Set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà");
/** Its extension table: each is sent as escape + character, two septets. */
const GSM_EXTENSION = new Set("\f^{}\\[~]|€");

/** The provider's limit on a message body, in characters (Twilio's documented maximum). */
export const SMS_MAX_CHARS = 1600;

export type SmsEncoding = "GSM-7" | "UCS-2";

export interface SmsCount {
  /** Characters (code points), as the provider's limit counts them. */
  length: number;
  encoding: SmsEncoding;
  segments: number;
  /** Longer than the provider accepts: it would refuse the message. */
  over_limit: boolean;
}

const PER_SEGMENT: Record<SmsEncoding, { single: number; multi: number }> = {
  "GSM-7": { single: 160, multi: 153 },
  "UCS-2": { single: 70, multi: 67 },
};

/** What one character costs in its encoding: septets for GSM-7, UTF-16 units for UCS-2. */
function cost(char: string, encoding: SmsEncoding): number {
  if (encoding === "UCS-2") return char.length;
  return GSM_EXTENSION.has(char) ? 2 : 1;
}

export function smsEncoding(text: string): SmsEncoding {
  for (const char of text) if (!GSM_BASIC.has(char) && !GSM_EXTENSION.has(char)) return "UCS-2";
  return "GSM-7";
}

/** Counts `text` as carriers bill it. An empty message is one segment (it is still sent). */
export function countSms(text: string): SmsCount {
  const encoding = smsEncoding(text);
  const chars = [...text];
  const costs = chars.map((c) => cost(c, encoding));
  const total = costs.reduce((a, b) => a + b, 0);
  const limits = PER_SEGMENT[encoding];
  return { length: chars.length, encoding, segments: total <= limits.single ? 1 : packed(costs, limits.multi), over_limit: chars.length > SMS_MAX_CHARS };
}

/** Segments of at most `size` each, never splitting a character (an escape pair, a surrogate pair) across two. */
function packed(costs: readonly number[], size: number): number {
  let segments = 1;
  let used = 0;
  for (const c of costs) {
    if (used + c > size) {
      segments++;
      used = 0;
    }
    used += c;
  }
  return segments;
}
