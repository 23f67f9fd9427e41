/**
 * Actions: what runs when a trigger fires. A webhook POSTs the payload to a URL; sms and email are
 * admitted by the model (their settings are validated and stored) and delivered by their providers.
 * Each action has a Standard Webhooks signing secret, generated at creation and rotatable.
 */
import { randomBytes } from "node:crypto";
import { z } from "zod";
import { type TriggerTypeName, triggerType } from "../catalogue/trigger-types.js";
import type { ActionRow, Db, Executor, Tx } from "../db/schema.js";
import { LimitReachedError, NotFoundError, ValidationError } from "../errors.js";
import type { IdGenerator } from "../ids.js";
import { iso } from "../iso.js";
import type { HostCheck } from "../net/host-check.js";
import { checkSchedule } from "../schedule/check.js";
import { scheduleOf } from "../schedule/plan.js";
import { type QuietHours, QuietHoursSchema, type Timing, TimingSchema } from "../schedule/timing.js";
import type { Cipher } from "../secrets/cipher.js";
import { type RenderPool, renderForAccount } from "../templates/render-pool.js";
import { TemplateError, type TemplateKind, templateContext, templateProblem } from "../templates/templates.js";
import { createWithinLimit, requireTrigger } from "../triggers/triggers.js";
import { displayName, emailAddress, parseInput } from "../validation.js";
import { toE164 } from "./phone.js";
import { PRESET_IDS, type PresetId, presetBody } from "./presets.js";
import { isTemplated, type RecipientKind, renderedRecipient } from "./recipients.js";
import { openSettings, REDACTED, type Settings, sealSettings } from "./settings.js";
import { livePrevious, MAX_PREVIOUS_SECRETS, NO_PREVIOUS_SECRETS, rotatedAway } from "./signing-secrets.js";

export const ACTION_TYPES = ["webhook", "sms", "email"] as const;
export type ActionType = (typeof ACTION_TYPES)[number];

/** Absolute http(s) URL without credentials (they would end up in logs; use headers for auth). */
export const webhookUrl = z
  .string()
  .max(2048, "url must be at most 2048 characters")
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "";
    } catch {
      return false;
    }
  }, "url must be an absolute http:// or https:// URL")
  .refine((value) => {
    try {
      const url = new URL(value);
      return url.username === "" && url.password === "";
    } catch {
      return true;
    }
  }, "url must not contain credentials");

const name = displayName();

/** A Liquid template that must parse: a syntax error is a 400 naming line and column. */
const templateOf = (kind: TemplateKind) =>
  z
    .string()
    .min(1, "must not be empty")
    .max(10_000)
    .superRefine((source, ctx) => {
      const problem = templateProblem(source, kind);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    });
const template = templateOf("message");

/** Headers Hookline sets itself (the signature, content-type, user-agent), or the connection needs: an action cannot override them. */
const RESERVED_HEADER =
  /^(webhook-.*|x-hookline-test|content-type|user-agent|host|content-length|transfer-encoding|connection|keep-alive|upgrade|te|trailer)$/i;

/**
 * What the HTTP client (undici) sends, checked when saved, so a header is refused with a 400 rather
 * than failing every delivery: a name of token characters (RFC 9110 §5.6.2), a value of tab, visible
 * ASCII and Latin-1 (§5.5). actions.test.ts holds both to undici's own checks.
 */
export const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
export const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Custom request headers of a webhook action (`Authorization: Bearer …`, `X-Api-Key`). */
const customHeaders = z
  .record(
    z
      .string()
      .regex(HEADER_NAME, "not a valid header name")
      .refine((name) => !RESERVED_HEADER.test(name), "is set by Hookline and cannot be overridden")
      .refine((name) => name.toLowerCase() !== "expect", "is not supported by Hookline's HTTP client"),
    z
      .string()
      .max(4096)
      .regex(HEADER_VALUE, "header values may hold tabs, printable ASCII and Latin-1 characters only (no line breaks or other control characters)"),
  )
  .refine((h) => Object.keys(h).length <= 20, "at most 20 custom headers")
  .superRefine((h, ctx) => {
    // Header names are case-insensitive: "X-Key" and "x-key" would both be sent.
    const seen = new Set<string>();
    for (const name of Object.keys(h)) {
      if (seen.has(name.toLowerCase())) ctx.addIssue({ code: "custom", path: [name], message: "is given twice (header names ignore case)" });
      seen.add(name.toLowerCase());
    }
  });

