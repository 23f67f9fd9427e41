/**
 * A database outage in the log: one line when it starts (the error's message without a stack: the
 * cause is the database, not the code), then a count per interval while it lasts, then one line when
 * it ends. A line per failure, each with its stack, wrote hundreds of lines a second under load.
 */
import type { Logger } from "pino";

export interface OutageLog {
  /** One of the counted operations failed because the database is away (isDatabaseUnavailable). */
  failed(error: unknown): void;
  /** The database answered: the outage, if one is on, is over. */
  answered(): void;
  /** The process is closing: no more lines, no more probes. */
  stop(): void;
}

export interface OutageLogOptions {
  /** What is counted, as it reads in the lines ("requests refused"). */
  counting: string;
  /** What the process does meanwhile, for the first line ("answering 503"). */
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

export function createOutageLog(
  logger: Logger,
  { counting, meanwhile, intervalMs = 10_000, probe, probeMs = 1_000, now = Date.now }: OutageLogOptions,
): OutageLog {
  let outage: { since: number; total: number; sinceLine: number; lineAt: number; timer: NodeJS.Timeout } | undefined;
  let probing = false;

  function tick(): void {
    if (!outage) return;
    const t = now();
    if (outage.sinceLine > 0 && t - outage.lineAt >= intervalMs) {
      logger.warn({ count: outage.sinceLine }, `database still unavailable: ${outage.sinceLine} ${counting} in the last ${seconds(t - outage.lineAt)}`);
      outage.sinceLine = 0;
      outage.lineAt = t;
    }
    if (probe && !probing) {
      probing = true;
      probe()
        .then((up) => up && answered(), () => {})
        .finally(() => {
          probing = false;
        });
    }
  }

  function failed(error: unknown): void {
    if (!outage) {
      const t = now();
      const reason = error instanceof Error ? error.message : String(error);
      const code = (error as { code?: unknown } | null)?.code;
      logger.warn({ reason, ...(typeof code === "string" && { code }) }, `database unavailable: ${reason}; ${meanwhile} until it is back`);
      const timer = setInterval(tick, probe ? Math.min(probeMs, intervalMs) : intervalMs);
      timer.unref();
      outage = { since: t, total: 0, sinceLine: 0, lineAt: t, timer };
    }
    outage.total++;
    outage.sinceLine++;
  }

  function answered(): void {
    if (!outage) return;
    clearInterval(outage.timer);
    const lasted = now() - outage.since;
    logger.info({ count: outage.total, outage_ms: lasted }, `database available again after ${seconds(lasted)}: ${outage.total} ${counting} in all`);
    outage = undefined;
  }

  return {
    failed,
    answered,
    stop() {
      if (outage) clearInterval(outage.timer);
      outage = undefined;
    },
  };
}

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;
