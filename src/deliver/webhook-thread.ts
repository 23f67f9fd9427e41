/**
 * The webhook sender on a thread of its own. The delivery worker (claims, records, retries) stays
 * on the main thread with the database; each attempt's outbound half — opening the action's sealed
 * settings and secrets, building and signing the payload, the HTTP exchange with the receiver and
 * reading its answer — runs on this thread, on the machine's other core, because that half is a
 * large share of each attempt's CPU (see docs/PERFORMANCE.md, item 14).
 *
 * Jobs and results cross in batches (one message per turn of either event loop, not one per
 * attempt): claims start up to 100 attempts at once, and answers arrive in bursts.
 *
 * The thread holds no state that matters: an attempt is only ever recorded by the main thread. If
 * the thread dies (a bug), its attempts in flight end as temporary failures — retried like any
 * network error — and a new thread takes over.
 */
import { Worker } from "node:worker_threads";
import type { Logger } from "pino";
import { type StopSignal, whenAborted } from "../abort.js";
import type { ClaimedInstance } from "../queue/claim.js";
import { threadEntryUrl } from "../thread-entry.js";
import type { AttemptResult, Sender } from "./sender.js";
import type { WebhookSetup } from "./webhook.js";

export type ToThread = { t: "send"; jobs: { seq: number; instance: ClaimedInstance }[] } | { t: "abort"; seqs: number[] } | { t: "close" };
export type FromThread = ({ seq: number; result: AttemptResult } | { seq: number; error: string })[];

interface Pending {
  resolve(result: AttemptResult): void;
  reject(error: unknown): void;
  signal: StopSignal;
  /** Stops forwarding the signal's abort to the thread. */
  unsubscribe(): void;
  startedAt: number;
}

export function createWebhookThread(
  /** What the thread builds its sender from (cloned into it). */
  setup: WebhookSetup,
  {
    logger,
    entry = threadEntryUrl(import.meta.url, "webhook-thread-entry"),
  }: { logger: Logger /** The thread's code (a test may stand in for it). */; entry?: URL },
): Sender & { close(): Promise<void> } {
  const pending = createPending();
  const outbox = createOutbox((message) => thread.postMessage(message));
  let seq = 0;
  let closing = false;
  let thread = spawn();

  function spawn(): Worker {
    // What the thread allocates (requests, answers) dies young, but with many exchanges in flight a
    // small young generation is collected every few dozen deliveries, each time copying what is
    // still in flight; 32 MB trades some resident memory for less CPU (see docs/PERFORMANCE.md, item 40).
    const worker = new Worker(entry, { workerData: setup, name: "hookline-webhooks", resourceLimits: { maxYoungGenerationSizeMb: 32 } });
    worker.on("message", (replies: FromThread) => pending.answer(replies));
    worker.on("error", (err) => logger.error({ err }, "webhook thread failed"));
    worker.on("exit", (code) => {
      if (!closing) logger.error({ code }, "webhook thread stopped; starting a new one");
      pending.threadStopped(code);
      if (!closing) thread = spawn();
    });
    return worker;
  }

  function send(instance: ClaimedInstance, signal: StopSignal): Promise<AttemptResult> {
    if (signal.aborted) return Promise.reject(signal.reason);
    if (closing) return Promise.reject(new Error("the webhook thread is closed"));
    const n = ++seq;
    return new Promise<AttemptResult>((resolve, reject) => {
      // The worker's one hard-stop signal is shared by every attempt (abort.ts).
      const unsubscribe = whenAborted(signal, () => thread.postMessage({ t: "abort", seqs: [n] } satisfies ToThread));
      pending.add(n, { resolve, reject, signal, unsubscribe, startedAt: Date.now() });
      outbox.push({ seq: n, instance });
    });
  }

  return {
    send,
    async close() {
      if (closing) return;
      closing = true;
      outbox.flush();
      const exited = new Promise<void>((resolve) => thread.once("exit", () => resolve()));
      thread.postMessage({ t: "close" } satisfies ToThread);
      await exited;
    },
  };
}

/** Attempts sent to the thread and not yet answered, by sequence number. */
function createPending() {
  const pending = new Map<number, Pending>();

  function settle(n: number, p: Pending): void {
    pending.delete(n);
    p.unsubscribe();
  }

  return {
    add(n: number, p: Pending): void {
      pending.set(n, p);
    },
    answer(replies: FromThread): void {
      for (const reply of replies) {
        const p = pending.get(reply.seq);
        if (!p) continue;
        settle(reply.seq, p);
        if ("result" in reply) p.resolve(reply.result);
        else if (p.signal.aborted) p.reject(p.signal.reason);
        else p.reject(new Error(reply.error));
      }
    },
    /** Whatever it had in flight may or may not have reached its receiver: retried, as after a reset. */
    threadStopped(code: number): void {
      for (const [n, p] of pending) {
        settle(n, p);
        const message = `webhook thread stopped (exit code ${code})`;
        p.resolve({
          outcome: { kind: "temporary", message },
          sent: false,
          confirmsDelivery: true,
          request: {},
          error: message,
          startedAt: p.startedAt,
          durationMs: Date.now() - p.startedAt,
        });
      }
    },
  };
}

/** Attempts started in the same turn (one claim's batch) go to the thread as one message. */
function createOutbox(post: (message: ToThread) => void) {
  let outbox: ToThread & { t: "send" } = { t: "send", jobs: [] };
  let flushScheduled = false;

  function flush(): void {
    flushScheduled = false;
    if (outbox.jobs.length === 0) return;
    post(outbox);
    outbox = { t: "send", jobs: [] };
  }

  return {
    push(job: { seq: number; instance: ClaimedInstance }): void {
      outbox.jobs.push(job);
      if (!flushScheduled) {
        flushScheduled = true;
        queueMicrotask(flush);
      }
    },
    flush,
  };
}
