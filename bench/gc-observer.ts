/**
 * Loaded into a server under test with `--import` (`npm run bench:threads -- --gc`): records the main
 * thread's garbage-collection pauses and writes them, every 100 ms, to the JSON file named by
 * HOOKLINE_BENCH_GC_FILE, as `GcLog`. A pause stops the main thread's event loop — no claim, no
 * record, no answer taken from the webhook thread meanwhile — so its length matters beside its
 * CPU. Other threads (the webhook thread inherits `--import`) record nothing.
 */
import fs from "node:fs";
import { constants, PerformanceObserver } from "node:perf_hooks";
import { isMainThread } from "node:worker_threads";

/** Every pause so far, in ms, by kind (minor: a scavenge; major: a mark-compact). */
export interface GcLog {
  minor: number[];
  major: number[];
  incremental: number[];
}

const file = process.env.HOOKLINE_BENCH_GC_FILE;
if (isMainThread && file) {
  const log: GcLog = { minor: [], major: [], incremental: [] };
  const kinds: Record<number, keyof GcLog> = {
    [constants.NODE_PERFORMANCE_GC_MINOR]: "minor",
    [constants.NODE_PERFORMANCE_GC_MAJOR]: "major",
    [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: "incremental",
  };
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      // Node puts the collection's kind in `detail` (its typings for Node 20 do not say so).
      const kind = kinds[(entry as { detail?: { kind?: number } }).detail?.kind ?? -1];
      if (kind) log[kind].push(entry.duration);
    }
  }).observe({ entryTypes: ["gc"] });
  // Written aside and renamed, so that a reader never sees half a log.
  setInterval(() => {
    fs.writeFileSync(`${file}.new`, JSON.stringify(log));
    fs.renameSync(`${file}.new`, file);
  }, 100).unref();
}
