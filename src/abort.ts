/**
 * Many waiters on one AbortSignal, through one listener. The delivery worker hands the same signal
 * (its hard stop) to every attempt, in flight or waiting for a slot: a listener per attempt cost two
 * EventTarget calls each, and past ten Node printed "MaxListenersExceededWarning: Possible
 * EventTarget memory leak" under load. Here each signal gets one listener, and subscribing is a Set
 * insertion.
 */
const subscribers = new WeakMap<StopSignal, Set<() => void>>();

/** The subscribers of `signal`, and its one listener, made on its first subscription. */
function subscribersOf(signal: StopSignal): Set<() => void> {
  const known = subscribers.get(signal);
  if (known) return known;
  const set = new Set<() => void>();
  subscribers.set(signal, set);
  signal.addEventListener(
    "abort",
    () => {
      for (const c of [...set]) c();
      set.clear();
    },
    { once: true },
  );
  return set;
}

/**
 * Calls `callback` once `signal` aborts, unless the returned function was called first. For a
 * signal that has not aborted yet (callers check `signal.aborted` themselves).
 */
export function whenAborted(signal: StopSignal, callback: () => void): () => void {
  const callbacks = subscribersOf(signal);
  // A wrapper of its own, so one callback subscribed twice is two subscriptions.
  const entry = () => callback();
  callbacks.add(entry);
  return () => callbacks.delete(entry);
}

/**
 * What stops an attempt: the listening side of an AbortSignal. Senders take this, so a caller may
 * hand them an AbortSignal (the worker's hard stop) or a Stop.
 */
export interface StopSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: "abort", listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: "abort", listener: () => void): void;
}

/**
 * A StopSignal and its controller in one small object, without an EventTarget. The webhook thread
 * starts each delivery with a stop of its own and aborts almost none, so an AbortController with
 * its EventTarget and listener per delivery would be paid for nothing (docs/PERFORMANCE.md, item 30).
 */
export class Stop implements StopSignal {
  aborted = false;
  reason: unknown;
  #listeners: (() => void)[] | undefined;

  addEventListener(_type: "abort", listener: () => void): void {
    this.#listeners ??= [];
    this.#listeners.push(listener);
  }

  removeEventListener(_type: "abort", listener: () => void): void {
    const at = this.#listeners?.indexOf(listener) ?? -1;
    if (at >= 0) this.#listeners?.splice(at, 1);
  }

  /** Aborts once, as AbortController.abort does: listeners run once, later calls do nothing. */
  abort(reason: unknown = new DOMException("This operation was aborted", "AbortError")): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listeners = this.#listeners ?? [];
    this.#listeners = undefined;
    for (const listener of listeners) listener();
  }
}
