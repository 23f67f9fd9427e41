/**
 * One attempt of one held instance: send it (once the gate gives it a slot), decide what happens
 * next (retry-policy.ts), and record both, the record held until it commits (recorder.ts).
 */
import { type Span, SpanStatusCode, type Tracer } from "@opentelemetry/api";
import type { Logger } from "pino";
import { type AttemptRecord, attemptRow } from "../attempts/attempts.js";
import type { Metrics } from "../metrics/metrics.js";
import type { ClaimedInstance } from "../queue/claim.js";
import { outOfQuietHours } from "../schedule/timing.js";
import type { EndpointGate } from "./endpoint-gate.js";
import type { HeldRecords } from "./recorder.js";
import { type Decision, decide, type RetryPolicy } from "./retry-policy.js";
import type { AttemptResult, Sender } from "./sender.js";

/** The queue as an attempt uses it (queue/queue.ts). */
export interface ReleaseQueue {
  /** Gives a claimed instance back untouched, due again at `now`. */
  release(instance: Pick<ClaimedInstance, "id" | "leaseToken">, now: number): Promise<void>;
}

export interface AttemptDeps {
  senders: Record<ClaimedInstance["actionType"], Sender>;
  gate: EndpointGate;
  records: HeldRecords;
  /** Gives instances back untouched (shutdown). */
  queue: ReleaseQueue;
  policy: RetryPolicy;
  logger: Logger;
  /** Aborts attempts still running when shutdown's grace period is over. */
  hardStop: AbortSignal;
  /** A retry's record is in: its due time is new. */
  onRetryRecorded: () => void;
  now: () => number;
  metrics?: Metrics;
  tracer?: Tracer;
}

/** `freeSlot` is called as soon as the receiver has answered: recording needs no endpoint slot. */
export type Attempt = (instance: ClaimedInstance, freeSlot: () => void) => Promise<void>;

export function createAttempt(deps: AttemptDeps): Attempt {
  const { now } = deps;

  async function attemptAndRecord(instance: ClaimedInstance, freeSlot: () => void, span: Span | undefined): Promise<void> {
    const result = await send(instance, freeSlot);
    // The lease keeps the instance ours until the record below commits, so it cannot be claimed twice.
    freeSlot();
    if (!result) return;
    const decision = decide(result.outcome, instance.seriesAttempts + 1, deps.policy);
    observe(deps, instance, result, decision, span);
    // The lease (renewed meanwhile) keeps the instance ours while the database is away, and should
    // it run out this worker still never claims the instance again (the worker's `heldInstances`).
    // Only a shutdown gives up, and then the expired lease makes the instance due again (at-least-once).
    const recorded = await deps.records.write(attemptRecord(instance, result, decision, now()), { instance: instance.id });
    // A retry's record is in: look again, to sleep until it falls due (the slot was freed, and the
    // worker woken, before this commit). Not a notification: the retry is not due yet, so nothing is
    // waiting, new instances are still handed over meanwhile, and the ration of looks past
    // saturated endpoints stands.
    if (recorded && decision.state === "retrying") deps.onRetryRecorded();
  }

  /** The receiver's answer; undefined when shutdown abandoned the attempt (the instance is given back). */
  async function send(instance: ClaimedInstance, freeSlot: () => void): Promise<AttemptResult | undefined> {
    // When the attempt starts, after any wait at the gate for a slot.
    let started = now();
    try {
      const sender = deps.senders[instance.actionType];
      return await deps.gate.run(
        { endpoint: instance.actionId, account: instance.accountId },
        () => {
          started = now();
          return sender.send(instance, deps.hardStop);
        },
        deps.hardStop,
      );
    } catch (error) {
      freeSlot();
      if (deps.hardStop.aborted) {
        // Shut down mid-attempt: give the instance back untouched; it is due again at once.
        await deps.queue.release(instance, now()).catch(() => {});
        deps.logger.debug({ instance: instance.id, err: error }, "attempt abandoned at shutdown");
        return undefined;
      }
      // Not an outcome but a fault (e.g. a stored secret that the configured key cannot open):
      // fail the attempt, saying why, instead of releasing it to fail again at once forever.
      deps.logger.error({ instance: instance.id, err: error }, "attempt failed with an internal error");
      return internalFailure(error, started, now());
    }
  }

  return async (instance, freeSlot) => {
    const span = deps.tracer?.startSpan("hookline.deliver", {
      attributes: {
        "hookline.instance_id": instance.id,
        "hookline.action_id": instance.actionId,
        "hookline.action_type": instance.actionType,
        "hookline.attempt": instance.seriesAttempts + 1,
      },
    });
    try {
      await attemptAndRecord(instance, freeSlot, span);
    } finally {
      span?.end();
    }
  };
}

/** The attempt's outcome on its span and in the metrics. */
function observe(
  deps: Pick<AttemptDeps, "metrics" | "now">,
  instance: ClaimedInstance,
  result: AttemptResult,
  decision: Decision,
  span: Span | undefined,
): void {
  if (span?.isRecording()) {
    span.setAttributes({ "hookline.outcome": decision.state, ...(result.response && { "http.response.status_code": result.response.status }) });
    if (decision.state === "failed" || decision.state === "retrying") span.setStatus({ code: SpanStatusCode.ERROR, message: result.error ?? decision.state });
  }
  // The metrics describe real deliveries: a test send's outcome would skew their success rate.
  if (instance.test !== 0) return;
  const type = { action_type: instance.actionType };
  deps.metrics?.attempts.inc({ ...type, outcome: decision.state === "retrying" ? "retry" : decision.state });
  deps.metrics?.attemptDuration.observe(type, result.durationMs / 1000);
  // Ingest-to-delivery latency, for first deliveries (a resend's age says nothing about the pipeline).
  if (decision.state === "succeeded" && instance.series === 1) deps.metrics?.deliveryLatency.observe(type, (deps.now() - instance.createdAt) / 1000);
}

/** A fault's result: a permanent failure saying why. */
function internalFailure(error: unknown, startedAt: number, at: number): AttemptResult {
  const message = `internal error: ${(error as Error).message}`;
  return { outcome: { kind: "permanent", message }, sent: false, confirmsDelivery: false, request: {}, error: message, startedAt, durationMs: at - startedAt };
}

/** The attempt's row and its instance's new state, written together at `at`. */
export function attemptRecord(instance: ClaimedInstance, result: AttemptResult, decision: Decision, at: number): AttemptRecord {
  const error =
    decision.state === "failed" ? decision.reason : decision.state === "retrying" && result.outcome.kind === "temporary" ? result.outcome.message : null;
  return {
    completion: {
      instanceId: instance.id,
      actionId: instance.actionId,
      leaseToken: instance.leaseToken,
      state: decision.state,
      sent: result.sent,
      delivered: decision.state === "succeeded" && result.confirmsDelivery,
      // A retry falling inside the action's quiet hours waits for their end.
      nextAttemptAt: decision.state === "retrying" ? outOfQuietHours(at + decision.delayMs, instance.quiet ?? undefined).dueAt : at,
      status: result.response?.status ?? null,
      error,
      reason: decision.state === "suppressed" ? decision.reason : null,
      now: at,
    },
    attempt: attemptRow(instance, result, decision.state === "retrying" ? "retry" : decision.state),
  };
}
