/**
 * Message templates (sms and email actions) in Liquid, the product's own template language.
 *
 * The context is the trigger's object under its key (`{{ participant.name }}`), with conveniences:
 * a participant's event is also `event`, a message's participant is also `participant`. Objects with
 * a `start_time` gain helper fields (`date_phrase`, `time_phrase`, `date_with_year`,
 * `day_and_time_phrase`), and the same names work as filters on any date, with `add_minutes`.
 *
 * Sandboxed: no file access (include/render/layout are refused), own properties only (no
 * prototype walking), unknown filters are errors at save time, and every render is bounded in time
 * and memory, so a template that loops forever or grows without end is stopped.
 */
import { Liquid, type Template } from "liquidjs";
import { memoize } from "../memo.js";
import { addMinutes, datePhrase, dateWithYear, dayAndTimePhrase, formatIso, type LocalTime, parseLocal, timePhrase } from "./dates.js";

export const LIMITS = {
  /** Characters of template source. */
  parse: 20_000,
  /** Milliseconds one render may take. */
  renderMs: 500,
  /** Liquid's allocation budget (characters/items created while rendering). */
  memory: 2_000_000,
  /** Characters of rendered output kept. */
  output: 100_000,
};

export class TemplateError extends Error {
  override name = "TemplateError";
}

/** Escapes a value for insertion inside a JSON string literal (webhook body templates). */
const jsonStringEscape = (value: unknown) => JSON.stringify(String(value ?? "")).slice(1, -1);

/** A date filter: formats dates, passes anything else through (missing fields render empty). */
const dateFilter = (format: (t: LocalTime) => string) => (value: unknown) => {
  const t = parseLocal(value);
  return t ? format(t) : value;
};

function createEngine(outputEscape?: (value: unknown) => string): Liquid {
  const liquid = new Liquid({
    strictFilters: true,
    strictVariables: false,
    ownPropertyOnly: true,
    preserveTimezones: true,
    templates: {},
    parseLimit: LIMITS.parse,
    renderLimit: LIMITS.renderMs,
    memoryLimit: LIMITS.memory,
    ...(outputEscape && { outputEscape }),
  });
  for (const tag of ["include", "render", "layout"]) {
    liquid.registerTag(tag, {
      parse() {
        throw new Error(`{% ${tag} %} is not available in templates`);
      },
      *render() {},
    });
  }
  liquid.registerFilter("date_phrase", dateFilter(datePhrase));
  liquid.registerFilter("time_phrase", dateFilter(timePhrase));
  liquid.registerFilter("date_with_year", dateFilter(dateWithYear));
  liquid.registerFilter("day_and_time_phrase", dateFilter(dayAndTimePhrase));
  liquid.registerFilter("add_minutes", (value: unknown, minutes: unknown) => {
    const t = parseLocal(value);
    const n = Number(minutes);
    return t && Number.isFinite(n) ? formatIso(addMinutes(t, n)) : value;
  });
  // `{{ participant | json }}` inserts a whole value as JSON; raw, so a JSON body does not escape it again.
  liquid.registerFilter("json", { raw: true, handler: (value: unknown) => JSON.stringify(value ?? null) });
  if (outputEscape) refuseRawFilter(liquid);
  return liquid;
}

/**
 * Where every value is escaped (a JSON body), Liquid's `raw` filter would turn that off: a payload
 * value holding `", "admin": true, "x": "` would then add keys to the receiver's JSON. Filters are
 * looked up when a template is parsed, so this refuses the template when it is saved.
 */
function refuseRawFilter(liquid: Liquid): void {
  Object.defineProperty(liquid.filters, "raw", {
    enumerable: false,
    get() {
      throw new Error("the raw filter is not available in a webhook body: values are always JSON-escaped (| json inserts a whole value as JSON)");
    },
  });
}

/**
 * Two dialects: message templates (SMS, email) output values as they are; JSON body templates
 * (webhooks) JSON-escape every `{{ value }}`, so a name with quotes, backslashes or newlines still
 * yields valid JSON when written inside a string: `{"text": "{{ participant.name }} confirmed"}`.
 */
