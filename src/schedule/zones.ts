/**
 * Wall-clock time in IANA time zones with the platform's Intl.DateTimeFormat (no tz database of our
 * own): a zone's local date and time of an instant, and the instant of a local date and time.
 */

const formats = new Map<string, Intl.DateTimeFormat>();

function formatFor(zone: string): Intl.DateTimeFormat {
  let format = formats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
      weekday: "short",
    });
    formats.set(zone, format);
  }
  return format;
}

/** A zone Intl knows (IANA names and their aliases, "UTC"). */
export function isTimeZone(zone: string): boolean {
  if (zone === "" || zone.length > 64) return false;
  try {
    formatFor(zone);
    return true;
  } catch {
    return false;
  }
}

export const WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** A local calendar day; `weekday` is the day's own. */
export interface LocalDay {
  year: number;
  month: number;
  day: number;
  weekday: Weekday;
}

export interface LocalTime extends LocalDay {
  /** Minutes since local midnight. */
  minutes: number;
}

/** The local date and time of instant `t` in `zone`. */
export function localTime(t: number, zone: string): LocalTime {
  const parts: Record<string, string> = {};
  for (const p of formatFor(zone).formatToParts(t)) parts[p.type] = p.value;
  const day = { year: Number(parts.year), month: Number(parts.month), day: Number(parts.day) };
  return { ...day, weekday: weekdayOf(day), minutes: Number(parts.hour) * 60 + Number(parts.minute) };
}

function weekdayOf({ year, month, day }: Omit<LocalDay, "weekday">): Weekday {
  return WEEKDAYS[new Date(Date.UTC(year, month - 1, day)).getUTCDay()] ?? "sun";
}

/** The day after (or `n` days from) a local day. */
export function addDays(d: LocalDay, n: number): LocalDay {
  const date = new Date(Date.UTC(d.year, d.month - 1, d.day + n));
  const next = { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate() };
  return { ...next, weekday: weekdayOf(next) };
}

/** How far `zone`'s wall clock is ahead of UTC at instant `t`, in ms. */
function offsetAt(t: number, zone: string): number {
  const l = localTime(t, zone);
  const wall = Date.UTC(l.year, l.month - 1, l.day, 0, l.minutes);
  return wall - (t - (((t % 60_000) + 60_000) % 60_000));
}

/**
 * The instant at which `zone`'s clock shows `minutes` past midnight on `day`. A time that does not
 * exist (skipped by a DST change) is read with the offset before the change, so it lands just after
 * the gap; a time that occurs twice is its first occurrence.
 */
export function instantOf(day: LocalDay, minutes: number, zone: string): number {
  const wall = Date.UTC(day.year, day.month - 1, day.day, 0, minutes);
  const before = offsetAt(wall - 86_400_000 / 2, zone);
  const first = wall - before;
  if (offsetAt(first, zone) === before) return first;
  // The offset changed during the day: the time exists with the new offset, or not at all (a gap).
  const after = offsetAt(first, zone);
  const second = wall - after;
  return offsetAt(second, zone) === after ? second : first;
}
