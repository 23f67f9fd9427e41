/**
 * WAL checkpoints on a thread of their own. A checkpoint copies the WAL into the database file and
 * fsyncs both; run by the committing connection (SQLite's automatic checkpoint) it stalled the event
 * loop for milliseconds at a time, and those stalls were the p99 of delivery latency. Here a second
 * connection on a worker thread runs a PASSIVE checkpoint (it never blocks writers) every 200 ms,
 * which costs next to nothing when there is nothing to copy; the main connection keeps automatic
 * checkpoints only as a backstop for a WAL that outgrows that (see connect.ts).
 */
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

const INTERVAL_MS = 200;

// CommonJS source for the thread: runs from src/ (tests) and dist/ alike, with no file to locate.
const THREAD = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma("busy_timeout = 1000");
db.pragma("synchronous = NORMAL"); // a checkpoint fsyncs the WAL before and the database after
const timer = setInterval(() => {
  try {
    db.pragma("wal_checkpoint(PASSIVE)");
  } catch {
    // busy or locked: the next round will do
  }
}, workerData.intervalMs);
parentPort.on("message", () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export interface Checkpointer {
  stop(): Promise<void>;
}

export function startCheckpointer(file: string): Checkpointer {
  const driver = createRequire(import.meta.url).resolve("better-sqlite3");
  const worker = new Worker(THREAD, { eval: true, workerData: { file, driver, intervalMs: INTERVAL_MS } });
  worker.unref();
  const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
  // A failing checkpoint thread costs only the stall it was there to avoid: the backstop takes over.
  worker.on("error", () => {});
  return {
    async stop() {
      // Unreferenced, the thread would not keep the process alive while we wait for it: the process
      // could end right here, before the caller's next step (a CLI command exited 0 past its error).
      worker.ref();
      worker.postMessage("stop");
      await exited;
    },
  };
}
