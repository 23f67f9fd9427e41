/**
 * The action form's timing (at once, after a delay, or before / after a date field of the trigger
 * type, with "run late") and, for SMS and email, quiet hours (start, end, days, and the zone: the
 * account's, a fixed one, or one read from the payload).
 */
import { html, nothing, render } from "lit-html";
import { live } from "lit-html/directives/live.js";
import type { QuietHours, Timing, TriggerType, Weekday } from "./types.js";

type Unit = "m" | "h" | "d";
const UNITS: [Unit, string][] = [
  ["m", "minutes"],
  ["h", "hours"],
  ["d", "days"],
];
const DAYS: [Weekday, string][] = [
  ["mon", "Mon"],
  ["tue", "Tue"],
  ["wed", "Wed"],
  ["thu", "Thu"],
  ["fri", "Fri"],
  ["sat", "Sat"],
  ["sun", "Sun"],
];
/** The server's bound on an offset: 365 days either way. */
const MAX_MINUTES = 365 * 24 * 60;
const MINUTES: Record<Unit, number> = { m: 1, h: 60, d: 24 * 60 };

interface TimingDraft {
  when: "now" | "delay" | "relative";
  amount: string;
  unit: Unit;
  direction: "before" | "after";
  at: string;
  runLate: boolean;
}
interface QuietDraft {
  on: boolean;
  start: string;
  end: string;
  days: Set<Weekday>;
  zone: "account" | "fixed" | "field";
  timeZone: string;
  timeZoneField: string;
}

type Read<T> = { value: T } | { problem: string; field: string };

function timingDraft(type: TriggerType, timing: Timing | null | undefined): TimingDraft {
  const dates = type.fields.filter((f) => f.kind === "date");
  const draft: TimingDraft = { when: "now", amount: "24", unit: "h", direction: "before", at: dates[0]?.path ?? "", runLate: false };
  const offset = timing ? /^([+-]?)(\d+)(m|h|d)$/.exec(timing.offset) : null;
  if (!timing || !offset) return draft;
  return {
    when: timing.at === null ? "delay" : "relative",
    amount: offset[2] ?? "",
    unit: offset[3] as Unit,
    direction: offset[1] === "-" ? "before" : "after",
    at: timing.at ?? draft.at,
    runLate: timing.run_late,
  };
}

function readTiming(draft: TimingDraft): Read<Timing | null> {
  if (draft.when === "now") return { value: null };
  const amount = Number(draft.amount);
  if (!/^\d+$/.test(draft.amount.trim()) || amount * MINUTES[draft.unit] > MAX_MINUTES) {
    return { problem: "the amount is a whole number, at most 365 days", field: "timing" };
  }
  if (draft.when === "delay") {
    if (amount === 0) return { problem: "a delay is more than 0", field: "timing" };
    return { value: { at: null, offset: `${amount}${draft.unit}`, run_late: false } };
  }
  if (!draft.at) return { problem: "this trigger type has no date field to run relative to", field: "timing" };
  return { value: { at: draft.at, offset: `${draft.direction === "before" ? "-" : "+"}${amount}${draft.unit}`, run_late: draft.runLate } };
}

function quietDraft(quiet: QuietHours | null | undefined): QuietDraft {
  return {
    on: Boolean(quiet),
    start: quiet?.start ?? "21:00",
    end: quiet?.end ?? "08:00",
    days: new Set(quiet?.days ?? DAYS.map(([d]) => d)),
    zone: quiet?.time_zone_field ? "field" : quiet?.time_zone ? "fixed" : "account",
    timeZone: quiet?.time_zone ?? "",
    timeZoneField: quiet?.time_zone_field ?? "",
  };
}

function readQuiet(draft: QuietDraft): Read<QuietHours | null> {
  if (!draft.on) return { value: null };
  if (!/^\d\d:\d\d$/.test(draft.start) || !/^\d\d:\d\d$/.test(draft.end)) return { problem: "quiet hours need a start and an end time", field: "quiet_hours" };
  if (draft.days.size === 0) return { problem: "quiet hours need at least one day", field: "quiet_hours" };
  const zone = draft.timeZone.trim();
  if (draft.zone === "fixed" && !zone) return { problem: "name the time zone (America/New_York)", field: "quiet_hours" };
  if (draft.zone === "field" && !draft.timeZoneField) return { problem: "pick the payload field that holds the time zone", field: "quiet_hours" };
  return {
    value: {
      start: draft.start,
      end: draft.end,
      // Every day is null: the server's "all days".
      days: draft.days.size === DAYS.length ? null : DAYS.map(([d]) => d).filter((d) => draft.days.has(d)),
      time_zone: draft.zone === "account" || !zone ? null : zone,
      time_zone_field: draft.zone === "field" ? draft.timeZoneField : null,
    },
  };
}

/** IANA zone names the browser knows, offered as suggestions (the server checks the name). */
const zoneNames = () => (typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : []);

export interface TimingForm {
  read(): Read<{ timing: Timing | null; quiet_hours: QuietHours | null }>;
  /** Quiet hours apply to messages: shown for SMS and email only. */
  setMessages(on: boolean): void;
}

