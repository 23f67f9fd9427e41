/**
 * Typed client for the Hookline API. Types come from the server's own schemas, so client and
 * server cannot disagree. `fetch` is injectable (tests, custom agents).
 *
 *   const hookline = new HooklineClient({ baseUrl: "http://localhost:8080", apiKey });
 *   await hookline.ingest({ type: "participant.confirmed", data: { participant: { id: 1 } } });
 */
import type { z } from "zod";
import type { ActionIn, ActionOut, ActionPatch } from "../actions/actions.js";
import type { TriggerTypeName } from "../catalogue/trigger-types.js";
import type { AccountPatch, SessionOut, TriggerTypeOut } from "../http/routes.js";
import type { EventOut } from "../ingest/ingest.js";
import type { InstanceDetailOut, InstanceOut, LogQuery } from "../log/log.js";
import type { Condition, Conditions } from "../match/conditions.js";
import type { StopListOut, StopListQuery } from "../stoplist/stop-list.js";
import type { PreviewIn, PreviewOut } from "../templates/preview.js";
import type { TriggerIn, TriggerOut, TriggerPatch } from "../triggers/triggers.js";

export type { ActionOut, Condition, Conditions, EventOut, InstanceDetailOut, InstanceOut, TriggerOut, TriggerTypeName };
export type TriggerInput = z.input<typeof TriggerIn>;
export type TriggerPatchInput = z.input<typeof TriggerPatch>;
export type ActionInput = z.input<typeof ActionIn>;
export type ActionPatchInput = z.input<typeof ActionPatch>;
export type EventInput = { type: TriggerTypeName; data: Record<string, unknown>; idempotency_key?: string };
/** A catalogue entry: `fields` lists what conditions, timings and templates can name (`participant.event.start_time`). */
export type TriggerTypeInfo = Omit<z.output<typeof TriggerTypeOut>, "type" | "example"> & { type: TriggerTypeName; example: Record<string, unknown> };
export type LogQueryInput = Partial<z.input<typeof LogQuery>>;
export type PreviewInput = z.input<typeof PreviewIn>;
export type PreviewOutput = z.output<typeof PreviewOut>;
export type StopListQueryInput = Partial<z.input<typeof StopListQuery>>;
export type StopListOutput = z.output<typeof StopListOut>;
export type AccountOut = z.output<typeof SessionOut>;
export type AccountPatchInput = z.input<typeof AccountPatch>;

/** An error answer from the API: `status`, and `code`/`message` from its `{"error"}` body. */
export class HooklineApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly body: unknown,
  ) {
    super(`${status} ${code}: ${message}`);
    this.name = "HooklineApiError";
  }
}

export interface ClientOptions {
  baseUrl: string;
  apiKey?: string;
  fetch?: typeof fetch;
}

export class HooklineClient {
  private readonly baseUrl: string;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/$/, "");
    this.fetch = options.fetch ?? fetch;
  }

  /** Sends a request; returns the parsed JSON body (undefined for 204), or throws HooklineApiError. */
  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    const response = await this.fetch(`${this.baseUrl}${path}`, { method, headers, ...(body !== undefined && { body: JSON.stringify(body) }) });
    const text = await response.text();
    const parsed: unknown = text ? JSON.parse(text) : undefined;
    if (!response.ok) {
      const error = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new HooklineApiError(response.status, error?.code ?? "unknown", error?.message ?? text, parsed);
    }
    return parsed as T;
  }

  /** The account this key acts for, with its settings. */
  account() {
    return this.request<AccountOut>("GET", "/api/v1/session");
  }

  /** Sets the account's notification email and time zone (quiet hours' default); only what is given changes. */
  updateAccount(patch: AccountPatchInput) {
    return this.request<AccountOut>("PATCH", "/api/v1/account", patch);
  }

  triggerTypes() {
    return this.request<{ data: TriggerTypeInfo[] }>("GET", "/api/v1/trigger-types");
  }

  createTrigger(input: TriggerInput) {
    return this.request<TriggerOut>("POST", "/api/v1/triggers", input);
  }
  listTriggers() {
    return this.request<{ data: TriggerOut[] }>("GET", "/api/v1/triggers");
  }
  getTrigger(id: string) {
    return this.request<TriggerOut>("GET", `/api/v1/triggers/${encodeURIComponent(id)}`);
  }
  updateTrigger(id: string, patch: TriggerPatchInput) {
    return this.request<TriggerOut>("PATCH", `/api/v1/triggers/${encodeURIComponent(id)}`, patch);
  }
  deleteTrigger(id: string) {
    return this.request<void>("DELETE", `/api/v1/triggers/${encodeURIComponent(id)}`);
  }

  createAction(triggerId: string, input: ActionInput) {
    return this.request<ActionOut & { secret: string }>("POST", `/api/v1/triggers/${encodeURIComponent(triggerId)}/actions`, input);
  }
  listActions(triggerId: string) {
    return this.request<{ data: ActionOut[] }>("GET", `/api/v1/triggers/${encodeURIComponent(triggerId)}/actions`);
  }
  getAction(id: string) {
    return this.request<ActionOut>("GET", `/api/v1/actions/${encodeURIComponent(id)}`);
  }
  updateAction(id: string, patch: ActionPatchInput) {
    return this.request<ActionOut>("PATCH", `/api/v1/actions/${encodeURIComponent(id)}`, patch);
  }
  deleteAction(id: string) {
    return this.request<void>("DELETE", `/api/v1/actions/${encodeURIComponent(id)}`);
  }
  revealSecret(actionId: string) {
    return this.request<{ secret: string }>("GET", `/api/v1/actions/${encodeURIComponent(actionId)}/secret`);
  }
  rotateSecret(actionId: string) {
    return this.request<{ secret: string }>("POST", `/api/v1/actions/${encodeURIComponent(actionId)}/secret/rotate`);
  }

  log(actionId: string, query: LogQueryInput = {}) {
    return this.request<{ data: InstanceOut[]; next_cursor: string | null }>("GET", `/api/v1/actions/${encodeURIComponent(actionId)}/log${queryString(query)}`);
  }
  instance(id: string) {
    return this.request<InstanceDetailOut>("GET", `/api/v1/instances/${encodeURIComponent(id)}`);
  }
  resend(instanceId: string) {
    return this.request<InstanceOut>("POST", `/api/v1/instances/${encodeURIComponent(instanceId)}/resend`);
  }

  ingest(event: EventInput) {
    return this.request<EventOut>("POST", "/api/v1/events", event);
  }
  ingestBatch(events: EventInput[]) {
    return this.request<{ data: EventOut[] }>("POST", "/api/v1/events/batch", { events });
  }

  /** Renders a template against the trigger type's example payload (or `data`); kind "sms" adds its length and segments. */
  previewTemplate(input: PreviewInput) {
    return this.request<PreviewOutput>("POST", "/api/v1/templates/preview", input);
  }

  stopList(query: StopListQueryInput = {}) {
    return this.request<StopListOutput>("GET", `/api/v1/stop-list${queryString(query)}`);
  }
  removeFromStopList(kind: "phone" | "email", value: string) {
    return this.request<void>("DELETE", `/api/v1/stop-list/${kind}/${encodeURIComponent(value)}`);
  }
}

function queryString(query: Record<string, unknown>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  return params.size > 0 ? `?${params}` : "";
}
