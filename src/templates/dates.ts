/**
 * Date helpers for message templates, computed in the timezone offset the date was written in: an
 * appointment at 2026-04-15T12:00:00-07:00 is "12:00pm", wherever Hookline runs.
 */

/** A moment and the offset (minutes east of UTC) it is to be shown in. */
export interface LocalTime {
  epochMs: number;
  offsetMinutes: number;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;

/** Parses an ISO 8601 date or date-time; a date without offset is read as UTC. Undefined if not a date. */
export function parseLocal(value: unknown): LocalTime | undefined {
  if (typeof value !== "string") return undefined;
  const m = ISO.exec(value.trim());
  if (!m) return undefined;
  const [, y, mo, d, h = "0", mi = "0", s = "0", frac = "", zone = "Z"] = m;
  let offsetMinutes = 0;
  if (zone.toUpperCase() !== "Z") {
    const sign = zone.startsWith("-") ? -1 : 1;
    const digits = zone.slice(1).replace(":", "");
    offsetMinutes = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2)));
  }
  const wall = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), Math.round(Number(frac || 0) * 1000));
  if (Number.isNaN(wall)) return undefined;
  return { epochMs: wall - offsetMinutes * 60_000, offsetMinutes };
}

/** The wall-clock fields of a local time. */
function wall(t: LocalTime) {
  const d = new Date(t.epochMs + t.offsetMinutes * 60_000);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth(),
    day: d.getUTCDate(),
    weekday: d.getUTCDay(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
  };
}

const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

function ordinal(n: number): string {
  const tens = n % 100;
  if (tens >= 11 && tens <= 13) return `${n}th`;
  return `${n}${["th", "st", "nd", "rd"][n % 10] ?? "th"}`;
}

/** "Tuesday, March 8th" */
export function datePhrase(t: LocalTime): string {
  const w = wall(t);
  return `${WEEKDAYS[w.weekday]}, ${MONTHS[w.month]} ${ordinal(w.day)}`;
}

/** "Tuesday, March 8th, 2026" */
export function dateWithYear(t: LocalTime): string {
  return `${datePhrase(t)}, ${wall(t).year}`;
}

/** "8:00am", "12:30pm" */
export function timePhrase(t: LocalTime): string {
  const w = wall(t);
  const hour12 = w.hour % 12 === 0 ? 12 : w.hour % 12;
  return `${hour12}:${String(w.minute).padStart(2, "0")}${w.hour < 12 ? "am" : "pm"}`;
}

/** "Tuesday, March 8th at 8:00am" */
export function dayAndTimePhrase(t: LocalTime): string {
  return `${datePhrase(t)} at ${timePhrase(t)}`;
}

/** ISO 8601 in the time's own offset: 2026-04-15T11:45:00-07:00. */
export function formatIso(t: LocalTime): string {
  const w = wall(t);
  const p = (n: number) => String(n).padStart(2, "0");
  const sign = t.offsetMinutes < 0 ? "-" : "+";
  const abs = Math.abs(t.offsetMinutes);
  return `${w.year}-${p(w.month + 1)}-${p(w.day)}T${p(w.hour)}:${p(w.minute)}:${p(w.second)}${sign}${p(Math.floor(abs / 60))}:${p(abs % 60)}`;
}

export function addMinutes(t: LocalTime, minutes: number): LocalTime {
  return { epochMs: t.epochMs + minutes * 60_000, offsetMinutes: t.offsetMinutes };
}