export function timingForm(container: HTMLElement, type: TriggerType, timing: Timing | null | undefined, quiet: QuietHours | null | undefined): TimingForm {
  const t = timingDraft(type, timing);
  const q = quietDraft(quiet);
  let messages = false;
  const dates = type.fields.filter((f) => f.kind === "date");
  const texts = type.fields.filter((f) => f.kind === "text");
  const update = () => render(view(), container);
  const set =
    <D, K extends keyof D>(draft: D, key: K, read: (el: HTMLInputElement) => D[K]) =>
    (e: Event) => {
      draft[key] = read(e.target as HTMLInputElement);
      update();
    };
  const text = (el: HTMLInputElement) => el.value;

  const amountAndUnit = () =>
    html`<input class="amount" aria-label="Amount" inputmode="numeric" .value=${live(t.amount)} @input=${set(t, "amount", text)}>
      <select aria-label="Unit" @change=${set(t, "unit", (el) => el.value as Unit)}>${UNITS.map(([u, label]) => html`<option value=${u} ?selected=${u === t.unit}>${label}</option>`)}</select>`;

  const choice = (when: TimingDraft["when"], label: string) =>
    html`<label class="switch"><input type="radio" name="when" value=${when} .checked=${live(t.when === when)} @change=${() => {
      t.when = when;
      update();
    }}><span>${label}</span></label>`;

  function timingView() {
    return html`<fieldset class="timing" aria-describedby="e-timing">
      <legend>When to run</legend>
      <div class="choices">${choice("now", "At once")}${choice("delay", "After a delay")}${dates.length > 0 ? choice("relative", "Relative to a date in the payload") : nothing}</div>
      ${t.when === "delay" ? html`<div class="row">${amountAndUnit()}<span>after the event arrives</span></div>` : nothing}
      ${
        t.when === "relative"
          ? html`<div class="row">${amountAndUnit()}
              <select aria-label="Before or after" @change=${set(t, "direction", (el) => el.value as TimingDraft["direction"])}>
                <option value="before" ?selected=${t.direction === "before"}>before</option><option value="after" ?selected=${t.direction === "after"}>after</option></select>
              <select aria-label="Date field" @change=${set(t, "at", text)}>${dates.map((f) => html`<option value=${f.path} ?selected=${f.path === t.at}>${f.path}</option>`)}</select></div>
            <label class="switch"><input type="checkbox" .checked=${live(t.runLate)} @change=${set(t, "runLate", (el) => el.checked)}><span>Run late</span></label>
            <p class="help">When that time has already passed as the event arrives: run at once with "run late", else skip it (the log says why).</p>`
          : nothing
      }
      <p class="field-error" id="e-timing" data-error-for="timing" hidden></p>
    </fieldset>`;
  }

  function quietView() {
    if (!messages) return nothing;
    return html`<fieldset class="quiet" aria-describedby="e-quiet_hours">
      <legend>Quiet hours</legend>
      <label class="switch"><input type="checkbox" .checked=${live(q.on)} @change=${set(q, "on", (el) => el.checked)}><span>Hold during quiet hours</span></label>
      ${
        q.on
          ? html`<div class="row"><label for="q-start">From</label><input id="q-start" type="time" .value=${live(q.start)} @input=${set(q, "start", text)}>
              <label for="q-end">until</label><input id="q-end" type="time" .value=${live(q.end)} @input=${set(q, "end", text)}></div>
            <div class="row days" role="group" aria-label="Days">${DAYS.map(
              ([d, label]) =>
                html`<label class="switch"><input type="checkbox" .checked=${live(q.days.has(d))} @change=${(e: Event) => {
                  if ((e.target as HTMLInputElement).checked) q.days.add(d);
                  else q.days.delete(d);
                  update();
                }}><span>${label}</span></label>`,
            )}</div>
            <label for="q-zone">Time zone</label>
            <select id="q-zone" @change=${set(q, "zone", (el) => el.value as QuietDraft["zone"])}>
              <option value="account" ?selected=${q.zone === "account"}>The account's time zone</option>
              <option value="fixed" ?selected=${q.zone === "fixed"}>A fixed time zone</option>
              ${texts.length > 0 ? html`<option value="field" ?selected=${q.zone === "field"}>From a field of the payload</option>` : nothing}
            </select>
            ${
              q.zone === "field"
                ? html`<label for="q-field">Payload field with the zone</label>
                  <select id="q-field" @change=${set(q, "timeZoneField", text)}><option value="">—</option>${texts.map((f) => html`<option value=${f.path} ?selected=${f.path === q.timeZoneField}>${f.path}</option>`)}</select>`
                : nothing
            }
            ${
              q.zone === "account"
                ? nothing
                : html`<label for="q-tz">${q.zone === "field" ? "Zone when the field has none (optional)" : "Zone"}</label>
                  <input id="q-tz" list="q-zones" placeholder="America/New_York" .value=${live(q.timeZone)} @input=${set(q, "timeZone", text)}>
                  <datalist id="q-zones">${zoneNames().map((z) => html`<option value=${z}></option>`)}</datalist>`
            }
            <p class="help">A message falling due in quiet hours waits until they end; the log shows it as scheduled, with the reason.</p>`
          : nothing
      }
      <p class="field-error" id="e-quiet_hours" data-error-for="quiet_hours" hidden></p>
    </fieldset>`;
  }

  const view = () => html`${timingView()}${quietView()}`;
  update();
  return {
    read() {
      const timing = readTiming(t);
      if ("problem" in timing) return timing;
      const quietHours = messages ? readQuiet(q) : { value: null };
      if ("problem" in quietHours) return quietHours;
      return { value: { timing: timing.value, quiet_hours: quietHours.value } };
    },
    setMessages(on) {
      messages = on;
      update();
    },
  };
}
