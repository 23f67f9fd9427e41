/**
 * Many waiters on one AbortSignal, through one listener. The delivery worker hands the same signal
 * (its hard stop) to every attempt, in flight or waiting for a slot: a listener per attempt cost two
 * EventTarget calls each, and past ten Node printed "MaxListenersExceededWarning: Possible
 * EventTarget memory leak" under load. Here each signal gets one listener, and subscribing is a Set
 * insertion.
 */
const subscribers = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * Calls `callback` once `signal` aborts, unless the returned function was called first. For a
 * signal that has not aborted yet (callers check `signal.aborted` themselves).
 */
export function whenAborted(signal: AbortSignal, callback: () => void): () => void {
  let callbacks = subscribers.get(signal);
  if (!callbacks) {
    const set = new Set<() => void>();
    callbacks = set;
    subscribers.set(signal, set);
    signal.addEventListener(
      "abort",
      () => {
        for (const c of [...set]) c();
        set.clear();
      },
      { once: true },
    );
  }
  const own = callbacks;
  // A wrapper of its own, so one callback subscribed twice is two subscriptions.
  const entry = () => callback();
  own.add(entry);
  return () => own.delete(entry);
}
