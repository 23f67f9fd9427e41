/**
 * The worker's records, held until they commit, and the database's health as the worker sees it:
 * a record that cannot be written (the database is away) is retried, backing off, until it is, and
 * at once when any of the worker's queries (a claim, a renewal, another record) answers again. The
 * outage itself is logged once, then counted (db/outage-log.ts), not a line with a stack per query.
 */
import type { Logger } from "pino";
import type { AttemptRecord, AttemptRecorder } from "../attempts/attempts.js";
import { createOutageLog } from "../db/outage-log.js";
import { isDatabaseUnavailable } from "../db/unavailable.js";
import { pause } from "../pause.js";

/** A record that failed to commit is retried after 0.25 s, doubling up to 5 s. */
const RECORD_RETRY_MS = [250, 5_000] as const;

export interface HeldRecords {
  /**
   * Writes `record`, retrying until it commits (true), or until `stop` aborts (false: the expired
   * lease then makes the instance due again, at-least-once).
   */
  write(record: AttemptRecord, fields: { instance: string }): Promise<boolean>;
  /** A query failed: the database away is an outage, logged as one; anything else is a fault, with its stack. */
  failed(err: unknown, message: string, fields?: Record<string, unknown>): void;
  /** A query made at `since` succeeded: an outage it ends lets the records waiting for it go now. */
  answered(since: number): void;
  /** No more lines about the outage. */
  stop(): void;
}

export interface HeldRecordsDeps {
  recorder: AttemptRecorder;
  logger: Logger;
  /** Aborted at the end of shutdown's grace: records still failing are given up. */
  stop: AbortSignal;
  now?: () => number;
}

export function createHeldRecords({ recorder, logger, stop, now = Date.now }: HeldRecordsDeps): HeldRecords {
  /** Aborted when the database answers again: records waiting to retry go at once. */
  let retry = new AbortController();
  let waiting = 0;
  const outage = createOutageLog(logger, {
    counting: "claims, renewals and records failed",
    meanwhile: "deliveries wait until it is back, and answers already received are held for the log",
    now,
  });

  function failed(err: unknown, message: string, fields: Record<string, unknown> = {}): void {
    if (isDatabaseUnavailable(err)) outage.failed(err);
    else logger.error({ ...fields, err }, message);
  }

  function answered(since: number): void {
    if (!outage.answered(since) || waiting === 0) return;
    retry.abort();
    retry = new AbortController();
  }

  async function write(record: AttemptRecord, fields: { instance: string }): Promise<boolean> {
    for (let delay: number = RECORD_RETRY_MS[0]; ; delay = Math.min(delay * 2, RECORD_RETRY_MS[1])) {
      try {
        const since = now();
        await recorder(record);
        answered(since);
        return true;
      } catch (err) {
        failed(err, "could not record attempt; retrying", fields);
        if (stop.aborted) return false;
        waiting++;
        await pause(delay, AbortSignal.any([stop, retry.signal]));
        waiting--;
      }
    }
  }

  return { write, failed, answered, stop: () => outage.stop() };
}
