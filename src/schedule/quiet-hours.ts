/**
 * Quiet hours: a daily window (`21:00`–`08:00`, across midnight when the end is earlier than the
 * start) on some days, in a time zone. `days` are the days a window *starts* on: Friday's
 * 21:00–08:00 ends on Saturday morning. An instant inside a window is moved to the window's end.
 */
import { addDays, instantOf, type LocalDay, localTime, type Weekday } from "./zones.js";

export interface QuietWindow {
  /** Minutes past local midnight. */
  start: number;
  end: number;
  /** null: every day. */
  days: readonly Weekday[] | null;
  zone: string;
}

/** "08:30" → 510. */
export function minutesOf(clock: string): number {
  const [h = 0, m = 0] = clock.split(":").map(Number);
  return h * 60 + m;
}

export function clockOf(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;
}

const startsOn = (w: QuietWindow, day: LocalDay) => w.days === null || w.days.includes(day.weekday);

/** When the quiet window holding instant `t` ends; undefined when `t` is outside quiet hours. */
export function quietUntil(t: number, w: QuietWindow): number | undefined {
  const local = localTime(t, w.zone);
  const m = local.minutes;
  if (w.start < w.end) {
    return m >= w.start && m < w.end && startsOn(w, local) ? instantOf(local, w.end, w.zone) : undefined;
  }
  // Across midnight: the evening part of today's window, or the morning part of yesterday's.
  if (m >= w.start && startsOn(w, local)) return instantOf(addDays(local, 1), w.end, w.zone);
  if (m < w.end && startsOn(w, addDays(local, -1))) return instantOf(local, w.end, w.zone);
  return undefined;
}
