import type { ClaimedInstance } from "../instances/instances.js";
import type { AttemptOutcome } from "./outcome.js";

export interface AttemptResult {
  outcome: AttemptOutcome;
  /** The request left Hookline (webhook: bytes were written; sms/email: handed to the provider). */
  sent: boolean;
  request: { method?: string; url?: string; headers?: Record<string, string> } & Record<string, unknown>;
  response?: { status: number; headers: Record<string, string | string[]>; body: string; truncated: boolean };
  error?: string;
  startedAt: number;
  durationMs: number;
}

/**
 * Makes one attempt of one instance. Expected failures are returned as outcomes; it throws only
 * when `signal` aborted it (shutdown), in which case the attempt does not count.
 */
export interface Sender {
  send(instance: ClaimedInstance, signal: AbortSignal): Promise<AttemptResult>;
}

/** The sender for an action type whose provider is not configured: every attempt fails, saying so. */
export function notConfiguredSender(what: string, variables: string, { now = Date.now } = {}): Sender {
  return {
    async send() {
      const message = `${what} provider not configured: set ${variables}`;
      return { outcome: { kind: "refused", message }, sent: false, request: {}, error: message, startedAt: now(), durationMs: 0 };
    },
  };
}