/**
 * A recipient written as a template (`{{ participant.phone }}`) must parse; what it renders is
 * checked against the trigger type's example payload when saved (checkRecipients).
 */
const recipientTemplate = (raw: string, ctx: z.RefinementCtx) => {
  const problem = templateProblem(raw, "message");
  if (problem) ctx.addIssue({ code: "custom", message: problem });
  return raw;
};

const phone = z
  .string()
  .max(1000)
  .transform((raw, ctx) => {
    if (isTemplated(raw)) return recipientTemplate(raw, ctx);
    const e164 = toE164(raw);
    if (!e164)
      ctx.addIssue({
        code: "custom",
        message: `${JSON.stringify(raw)} is not a phone number; use +<country code><number>, e.g. +15552013344, or a template such as {{ participant.phone }}`,
      });
    return e164 ?? raw;
  });

const email = z
  .string()
  .max(1000)
  .transform((raw, ctx) => {
    if (isTemplated(raw)) return recipientTemplate(raw, ctx);
    if (!emailAddress().safeParse(raw).success)
      ctx.addIssue({ code: "custom", message: `${JSON.stringify(raw)} is not an email address; give one, or a template such as {{ participant.email }}` });
    return raw;
  });

/** Type-specific settings, stored as JSON in actions.settings. */
const SETTINGS = {
  // body: a Liquid template rendering the JSON body; without it the documented payload is sent.
  webhook: z.strictObject({ url: webhookUrl, body: templateOf("json").optional(), headers: customHeaders.optional() }),
  sms: z.strictObject({ to: phone, body: template }),
  email: z.strictObject({
    to: z.union([email, z.array(email).min(1).max(50)], { error: "to must be an email address or a list of 1-50 addresses" }),
    subject: template,
    body: template,
  }),
} as const;

const timing = TimingSchema.nullable().describe("When its instances run: null, at once; else an offset from a date field of the payload, or after ingest");
const quietHours = QuietHoursSchema.nullable().describe("Hours (sms, email) in which its instances wait; null: none");
const base = { name, enabled: z.boolean().default(true), timing: timing.default(null) };
export const ActionIn = z.discriminatedUnion("type", [
  z.strictObject({ ...base, type: z.literal("webhook"), ...SETTINGS.webhook.shape, preset: z.enum(PRESET_IDS).optional() }),
  z.strictObject({ ...base, type: z.literal("sms"), ...SETTINGS.sms.shape, quiet_hours: quietHours.default(null) }),
  z.strictObject({ ...base, type: z.literal("email"), ...SETTINGS.email.shape, quiet_hours: quietHours.default(null) }),
]);
export type ActionIn = z.output<typeof ActionIn>;

export const ActionPatch = z.strictObject({
  name: name.optional(),
  enabled: z.boolean().optional(),
  url: z.string().optional(),
  to: z.union([z.string(), z.array(z.string())]).optional(),
  subject: z.string().optional(),
  /** null removes a webhook's body template (the documented payload is sent again). */
  body: z.string().nullable().optional(),
  /** Replaces all custom headers; a value of "[redacted]" keeps that header's stored value. */
  headers: z.record(z.string(), z.string()).optional(),
  /** null: at once again. */
  timing: timing.optional(),
  /** sms and email only; null removes them. */
  quiet_hours: quietHours.optional(),
});
export type ActionPatch = z.output<typeof ActionPatch>;

