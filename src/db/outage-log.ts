/**
 * A database outage in the log: one line when it starts (the error's message without a stack: the
 * cause is the database, not the code), then a count per interval while it lasts, then one line when
 * it ends. A line per failure, each with its stack, wrote hundreds of lines a second under load.
 */
import type { Logger } from "pino";

export interface OutageLog {
  /** One of the counted operations failed because the database is away (isDatabaseUnavailable). */
  failed(error: unknown): void;
  /**
   * The database answered a call made at `since` (the clock's time): if that was after the last
   * failure, the outage is over, and this returns true. A call made before it may have run on a
   * connection the outage had not cut yet, and says nothing of the database now (it ended an
   * outage 1 ms after its start).
   */
  answered(since: number): boolean;
  /** The process is closing: no more lines, no more probes. */
  stop(): void;
}

export interface OutageLogOptions {
  /** What is counted, as it reads in the lines ("requests refused"). */
  counting: string;
  /** What the process does meanwhile, for the first line ("answering 503 until it is back"). */
  meanwhile: string;
  /** A count is logged this often while the outage lasts. */
  intervalMs?: number;
  /**
   * Asks the database (every `probeMs` while an outage is on), for a caller that has no other way
   * to learn it is back: the HTTP server sees only requests, and /health or /metrics succeeding
   * says nothing of the database.
   */
  probe?: () => Promise<boolean>;
  probeMs?: number;
  now?: () => number;
}

interface Outage {
  since: number;
  lastFailure: number;
  total: number;
  /** Counted since the last line, logged at `lineAt`. */
  sinceLine: number;
  lineAt: number;
  /** The count's, and the probe's. */
  timers: NodeJS.Timeout[];
}

export function createOutageLog(
  logger: Logger,
  { counting, meanwhile, intervalMs = 10_000, probe, probeMs = 1_000, now = Date.now }: OutageLogOptions,
): OutageLog {
  let outage: Outage | undefined;
  let probing = false;

  function count(): void {
    if (!outage || outage.sinceLine === 0) return;
    const t = now();
    logger.warn({ count: outage.sinceLine }, `database still unavailable: ${outage.sinceLine} ${counting} in the last ${seconds(t - outage.lineAt)}`);
    outage.sinceLine = 0;
    outage.lineAt = t;
  }

  function probeOnce(check: () => Promise<boolean>): void {
    if (probing) return;
    probing = true;
    const since = now();
    check()
      .then(
        (up) => up && answered(since),
        () => {},
      )
      .finally(() => {
        probing = false;
      });
  }

  const every = (ms: number, tick: () => void) => {
    const timer = setInterval(tick, ms);
    timer.unref();
    return timer;
  };

  function failed(error: unknown): void {
    const t = now();
    if (!outage) {
      const reason = error instanceof Error ? error.message : String(error);
      const code = error instanceof Error && "code" in error && typeof error.code === "string" ? error.code : undefined;
      logger.warn({ reason, ...(code && { code }) }, `database unavailable: ${reason}; ${meanwhile}`);
      const timers = [every(intervalMs, count), ...(probe ? [every(probeMs, () => probeOnce(probe))] : [])];
      outage = { since: t, lastFailure: t, total: 0, sinceLine: 0, lineAt: t, timers };
    }
    outage.lastFailure = t;
    outage.total++;
    outage.sinceLine++;
  }

  function end(): void {
    for (const timer of outage?.timers ?? []) clearInterval(timer);
    outage = undefined;
  }

  function answered(since: number): boolean {
    if (!outage || since <= outage.lastFailure) return false;
    const lasted = now() - outage.since;
    logger.info({ count: outage.total, outage_ms: lasted }, `database available again after ${seconds(lasted)}: ${outage.total} ${counting} in all`);
    end();
    return true;
  }

  return { failed, answered, stop: end };
}

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;
