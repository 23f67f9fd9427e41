import { describe, expect, it } from "vitest";
import { parseInput } from "../validation.js";
import { quietUntil } from "./quiet-hours.js";
import { dueTime, outOfQuietHours, parseOffset, QuietHoursSchema, quietWindow, quietZone, TimingSchema } from "./timing.js";
import { instantOf, localTime } from "./zones.js";

const t = (iso: string) => Date.parse(iso);
const at = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
const timing = (over: Partial<{ at: string | null; offset: string; run_late: boolean }>) =>
  TimingSchema.parse({ at: "event.start_time", offset: "-24h", ...over });

describe("offsets", () => {
  it("parse as signed minutes, hours and days", () => {
    expect(parseOffset("-24h")?.ms).toBe(-86_400_000);
    expect(parseOffset("+2h")?.ms).toBe(7_200_000);
    expect(parseOffset("30m")?.ms).toBe(1_800_000);
    expect(parseOffset("1d")?.ms).toBe(86_400_000);
    expect(parseOffset("2 h")).toBeUndefined();
  });

  it("a bad offset, one beyond 365 days, or a delay not after ingest is a 400 naming the field", () => {
    expect(() => parseInput(TimingSchema, { at: "event.start_time", offset: "24 hours" }, "timing")).toThrow(/^timing\.offset: must be a signed duration/);
    expect(() => parseInput(TimingSchema, { at: "event.start_time", offset: "-366d" }, "timing")).toThrow(/^timing\.offset: must be within 365 days/);
    expect(() => parseInput(TimingSchema, { at: null, offset: "-1h" }, "timing")).toThrow(/^timing\.offset: must be after ingest/);
  });
});

describe("due time", () => {
  const now = t("2026-04-10T12:00:00Z");

  it("is the date field's value plus the offset, with the reason the log shows", () => {
    expect(dueTime(timing({}), t("2026-04-15T12:00:00-07:00"), now)).toEqual({ dueAt: t("2026-04-14T19:00:00Z"), reason: "24 h before event.start_time" });
    expect(dueTime(timing({ offset: "+2h", at: "event.end_time" }), t("2026-04-15T13:00:00Z"), now)).toMatchObject({ reason: "2 h after event.end_time" });
  });

  it("after ingest with at null", () => {
    expect(dueTime(timing({ at: null, offset: "30m" }), undefined, now)).toEqual({ dueAt: now + 1_800_000, reason: "30 min after ingest" });
  });

  it("already past at ingest is skipped, with a reason, unless run_late, which runs at once", () => {
    const base = t("2026-04-11T06:00:00Z");
    expect(dueTime(timing({}), base, now)).toEqual({ skipped: "24 h before event.start_time (2026-04-10T06:00:00.000Z) had passed at ingest" });
    expect(dueTime(timing({ run_late: true }), base, now)).toEqual({
      dueAt: now,
      reason: "ran late: 24 h before event.start_time was 2026-04-10T06:00:00.000Z",
    });
  });

  it("a payload without the date field is skipped, saying so", () => {
    expect(dueTime(timing({}), undefined, now)).toEqual({
      skipped: 'event.start_time is missing from the payload, so "24 h before event.start_time" has no time',
    });
  });
});

describe("time zones", () => {
  it("local time of an instant, across DST", () => {
    expect(localTime(t("2026-03-08T06:59:00Z"), "America/New_York")).toMatchObject({ day: 8, minutes: 1 * 60 + 59 });
    expect(localTime(t("2026-03-08T07:00:00Z"), "America/New_York")).toMatchObject({ day: 8, minutes: 3 * 60 });
  });

  it("the instant of a local time: summer and winter offsets, a skipped time lands after the gap, a repeated one is its first", () => {
    const day = (d: number, m: number) => ({ year: 2026, month: m, day: d, weekday: "sun" as const });
    expect(at(instantOf(day(8, 3), 8 * 60, "America/New_York"))).toBe("2026-03-08T12:00:00.000Z");
    expect(at(instantOf(day(7, 3), 8 * 60, "America/New_York"))).toBe("2026-03-07T13:00:00.000Z");
    expect(at(instantOf(day(1, 11), 8 * 60, "America/New_York"))).toBe("2026-11-01T13:00:00.000Z");
    expect(at(instantOf(day(8, 3), 2 * 60 + 30, "America/New_York"))).toBe("2026-03-08T07:30:00.000Z");
    expect(at(instantOf(day(1, 11), 1 * 60 + 30, "America/New_York"))).toBe("2026-11-01T05:30:00.000Z");
  });

  it("an unknown zone is a 400 naming the field", () => {
    expect(() => parseInput(QuietHoursSchema, { start: "21:00", end: "08:00", time_zone: "Mars/Olympus" }, "quiet_hours")).toThrow(
      /^quiet_hours\.time_zone: unknown time zone "Mars\/Olympus"/,
    );
  });
});

