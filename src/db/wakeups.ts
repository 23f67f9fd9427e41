/**
 * Wake-ups across processes (PostgreSQL): an API process that commits new instances announces it
 * with NOTIFY, and every worker LISTENing wakes at once instead of at its next poll. Polling stays
 * as the fallback, so a lost notification only costs latency, never work.
 */
import { sql } from "kysely";
import type { Logger } from "pino";
import { pause } from "../pause.js";
import { createOutageLog } from "./outage-log.js";
import type { Db } from "./schema.js";
import { isDatabaseUnavailable } from "./unavailable.js";

const CHANNEL = "hookline_work";
const RECONNECT_MS = [250, 5_000] as const;

/** Announces new work to other processes; calls within one tick share one NOTIFY. */
export function createAnnouncer(db: Db, logger: Logger): () => void {
  let scheduled = false;
  return () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      // Best effort: the workers' poll finds the work anyway.
      sql`select pg_notify(${CHANNEL}, '')`.execute(db).catch((err: unknown) => logger.debug({ err }, "could not announce new work"));
    });
  };
}

/**
 * Calls `onWork` whenever another process announces work, until `signal` aborts. Keeps one
 * connection of its own and reconnects when it is lost (a database restart); after reconnecting
 * it calls `onWork` once, for whatever was announced while nobody listened.
 */
export async function listenForWork(url: string, onWork: () => void, { logger, signal }: { logger: Logger; signal: AbortSignal }): Promise<void> {
  const { default: pg } = await import("pg"); // PostgreSQL only (connect.ts)
  // The database away is an outage, logged once; anything else is worth its stack each time.
  const outage = createOutageLog(logger, { counting: "reconnections failed", meanwhile: "polling for new work until it is back" });
  const failed = (err: unknown, message: string) => {
    if (isDatabaseUnavailable(err)) outage.failed(err);
    else logger.warn({ err }, message);
  };
  for (let delay: number = RECONNECT_MS[0]; !signal.aborted; ) {
    // A connect that hangs (a server half-way through starting or stopping) must not stop us listening.
    const client = new pg.Client({ connectionString: url, keepAlive: true, connectionTimeoutMillis: 5_000 });
    const lost = new Promise<void>((resolve) => {
      // `on`, not `once`: a dying connection can emit several errors, and an unheard one kills the process.
      client.on("error", (err) => {
        failed(err, "lost the connection that listens for new work; reconnecting");
        resolve();
      });
      client.once("end", () => resolve());
      signal.addEventListener("abort", () => resolve(), { once: true });
    });
    const since = Date.now();
    try {
      await client.connect();
      client.on("notification", () => onWork());
      await client.query(`LISTEN ${CHANNEL}`);
      outage.answered(since);
      delay = RECONNECT_MS[0];
      onWork();
      await lost;
    } catch (err) {
      failed(err, "could not listen for new work; polling meanwhile");
    }
    await client.end().catch(() => {});
    if (signal.aborted) break;
    await pause(delay, signal);
    delay = Math.min(delay * 2, RECONNECT_MS[1]);
  }
  outage.stop();
}
