/**
 * When an instance is due: at once, a fixed delay after ingest, or an offset from a date in its
 * payload (`timing`); then out of its action's quiet hours. The schemas of both settings, and the
 * reasons the log shows, live here with the rules they describe.
 */
import { z } from "zod";
import { valueAt } from "../catalogue/fields.js";
import { clockOf, minutesOf, type QuietWindow, quietUntil } from "./quiet-hours.js";
import { isTimeZone, WEEKDAYS } from "./zones.js";

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const UNIT_WORD = { m: "min", h: "h", d: "d" } as const;
const OFFSET = /^([+-]?)(\d{1,6})(m|h|d)$/;
const MAX_OFFSET_MS = 365 * UNIT_MS.d;

interface Offset {
  ms: number;
  /** "24 h", "90 min". */
  words: string;
}

/** "-24h" → −86,400,000 ms; undefined when it does not parse. */
export function parseOffset(text: string): Offset | undefined {
  const match = OFFSET.exec(text);
  if (!match) return undefined;
  const [, sign, amount = "0", unit = "m"] = match;
  const size = Number(amount);
  const u = unit as keyof typeof UNIT_MS;
  return { ms: (sign === "-" ? -1 : 1) * size * UNIT_MS[u], words: `${size} ${UNIT_WORD[u]}` };
}

export const TimingSchema = z
  .strictObject({
    at: z.string().min(1).max(200).nullable().default(null).describe("A date field of the trigger type (`event.start_time`); null: after ingest"),
    offset: z
      .string()
      .regex(OFFSET, 'must be a signed duration in minutes, hours or days, e.g. "-24h", "+2h", "30m", "1d"')
      .refine((o) => Math.abs(parseOffset(o)?.ms ?? 0) <= MAX_OFFSET_MS, "must be within 365 days either way")
      .describe("Signed duration from `at`: ^[+-]?\\d+(m|h|d)$"),
    run_late: z.boolean().default(false).describe("When the due time is already past at ingest: run at once (true) or skip the instance (false)"),
  })
  .superRefine((t, ctx) => {
    if (t.at === null && (parseOffset(t.offset)?.ms ?? 0) <= 0)
      ctx.addIssue({ code: "custom", path: ["offset"], message: "must be after ingest (greater than 0) when at is null" });
  });
export type Timing = z.output<typeof TimingSchema>;

const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time of day "HH:MM" (00:00-23:59)');
export const timeZone = z
  .string()
  .refine(isTimeZone, { error: (issue) => `unknown time zone ${JSON.stringify(issue.input)}; use an IANA name such as "America/New_York"` });

export const QuietHoursSchema = z
  .strictObject({
    start: clock,
    end: clock,
    days: z
      .array(z.enum(WEEKDAYS))
      .min(1)
      .max(7)
      .refine((d) => new Set(d).size === d.length, "lists a day twice")
      .nullable()
      .default(null)
      .describe("Days the quiet hours start on; null: every day"),
    time_zone: timeZone.nullable().default(null),
    time_zone_field: z
      .string()
      .min(1)
      .max(200)
      .nullable()
      .default(null)
      .describe("A text field of the payload holding an IANA zone (`booking_request.timezone`)"),
  })
  .refine((q) => q.start !== q.end, { path: ["end"], message: "must differ from start" });
export type QuietHours = z.output<typeof QuietHoursSchema>;

/** "24 h before event.start_time", "2 h after event.end_time", "30 min after ingest". */
export function describeTiming(timing: Timing): string {
  const offset = parseOffset(timing.offset);
  if (!offset) return timing.offset;
  const side = offset.ms < 0 ? "before" : "after";
  return offset.ms === 0 ? `at ${timing.at}` : `${offset.words} ${side} ${timing.at ?? "ingest"}`;
}

/** When `timing` falls due, given the instant its `at` field holds now (undefined: not a date, or missing). */
export type Due = { dueAt: number; reason: string | null } | { skipped: string };

export function dueTime(timing: Timing | null, base: number | undefined, now: number): Due {
  if (!timing) return { dueAt: now, reason: null };
  const offset = parseOffset(timing.offset)?.ms ?? 0;
  const described = describeTiming(timing);
  if (timing.at === null) return { dueAt: now + offset, reason: described };
  if (base === undefined) return { skipped: `${timing.at} is missing from the payload, so "${described}" has no time` };
  const dueAt = base + offset;
  if (dueAt >= now) return { dueAt, reason: described };
  const was = new Date(dueAt).toISOString();
  return timing.run_late ? { dueAt: now, reason: `ran late: ${described} was ${was}` } : { skipped: `${described} (${was}) had passed at ingest` };
}

/** The instant a date field holds in `data`; undefined when it is missing or not a date. */
export function instantAt(data: unknown, path: string): number | undefined {
  const value = valueAt(data, path);
  if (typeof value !== "string") return undefined;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}

/** The zone quiet hours are kept in: the payload's field when it names a zone, else the action's, else the account's. */
export function quietZone(quiet: QuietHours, data: unknown, accountZone: string): string {
  const fromPayload = quiet.time_zone_field === null ? undefined : valueAt(data, quiet.time_zone_field);
  if (typeof fromPayload === "string" && isTimeZone(fromPayload)) return fromPayload;
  return quiet.time_zone ?? accountZone;
}

export function quietWindow(quiet: QuietHours, zone: string): QuietWindow {
  return { start: minutesOf(quiet.start), end: minutesOf(quiet.end), days: quiet.days, zone };
}

/** `dueAt`, or the end of the quiet hours it falls in, with the reason the log shows for the wait. */
export function outOfQuietHours(dueAt: number, window: QuietWindow | undefined): { dueAt: number; quiet: string | undefined } {
  const until = window && quietUntil(dueAt, window);
  if (!window || until === undefined || until <= dueAt) return { dueAt, quiet: undefined };
  return { dueAt: until, quiet: `quiet hours until ${clockOf(window.end)} ${window.zone}` };
}
