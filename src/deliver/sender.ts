import type { StopSignal } from "../abort.js";
import type { AttemptExchange } from "../attempts/attempts.js";
import type { ClaimedInstance } from "../queue/claim.js";
import type { AttemptOutcome } from "./outcome.js";

export interface AttemptResult extends AttemptExchange {
  outcome: AttemptOutcome;
  /** The request left Hookline (webhook: it reached the receiver; sms/email: handed to the provider). */
  sent: boolean;
  /**
   * A success here means the target has it (webhook: answered 2xx; email: the SMTP server accepted
   * it). False for an SMS accepted by the provider: delivery is confirmed later by its status callback.
   */
  confirmsDelivery: boolean;
}

/**
 * Makes one attempt of one instance. Expected failures are returned as outcomes; it throws only
 * when `signal` aborted it (shutdown), in which case the attempt does not count.
 */
export interface Sender {
  send(instance: ClaimedInstance, signal: StopSignal): Promise<AttemptResult>;
}

/**
 * The sender for an action type whose provider is not configured: every attempt fails, saying so.
 * `describe` gives the attempt's request for the log: what of the message could be rendered.
 */
export function notConfiguredSender(
  message: string,
  { now = Date.now, describe }: { now?: () => number; describe?: (instance: ClaimedInstance) => Promise<Record<string, unknown>> } = {},
): Sender {
  return {
    async send(instance) {
      const startedAt = now();
      return {
        outcome: { kind: "permanent", message },
        sent: false,
        confirmsDelivery: false,
        request: describe ? await describe(instance) : {},
        error: message,
        startedAt,
        durationMs: now() - startedAt,
      };
    },
  };
}
