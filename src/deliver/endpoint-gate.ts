/**
 * The limits on attempts in flight — per endpoint, per account and in all — applied where attempts
 * start. The worker holds up to `HOLD_FACTOR` times these limits in leased instances (worker.ts);
 * the gate starts them as slots free, in the order it was given them. A slot that frees starts the
 * next attempt in the same turn, without waiting for a claim and its commit, so the endpoint stays
 * busy while the worker's claims top the queue up in the background (see docs/PERFORMANCE.md, item 19).
 */
import { whenAborted } from "../abort.js";

/**
 * How many times its limits the worker holds, per action, per account and in all: the limit in
 * flight and as many again queued at the gate. One round ahead covers a claim's refill at full
 * speed; more would only lengthen the queue that a saturated endpoint keeps leased.
 */
export const HOLD_FACTOR = 2;

/** Whose slots a task takes: its action's endpoint and its account. */
export interface GateKey {
  readonly endpoint: string;
  readonly account: string;
}

export interface EndpointGate {
  /**
   * Runs `task` once its endpoint, its account and the gate in all have a free slot. Waiting tasks
   * start in the order they came, skipping those whose endpoint or account is still full (a hanging
   * endpoint's queue never holds up another's, nor one account's another account's). If `signal`
   * aborts while it waits, it never runs, and the promise rejects with the signal's reason.
   */
  run<T>(key: GateKey, task: () => Promise<T>, signal: AbortSignal): Promise<T>;
  /** Tasks running now. */
  inFlight(): number;
}

interface Waiter {
  key: GateKey;
  start(): void;
}

/** Counts per key, a key with none left dropped (the worker's hold counts use it too). */
export function tally(counts: Map<string, number>, key: string, by: 1 | -1): void {
  const n = (counts.get(key) ?? 0) + by;
  if (n <= 0) counts.delete(key);
  else counts.set(key, n);
}

export function createEndpointGate({ perEndpoint, perAccount, all }: { perEndpoint: number; perAccount: number; all: number }): EndpointGate {
  const endpoints = new Map<string, number>();
  const accounts = new Map<string, number>();
  let total = 0;
  const waiting: Waiter[] = [];

  const fits = (key: GateKey) => total < all && (endpoints.get(key.endpoint) ?? 0) < perEndpoint && (accounts.get(key.account) ?? 0) < perAccount;

  function take(key: GateKey): void {
    total++;
    tally(endpoints, key.endpoint, 1);
    tally(accounts, key.account, 1);
  }

  function finished(key: GateKey): void {
    total--;
    tally(endpoints, key.endpoint, -1);
    tally(accounts, key.account, -1);
    // The freed slots go to the oldest waiters that fit (usually the first: all is one endpoint's).
    for (let i = 0; i < waiting.length && total < all; ) {
      const w = waiting[i] as Waiter;
      if (!fits(w.key)) {
        i++;
        continue;
      }
      waiting.splice(i, 1);
      w.start();
    }
  }

  function go<T>(key: GateKey, task: () => Promise<T>): Promise<T> {
    take(key);
    let started: Promise<T>;
    try {
      started = task();
    } catch (error) {
      started = Promise.reject(error);
    }
    return started.finally(() => finished(key));
  }

  return {
    run<T>(key: GateKey, task: () => Promise<T>, signal: AbortSignal): Promise<T> {
      // No waiter ever fits (each freed slot starts the oldest that does), so none is passed over here.
      if (fits(key)) return go(key, task);
      if (signal.aborted) return Promise.reject(signal.reason);
      return new Promise<T>((resolve, reject) => {
        const waiter: Waiter = {
          key,
          start() {
            unsubscribe();
            go(key, task).then(resolve, reject);
          },
        };
        // The worker's one hard-stop signal is shared by every waiter (abort.ts).
        const unsubscribe = whenAborted(signal, () => {
          const i = waiting.indexOf(waiter);
          if (i >= 0) waiting.splice(i, 1);
          reject(signal.reason);
        });
        waiting.push(waiter);
      });
    },
    inFlight: () => total,
  };
}
