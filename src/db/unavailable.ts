/**
 * Tells a database that is away (restarting, unreachable, refusing connections) from a query that
 * is wrong. The first is the caller's cue to answer 503 and try again later; the second is a bug.
 */

/** PostgreSQL SQLSTATEs that mean "not now": connection exceptions (08…), shutdown, too many connections. */
const PG_UNAVAILABLE = /^(08|57P0[123]$|53300$)/;
const NODE_UNAVAILABLE = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN"]);
/** node-postgres reports a lost or unobtainable connection by message only. */
const PG_CLIENT_MESSAGES = /Connection terminated|connection error|not queryable|timeout exceeded when trying to connect|Client was closed/i;
/** SQLite: the file is locked by another process past busy_timeout, or the disk failed or is full. */
const SQLITE_UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN)/;

export function isDatabaseUnavailable(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && (PG_UNAVAILABLE.test(code) || NODE_UNAVAILABLE.has(code) || SQLITE_UNAVAILABLE.test(code))) return true;
    if (PG_CLIENT_MESSAGES.test(e.message)) return true;
    // A connection refused to every address of a host arrives as an AggregateError.
    if (e instanceof AggregateError && e.errors.some(isDatabaseUnavailable)) return true;
  }
  return false;
}