export type TemplateKind = "message" | "json";
const engines: Record<TemplateKind, Liquid> = { message: createEngine(), json: createEngine(jsonStringEscape) };

/** Helper fields of an object with a start time; an all-day event has no time of day. */
function withHelpers(object: unknown): unknown {
  if (typeof object !== "object" || object === null || Array.isArray(object)) return object;
  const o = object as Record<string, unknown>;
  const start = parseLocal(o.start_time);
  const out: Record<string, unknown> = { ...o };
  if (o.event) out.event = withHelpers(o.event);
  if (start) {
    const allDay = o.all_day === true;
    out.date_phrase ??= datePhrase(start);
    out.date_with_year ??= dateWithYear(start);
    out.time_phrase ??= allDay ? "all day" : timePhrase(start);
    out.day_and_time_phrase ??= allDay ? `${datePhrase(start)} (all day)` : dayAndTimePhrase(start);
  }
  return out;
}

/** The variables a template sees for an instance of a trigger whose object is `object` under `objectKey`. */
export function templateContext(objectKey: string, object: unknown, apptotoId: string): Record<string, unknown> {
  const main = withHelpers(object);
  const context: Record<string, unknown> = { [objectKey]: main, apptoto_id: apptotoId };
  const o = (main ?? {}) as Record<string, unknown>;
  if (objectKey === "participant" && o.event) context.event = o.event;
  if (objectKey === "message" && o.participant) context.participant = o.participant;
  return context;
}

/** "line 2, column 7: unexpected …" from a liquidjs error (its message ends with ", line:2, col:7"). */
function describe(error: unknown): string {
  const e = error as { message?: string; token?: { getPosition?: () => [number, number] } };
  const position = e.token?.getPosition?.();
  const message = (e.message ?? String(error)).replace(/, line:\d+, col:\d+$/, "");
  return position ? `line ${position[0]}, column ${position[1]}: ${message}` : message;
}

/** Parsed templates, per kind and source (a thousand of each kept). */
const compiled = Object.fromEntries(
  (Object.keys(engines) as TemplateKind[]).map((kind) => [
    kind,
    memoize((source) => {
      try {
        return engines[kind].parse(source);
      } catch (error) {
        throw new TemplateError(describe(error));
      }
    }, 1_000),
  ]),
) as Record<TemplateKind, (source: string) => Template[]>;

/** Parses a template (cached by kind and source); a syntax error is a TemplateError naming line and column. */
function compile(source: string, kind: TemplateKind): Template[] {
  return compiled[kind](source);
}

/** What is wrong with a template's syntax ("line 1, column 4: …"), or undefined when it parses. */
export function templateProblem(source: string, kind: TemplateKind = "message"): string | undefined {
  try {
    compile(source, kind);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Renders a template; errors (including hitting a limit) are TemplateErrors, output is capped. */
export async function render(source: string, context: Record<string, unknown>, kind: TemplateKind = "message"): Promise<string> {
  const templates = compile(source, kind);
  let output: string;
  try {
    output = await engines[kind].render(templates, context);
  } catch (error) {
    throw new TemplateError(describe(error));
  }
  if (output.length > LIMITS.output) throw new TemplateError(`rendered output is ${output.length} characters; the limit is ${LIMITS.output}`);
  return output;
}

/**
 * Renders a webhook body template and checks the result is JSON: the body a receiver gets, or a
 * TemplateError saying where it is not valid JSON.
 */
export async function renderJsonBody(source: string, context: Record<string, unknown>): Promise<string> {
  const output = await render(source, context, "json");
  try {
    JSON.parse(output);
  } catch (error) {
    throw new TemplateError(`the rendered body is not valid JSON: ${(error as Error).message}`);
  }
  return output;
}

/** One render of an untrusted template: plain data, so it can cross to a render thread (render-pool.ts). */
export interface RenderJob {
  source: string;
  context: Record<string, unknown>;
  /** "json": a webhook body, which must render valid JSON (renderJsonBody). */
  kind: TemplateKind;
}

export function renderJob({ source, context, kind }: RenderJob): Promise<string> {
  return kind === "json" ? renderJsonBody(source, context) : render(source, context);
}