export const ActionOut = z.object({
  id: z.string(),
  trigger_id: z.string(),
  name: z.string(),
  type: z.enum(ACTION_TYPES),
  enabled: z.boolean(),
  url: z.string().optional(),
  to: z.union([z.string(), z.array(z.string())]).optional(),
  subject: z.string().optional(),
  body: z.string().optional(),
  /** Custom header names; values are never shown again ("[redacted]"). */
  headers: z.record(z.string(), z.string()).optional(),
  timing: TimingSchema.nullable(),
  /** sms and email actions only. */
  quiet_hours: QuietHoursSchema.nullable().optional(),
  /** Present only when the secret is created or rotated, or explicitly revealed. */
  secret: z.string().optional(),
  /** False when this action's provider (SMTP, SMS) is not configured: its instances fail, saying so. */
  provider_configured: z.boolean(),
  provider_error: z.string().optional(),
  /** Its instances have failed, with no success, for longer than HOOKLINE_FAILING_AFTER. It keeps running. */
  failing: z.boolean(),
  /** Since when its instances have been failing without a success (null while it works). */
  failing_since: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type ActionOut = z.output<typeof ActionOut>;

export const SecretOut = z.object({ secret: z.string() });

/** Standard Webhooks secrets are `whsec_` + base64 of 24-64 random bytes. */
export function newSigningSecret(): string {
  return `whsec_${randomBytes(32).toString("base64")}`;
}

/** A webhook body template must render valid JSON for the trigger type's example payload (on a render thread, in the account's turn). */
async function checkBody(templates: RenderPool, accountId: string, body: string | undefined, type: TriggerTypeName): Promise<void> {
  if (!body) return;
  const t = triggerType(type);
  try {
    await renderForAccount(templates, accountId, { source: body, context: templateContext(t.objectKey, t.example[t.objectKey], "ins_example"), kind: "json" });
  } catch (error) {
    if (error instanceof TemplateError) throw new ValidationError(`body: with the example payload of ${type}, ${error.message}`);
    throw error;
  }
}

/**
 * Each recipient written as a template must render, with the trigger type's example payload, a
 * phone (sms) or an email address: a 400 naming `to` otherwise. Rendered on a render thread in the
 * account's turn, as the body check above.
 */
async function checkRecipients(templates: RenderPool, accountId: string, settings: Settings, actionType: ActionType, type: TriggerTypeName): Promise<void> {
  if (actionType === "webhook" || settings.to === undefined) return;
  const kind: RecipientKind = actionType === "sms" ? "phone" : "email";
  const list = typeof settings.to === "string" ? [settings.to] : settings.to;
  const t = triggerType(type);
  const context = templateContext(t.objectKey, t.example[t.objectKey], "ins_example");
  for (const [i, source] of list.entries()) {
    if (!isTemplated(source)) continue;
    const path = typeof settings.to === "string" ? "to" : `to[${i}]`;
    let rendered: string;
    try {
      rendered = await renderForAccount(templates, accountId, { source, context, kind: "message" });
    } catch (error) {
      if (error instanceof TemplateError) throw new ValidationError(`${path}: with the example payload of ${type}, ${error.message}`);
      throw error;
    }
    const recipient = renderedRecipient(kind, source, rendered);
    if ("problem" in recipient) {
      const message = `with the example payload of ${type}, ${recipient.problem}`;
      throw new ValidationError(`${path}: ${message}`, { issues: [{ path, message }] });
    }
  }
}

/**
 * A webhook URL whose host outbound requests cannot reach (a private address, a name resolving only
 * to such) is refused when saved, naming the rule; deliveries are still checked (net/host-check.ts).
 */
async function checkHost(hostCheck: HostCheck, url: string | undefined): Promise<void> {
  if (url === undefined) return;
  const refusal = await hostCheck.refusal(new URL(url).hostname);
  if (refusal) throw new ValidationError(`url: ${refusal}`, { issues: [{ path: "url", message: refusal }] });
}

function toOut(row: ActionRow, deps: Pick<Deps, "providers" | "cipher" | "now" | "failingAfterMs">, { secret }: { secret?: string } = {}): ActionOut {
  const providers = deps.providers;
  const { headers, ...settings } = openSettings(row.settings, deps.cipher);
  const problem = providers[row.type];
  return {
    id: row.id,
    trigger_id: row.trigger_id,
    name: row.name,
    type: row.type,
    enabled: row.enabled === 1,
    ...settings,
    ...(headers && { headers: Object.fromEntries(Object.keys(headers).map((h) => [h, REDACTED])) }),
    ...scheduleOut(row),
    ...(secret !== undefined && { secret }),
    provider_configured: problem === undefined,
    ...(problem !== undefined && { provider_error: problem }),
    failing: row.failing_since !== null && row.failing_since <= deps.now() - deps.failingAfterMs,
    failing_since: row.failing_since === null ? null : iso(row.failing_since),
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

/** Timing for every action; quiet hours for messages (sms, email). */
function scheduleOut(row: ActionRow): Pick<ActionOut, "timing" | "quiet_hours"> {
  const { timing, quietHours } = scheduleOf(row);
  return row.type === "webhook" ? { timing } : { timing, quiet_hours: quietHours };
}

const stored = (value: Timing | QuietHours | null): string | null => (value === null ? null : JSON.stringify(value));

/** Per action type, why its provider cannot send (undefined: it can). */
export type ProviderProblems = Readonly<Partial<Record<ActionType, string>>>;

export interface Deps {
  newId: IdGenerator;
  now: () => number;
  providers: ProviderProblems;
  /** Seals signing secrets at rest. */
  cipher: Cipher;
  limits: { maxActions: number };
  /** How long an action's instances must fail, without a success, before it is marked failing. */
  failingAfterMs: number;
  /** Refuses webhook URLs that outbound requests cannot reach. */
  hostCheck: HostCheck;
  /** Renders body templates for their save-time check. */
  templates: RenderPool;
}

export async function requireAction(db: Executor, accountId: string, id: string): Promise<ActionRow> {
  const row = await db.selectFrom("actions").selectAll().where("account_id", "=", accountId).where("id", "=", id).executeTakeFirst();
  if (!row) throw new NotFoundError("action", id);
  return row;
}

export async function getAction(db: Executor, deps: Deps, accountId: string, id: string): Promise<ActionOut> {
  return toOut(await requireAction(db, accountId, id), deps);
}

export async function listActions(db: Executor, deps: Deps, accountId: string, triggerId: string): Promise<ActionOut[]> {
  await requireTrigger(db, accountId, triggerId);
  const rows = await db.selectFrom("actions").selectAll().where("account_id", "=", accountId).where("trigger_id", "=", triggerId).orderBy("id").execute();
  return rows.map((r) => toOut(r, deps));
}

export async function createAction(db: Db, deps: Deps, accountId: string, triggerId: string, input: ActionIn): Promise<ActionOut> {
  const trigger = await requireTrigger(db, accountId, triggerId);
  const { name: actionName, type, enabled, timing, ...given } = input;
  const { preset, quiet_hours, ...settings }: Settings & { preset?: PresetId; quiet_hours?: QuietHours | null } = given;
  const schedule = { timing, quietHours: quiet_hours ?? null };
  checkSchedule(trigger.type as TriggerTypeName, schedule);
  if (type === "webhook" && preset && !settings.body) settings.body = presetBody(preset, trigger.type as TriggerTypeName);
  if (type === "webhook") {
    await checkHost(deps.hostCheck, settings.url);
    await checkBody(deps.templates, accountId, settings.body, trigger.type as TriggerTypeName);
  }
  await checkRecipients(deps.templates, accountId, settings, type, trigger.type as TriggerTypeName);
  const now = deps.now();
  const secret = newSigningSecret();
  const row: ActionRow = {
    id: deps.newId("act"),
    account_id: accountId,
    trigger_id: triggerId,
    name: actionName,
    type,
    enabled: enabled ? 1 : 0,
    settings: sealSettings(settings, deps.cipher),
    secret: deps.cipher.seal(secret),
    previous_secrets: NO_PREVIOUS_SECRETS,
    failing_since: null,
    failing_notified_at: null,
    timing: stored(schedule.timing),
    quiet_hours: stored(schedule.quietHours),
    created_at: now,
    updated_at: now,
  };
  // The checks above (a DNS lookup among them) run before the transaction, which holds SQLite's one writer.
  await createWithinLimit(db, "actions", accountId, deps.limits.maxActions, (trx) => trx.insertInto("actions").values(row).execute());
  return toOut(row, deps, { secret });
}

export async function updateAction(db: Db | Tx, deps: Deps, accountId: string, id: string, patch: ActionPatch): Promise<ActionOut> {
  const row = await requireAction(db, accountId, id);
  const { name: newName, enabled, headers: newHeaders, body: newBody, timing, quiet_hours, ...settingsPatch } = patch;
  if (quiet_hours !== undefined && row.type === "webhook")
    throw new ValidationError("quiet_hours: only sms and email actions have quiet hours", {
      issues: [{ path: "quiet_hours", message: "only sms and email actions have quiet hours" }],
    });
  const before = scheduleOf(row);
  const schedule = { timing: timing === undefined ? before.timing : timing, quietHours: quiet_hours === undefined ? before.quietHours : quiet_hours };
  if (timing !== undefined || quiet_hours !== undefined) checkSchedule((await requireTrigger(db, accountId, row.trigger_id)).type as TriggerTypeName, schedule);
  const current = openSettings(row.settings, deps.cipher);
  const merged: Settings = { ...current, ...settingsPatch };
  if (newBody === null) delete merged.body;
  else if (newBody !== undefined) merged.body = newBody;
  if (newHeaders !== undefined) {
    // "[redacted]" stands for the stored value: the UI shows names only and sends them back.
    merged.headers = Object.fromEntries(Object.entries(newHeaders).map(([k, v]) => [k, v === REDACTED ? (current.headers?.[k] ?? v) : v]));
  }
  // Validate the merged settings against the action's own type: a patch cannot leave it half-valid.
  const settings: Settings = parseInput(SETTINGS[row.type], merged);
  if (row.type === "webhook") {
    // Only a URL given now: a rename must not fail over a URL saved under other rules or other DNS.
    if (settingsPatch.url !== undefined) await checkHost(deps.hostCheck, settings.url);
    const trigger = await requireTrigger(db, accountId, row.trigger_id);
    await checkBody(deps.templates, accountId, settings.body, trigger.type as TriggerTypeName);
  }
  // Only a recipient given now: a rename must not fail over a recipient saved against the example of before.
  if (settingsPatch.to !== undefined) {
    const trigger = await requireTrigger(db, accountId, row.trigger_id);
    await checkRecipients(deps.templates, accountId, settings, row.type, trigger.type as TriggerTypeName);
  }
  const updated: ActionRow = {
    ...row,
    name: newName ?? row.name,
    enabled: enabled === undefined ? row.enabled : enabled ? 1 : 0,
    settings: sealSettings(settings, deps.cipher),
    timing: stored(schedule.timing),
    quiet_hours: stored(schedule.quietHours),
    updated_at: deps.now(),
  };
  await db
    .updateTable("actions")
    .set({
      name: updated.name,
      enabled: updated.enabled,
      settings: updated.settings,
      timing: updated.timing,
      quiet_hours: updated.quiet_hours,
      updated_at: updated.updated_at,
    })
    .where("account_id", "=", accountId)
    .where("id", "=", id)
    .execute();
  return toOut(updated, deps);
}

export async function deleteAction(db: Db | Tx, accountId: string, id: string): Promise<void> {
  const result = await db.deleteFrom("actions").where("account_id", "=", accountId).where("id", "=", id).executeTakeFirst();
  if (Number(result.numDeletedRows) === 0) throw new NotFoundError("action", id);
}

export async function revealSecret(db: Executor, deps: Deps, accountId: string, id: string): Promise<{ secret: string }> {
  return { secret: deps.cipher.open((await requireAction(db, accountId, id)).secret) };
}

/**
 * Replaces the signing secret. Each secret rotated away keeps signing for 24 hours (every live
 * secret's signature is sent, as Standard Webhooks allows), so receivers can switch without dropping
 * deliveries. At most MAX_PREVIOUS_SECRETS sign beside the current one: a rotation beyond that is
 * refused until the oldest expires, as Svix does.
 */
export async function rotateSecret(db: Db | Tx, deps: Deps, accountId: string, id: string): Promise<{ secret: string }> {
  for (;;) {
    const row = await requireAction(db, accountId, id);
    const now = deps.now();
    const previous = livePrevious(row.previous_secrets, now);
    const oldest = previous[0];
    if (oldest && previous.length >= MAX_PREVIOUS_SECRETS)
      throw new LimitReachedError(
        `the signing secret was rotated ${MAX_PREVIOUS_SECRETS} times within 24 hours and every previous secret still signs; the oldest expires at ${iso(oldest.until)}, rotate again after that`,
      );
    const secret = newSigningSecret();
    const result = await db
      .updateTable("actions")
      .set({ secret: deps.cipher.seal(secret), previous_secrets: rotatedAway(row.previous_secrets, row.secret, now), updated_at: now })
      .where("account_id", "=", accountId)
      .where("id", "=", id)
      // Only over the secret read: a rotation that landed meanwhile is read again, not overwritten
      // (its secret would stop signing before its 24 hours).
      .where("secret", "=", row.secret)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) > 0) return { secret };
  }
}
