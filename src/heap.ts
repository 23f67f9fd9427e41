/**
 * How far V8 lets a heap grow between full collections. By default the old generation may grow to
 * four times what the last full collection left live; a server under load promotes short-lived
 * garbage (requests and attempts in flight) quickly, so its heap sits far above what is live.
 * Growing by half keeps the process near what it uses, at no measurable cost in throughput (see
 * docs/PERFORMANCE.md, item 25).
 *
 * The flag is process-wide (the webhook thread's heap follows it too), so only the `hookline`
 * command sets it, for the process it owns; an embedder of `startHookline` keeps its own settings.
 */
import v8 from "node:v8";

export const HEAP_GROWING_PERCENT = 50;

/**
 * Sets V8's heap growth to HEAP_GROWING_PERCENT, unless the process was started with a growth of its
 * own (`node --heap-growing-percent=N`). Returns whether it set it. Must run early: V8 applies it
 * when it next sizes the heap after a full collection.
 */
export function tuneHeapGrowth(execArgv: readonly string[] = process.execArgv): boolean {
  if (execArgv.some((arg) => /^--heap[-_]growing[-_]percent\b/.test(arg))) return false;
  v8.setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  return true;
}
