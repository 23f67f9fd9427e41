import { describe, expect, it } from "vitest";
import { triggerType } from "../catalogue/trigger-types.js";
import { render, renderJsonBody, TemplateError, templateContext, templateProblem } from "./templates.js";

const participant = triggerType("participant.confirmed").example.participant as Record<string, unknown>;
const ctx = (objectKey: string, object: unknown) => templateContext(objectKey, object, "ins_test");
const eventAt = (start_time: string, extra: Record<string, unknown> = {}) => ctx("event", { id: 1, start_time, ...extra });

describe("message templates", () => {
  it("renders the trigger's object under its key, with conditionals", async () => {
    const out = await render(
      '{{ participant.name }} {% if participant.state == "confirmed" %}confirmed{% else %}did not confirm{% endif %}',
      ctx("participant", participant),
    );
    expect(out).toBe("Jane Doe confirmed");
  });

  it("gives a participant's event as `event` and a message's participant as `participant`", async () => {
    expect(await render("{{ event.title }} / {{ participant.event.title }}", ctx("participant", participant))).toBe("Dental cleaning / Dental cleaning");
    const message = triggerType("message.failed").example.message;
    expect(await render("{{ participant.name }} via {{ message.comm_type }}", ctx("message", message))).toBe("Jane Doe via sms");
  });

  it("reaches nested fields of a booking request", async () => {
    const br = triggerType("booking_request.completed").example.booking_request;
    expect(await render("{{ booking_request.contact_info.email }}", ctx("booking_request", br))).toBe("jane.doe@example.com");
  });

  it("renders missing fields as empty instead of failing", async () => {
    expect(await render("[{{ participant.nickname }}][{{ event.location }}][{{ nothing.at.all }}]", ctx("participant", { id: 1 }))).toBe("[][][]");
    expect(await render("[{{ participant.nickname | date_phrase }}]", ctx("participant", { id: 1 }))).toBe("[]");
  });

  describe("date helpers, in the date's own offset", () => {
    it.each([
      ["2016-03-08T08:00:00-08:00", "Tuesday, March 8th", "8:00am", "Tuesday, March 8th, 2016", "Tuesday, March 8th at 8:00am"],
      ["2026-04-15T12:00:00-07:00", "Wednesday, April 15th", "12:00pm", "Wednesday, April 15th, 2026", "Wednesday, April 15th at 12:00pm"],
      // Late evening west of UTC is already the next day in UTC: the phrase keeps the local day.
      ["2026-01-01T23:30:00-05:00", "Thursday, January 1st", "11:30pm", "Thursday, January 1st, 2026", "Thursday, January 1st at 11:30pm"],
      ["2026-07-02T00:05:00+09:30", "Thursday, July 2nd", "12:05am", "Thursday, July 2nd, 2026", "Thursday, July 2nd at 12:05am"],
      ["2026-05-23T15:45:00Z", "Saturday, May 23rd", "3:45pm", "Saturday, May 23rd, 2026", "Saturday, May 23rd at 3:45pm"],
      ["2026-12-11T09:00:00+0100", "Friday, December 11th", "9:00am", "Friday, December 11th, 2026", "Friday, December 11th at 9:00am"],
    ])("%s", async (start, datePhrase, timePhrase, dateWithYear, dayAndTime) => {
      const c = eventAt(start);
      expect(await render("{{ event.start_time | date_phrase }}|{{ event.date_phrase }}", c)).toBe(`${datePhrase}|${datePhrase}`);
      expect(await render("{{ event.start_time | time_phrase }}|{{ event.time_phrase }}", c)).toBe(`${timePhrase}|${timePhrase}`);
      expect(await render("{{ event.start_time | date_with_year }}|{{ event.date_with_year }}", c)).toBe(`${dateWithYear}|${dateWithYear}`);
      expect(await render("{{ event.start_time | day_and_time_phrase }}|{{ event.day_and_time_phrase }}", c)).toBe(`${dayAndTime}|${dayAndTime}`);
    });

    it("writes ordinals correctly", async () => {
      const days = await Promise.all(
        [1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 31].map((d) =>
          render("{{ event.start_time | date_phrase }}", eventAt(`2026-03-${String(d).padStart(2, "0")}T10:00:00Z`)),
        ),
      );
      expect(days.map((d) => d.split(" ").pop())).toEqual(["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd", "31st"]);
    });

    it("formats with strftime in the date's offset (the date filter)", async () => {
      expect(await render('{{ event.start_time | date: "%A %B %-d, %-I:%M %p %z" }}', eventAt("2026-04-15T12:00:00-07:00"))).toBe(
        "Wednesday April 15, 12:00 PM -0700",
      );
    });

    it("adds minutes in the same offset, across midnight, for reminders", async () => {
      const c = eventAt("2026-04-15T00:10:00-07:00");
      expect(await render("{{ event.start_time | add_minutes: -15 }}", c)).toBe("2026-04-14T23:55:00-07:00");
      expect(await render("{{ event.start_time | add_minutes: -15 | time_phrase }}", c)).toBe("11:55pm");
      expect(await render("{{ event.start_time | add_minutes: 90 | day_and_time_phrase }}", c)).toBe("Wednesday, April 15th at 1:40am");
    });

    it("an all-day event has a date but no time of day", async () => {
      const c = eventAt("2026-04-15T00:00:00-07:00", { all_day: true });
      expect(await render("{{ event.date_phrase }}|{{ event.time_phrase }}|{{ event.day_and_time_phrase }}", c)).toBe(
        "Wednesday, April 15th|all day|Wednesday, April 15th (all day)",
      );
      expect(await render("{{ event.date_phrase }}", eventAt("2026-04-15", { all_day: true }))).toBe("Wednesday, April 15th");
    });

    it("the participant's event and the booking request get helper fields too", async () => {
      expect(await render("{{ participant.event.time_phrase }} {{ event.date_phrase }}", ctx("participant", participant))).toBe(
        "12:00pm Wednesday, April 15th",
      );
      const br = triggerType("booking_request.completed").example.booking_request;
      expect(await render("{{ booking_request.day_and_time_phrase }}", ctx("booking_request", br))).toBe("Wednesday, April 15th at 12:00pm");
    });

    it("leaves values that are not dates alone", async () => {
      expect(await render('{{ "soon" | date_phrase }} {{ 5 | add_minutes: 3 }}', {})).toBe("soon 5");
    });
  });

  describe("limits and sandbox", () => {
    it("stops a template that loops (practically) forever", async () => {
      await expect(render("{% for i in (1..100000000) %}{% for j in (1..100000000) %}x{% endfor %}{% endfor %}", {})).rejects.toThrow(TemplateError);
    });

    it("stops a template that explodes in size", async () => {
      const bomb = '{% assign s = "xxxxxxxxxx" %}{% for i in (1..40) %}{% assign s = s | append: s %}{% endfor %}{{ s }}';
      await expect(render(bomb, {})).rejects.toThrow(/limit/);
    });

    it("caps the rendered output", async () => {
      await expect(
        render('{% for i in (1..2000) %}{{ "0123456789012345678901234567890123456789012345678901234567890123456789" }}{% endfor %}', {}),
      ).rejects.toThrow(/rendered output is \d+ characters; the limit is 100000/);
    });

    it("refuses file access", () => {
      expect(templateProblem('{% include "/etc/passwd" %}')).toMatch(/include %\} is not available/);
      expect(templateProblem('{% render "secrets" %}')).toMatch(/render %\} is not available/);
      expect(templateProblem('{% layout "x" %}')).toMatch(/layout %\} is not available/);
    });

    it("does not walk prototypes", async () => {
      expect(await render("[{{ participant.constructor }}][{{ participant.__proto__ }}][{{ participant.toString }}]", ctx("participant", participant))).toBe(
        "[][][]",
      );
    });
  });

  describe("syntax errors name line and column", () => {
    it.each([
      ["{{ participant.name ", /^line 1, column 1: /],
      ["Hello\n{% if %}x{% endif %}", /^line 2, column 6: invalid value expression/],
      ["{{ participant.name | no_such_filter }}", /^line 1, column 1: undefined filter: no_such_filter/],
      ["{% for x in y %}never closed", /^line 1, column 1: tag .*for.* not closed/],
    ])("%j", (source, message) => {
      expect(templateProblem(source)).toMatch(message);
    });

    it("accepts a good template", () => {
      expect(templateProblem("Hi {{ participant.name | upcase }}")).toBeUndefined();
    });
  });
});

describe("JSON body templates", () => {
  const injection = '", "admin": true, "x": "';

  it("keep a value holding quotes inside its string: it cannot add a key", async () => {
    const body = await renderJsonBody('{"name": "{{ participant.name }}"}', ctx("participant", { ...participant, name: injection }));
    expect(JSON.parse(body)).toEqual({ name: injection });
  });

  it.each([
    ['{"name": "{{ participant.name | raw }}"}'],
    ['{"name": "{{ participant.name | upcase | raw }}"}'],
    ['{% assign n = participant.name | raw %}{"name": "{{ n }}"}'],
  ])("refuse the raw filter, which would turn the escaping off: %s", (source) => {
    expect(templateProblem(source, "json")).toMatch(/^line 1, column \d+: the raw filter is not available in a webhook body/);
  });

  it("leave raw to message templates, which escape nothing", async () => {
    expect(templateProblem("{{ participant.name | raw }}")).toBeUndefined();
    expect(await render("{{ participant.name | raw }}", ctx("participant", { name: injection }))).toBe(injection);
  });
});
