/**
 * Phone numbers to E.164 (+<country><number>, at most 15 digits), as SMS providers require.
 * A number with `+` or an `00` international prefix keeps its country; a number without one is read
 * as a North American (NANP, +1) number, ten digits or eleven starting with 1. Anything else is
 * refused: guessing another country's numbering plan would text a stranger.
 */
export function toE164(raw: string): string | undefined {
  const trimmed = raw.trim();
  if (!/^\+?[\d\s().-]+$/.test(trimmed)) return undefined;
  let digits = trimmed.replace(/\D/g, "");
  if (!trimmed.startsWith("+")) {
    if (digits.startsWith("00")) digits = digits.slice(2);
    else if (/^[2-9]\d{9}$/.test(digits)) digits = `1${digits}`;
    else if (!/^1[2-9]\d{9}$/.test(digits)) return undefined;
  }
  if (!/^[1-9]\d{7,14}$/.test(digits)) return undefined;
  return `+${digits}`;
}