describe("quiet hours", () => {
  const quiet = (over: object = {}) => QuietHoursSchema.parse({ start: "21:00", end: "08:00", ...over });
  const ny = (over: object = {}) => quietWindow(quiet(over), "America/New_York");

  it("do not parse: a bad clock, the same start and end, a day twice", () => {
    expect(() => parseInput(QuietHoursSchema, { start: "9pm", end: "08:00" }, "quiet_hours")).toThrow(/^quiet_hours\.start: must be a time of day/);
    expect(() => parseInput(QuietHoursSchema, { start: "08:00", end: "08:00" }, "quiet_hours")).toThrow(/^quiet_hours\.end: must differ/);
    expect(() => parseInput(QuietHoursSchema, { start: "21:00", end: "08:00", days: ["mon", "mon"] }, "quiet_hours")).toThrow(
      /^quiet_hours\.days: lists a day twice/,
    );
  });

  it("push a due time inside them to their end, in the evening or the morning part, and leave one outside alone", () => {
    // 22:30 and 06:00 New York time (EDT, UTC-4) in June.
    expect(at(quietUntil(t("2026-06-02T02:30:00Z"), ny()))).toBe("2026-06-02T12:00:00.000Z");
    expect(at(quietUntil(t("2026-06-02T10:00:00Z"), ny()))).toBe("2026-06-02T12:00:00.000Z");
    expect(quietUntil(t("2026-06-02T16:00:00Z"), ny())).toBeUndefined();
    expect(outOfQuietHours(t("2026-06-02T02:30:00Z"), ny())).toEqual({ dueAt: t("2026-06-02T12:00:00Z"), quiet: "quiet hours until 08:00 America/New_York" });
  });

  it("end at 08:00 local on the night DST begins and ends", () => {
    expect(at(quietUntil(t("2026-03-08T04:00:00Z"), ny()))).toBe("2026-03-08T12:00:00.000Z");
    expect(at(quietUntil(t("2026-11-01T04:00:00Z"), ny()))).toBe("2026-11-01T13:00:00.000Z");
  });

  it("apply on the days they start on: Friday night's run into Saturday morning", () => {
    const weekdays = ny({ days: ["mon", "tue", "wed", "thu", "fri"] });
    // Saturday 2026-06-06 06:00 EDT: inside Friday's window.
    expect(at(quietUntil(t("2026-06-06T10:00:00Z"), weekdays))).toBe("2026-06-06T12:00:00.000Z");
    // Saturday 22:00 EDT: Saturday has none.
    expect(quietUntil(t("2026-06-07T02:00:00Z"), weekdays)).toBeUndefined();
  });

  it("a window within one day", () => {
    const lunch = quietWindow(quiet({ start: "12:00", end: "13:30" }), "UTC");
    expect(at(quietUntil(t("2026-06-02T12:10:00Z"), lunch))).toBe("2026-06-02T13:30:00.000Z");
    expect(quietUntil(t("2026-06-02T13:30:00Z"), lunch)).toBeUndefined();
  });

  it("are kept in the payload's zone when it names one, else the action's, else the account's", () => {
    const q = quiet({ time_zone: "Europe/Paris", time_zone_field: "booking_request.timezone" });
    expect(quietZone(q, { booking_request: { timezone: "America/Chicago" } }, "UTC")).toBe("America/Chicago");
    expect(quietZone(q, { booking_request: { timezone: "Central" } }, "UTC")).toBe("Europe/Paris");
    expect(quietZone(quiet(), {}, "Asia/Tokyo")).toBe("Asia/Tokyo");
  });
});
