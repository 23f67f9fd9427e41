/**
 * Attempts: the record of each try. An attempt row and its instance's new state are written in the
 * same transaction, batched across concurrent deliveries (one commit for many attempts).
 */
import type { Committer } from "../db/committer.js";
import type { Executor, NewAttempt } from "../db/schema.js";
import { type Batch, insertBehind, WRITE_ORDER, writeBehind } from "../db/write-behind.js";
import type { IdGenerator } from "../ids.js";
import { type Completion, completeAttempts, countLateAttempts } from "../queue/complete.js";
import { storedHeaders } from "./headers.js";

/**
 * What an attempt exchanged with its target, as the log keeps it: declared here, where it is
 * recorded, so the record depends on no sender (each sender's AttemptResult extends it).
 */
export interface AttemptExchange {
  /**
   * What was sent, for the log: method/url/headers for a webhook (its body is the instance's payload),
   * the same and the form fields for an SMS, envelope and message for email.
   */
  request: Record<string, unknown>;
  /** What came back: HTTP status or SMTP reply code, headers, body (truncated at the cap). */
  response?: { status: number; headers: Record<string, string | string[]>; body: string; truncated: boolean };
  error?: string;
  startedAt: number;
  durationMs: number;
}

export interface AttemptRecord {
  completion: Completion;
  attempt: Omit<Required<NewAttempt>, "id">;
}

function withStoredHeaders(request: Record<string, unknown>): Record<string, unknown> {
  const headers = request.headers as Record<string, unknown> | undefined;
  return headers ? { ...request, headers: storedHeaders(headers) } : request;
}

export function attemptRow(
  instance: { id: string; accountId: string; series: number; seriesAttempts: number },
  result: AttemptExchange,
  outcome: NewAttempt["outcome"],
): Omit<Required<NewAttempt>, "id"> {
  return {
    instance_id: instance.id,
    account_id: instance.accountId,
    series: instance.series,
    number: instance.seriesAttempts + 1,
    started_at: result.startedAt,
    duration_ms: result.durationMs,
    outcome,
    request: JSON.stringify(withStoredHeaders(result.request)),
    response_status: result.response?.status ?? null,
    response_headers: result.response ? JSON.stringify(storedHeaders(result.response.headers)) : null,
    response_body: result.response?.body ?? null,
    response_body_truncated: result.response?.truncated ? 1 : 0,
    error: result.error ?? null,
  };
}

/**
 * Records an attempt; resolves to false when the instance was no longer this worker's (its attempt
 * is logged all the same, while the instance exists: see recordBatch).
 */
export type AttemptRecorder = (record: AttemptRecord) => Promise<boolean>;

/**
 * A record needs its commit visible, not yet on disk (the claim's reasoning, committer.ts): if the
 * machine loses the commit, the instance is still leased in what the disk holds, falls due when that
 * lease ends, and is attempted again — at least once, as after a crash mid-attempt. (A killed process
 * loses nothing: the kernel has the commit.) Waiting for the WAL's fsync as well cost an fsync per
 * batch of records while a backlog drains, when nothing else needs the disk, and held each attempt
 * (its slot's claim, its objects) for the disk's slowest moments. Records reach
 * the disk with the next commit that waits for it, or the next checkpoint (every 200 ms), which
 * syncs the WAL first.
 */
export function createAttemptRecorder(committer: Committer, { newId }: { newId: IdGenerator }): AttemptRecorder {
  const records = recordBatch(newId);
  return (record) =>
    committer
      .run(
        async (trx) => {
          const written: Written = { record, held: false };
          await writeBehind(trx, records, [written]);
          return written;
        },
        { durable: false },
      )
      .then((written) => written.held);
}

interface Written {
  record: AttemptRecord;
  /** Set once written: the instance was still this worker's, and the record set its new state. */
  held: boolean;
}

/**
 * Records written together at the end of their transaction (db/write-behind.ts): the completions
 * in one statement, then the attempts of those that took effect and of those logged late.
 */
function recordBatch(newId: IdGenerator): Batch<Written> {
  return {
    order: WRITE_ORDER.records,
    async write(db, items) {
      const held = await completeAttempts(
        db,
        items.map((w) => w.record.completion),
      );
      const [taken, missed] = partition(items, (w) => held.has(w.record.completion.instanceId));
      for (const w of taken) w.held = true;
      const logged = [...taken, ...(await lateRecords(db, missed))];
      await insertBehind(
        db,
        "attempts",
        logged.map((w) => ({ id: newId("att"), ...w.record.attempt })),
      );
    },
  };
}

function partition<T>(items: readonly T[], test: (item: T) => boolean): [T[], T[]] {
  const yes: T[] = [];
  const no: T[] = [];
  for (const item of items) (test(item) ? yes : no).push(item);
  return [yes, no];
}

const attemptKey = (a: { instance_id: string; series: number; number: number; started_at: number | string }) =>
  `${a.instance_id}/${a.series}/${a.number}/${Number(a.started_at)}`;

/**
 * Of the records whose completion did not take, those to log late. A record whose attempt is in the
 * log already is not one: its first commit landed but the answer was lost with the connection, and
 * its retry finds its own lease gone. The others' claims were lost: another worker took the instance
 * after the lease ran out while the database was away. They reached their receiver all the same, so
 * they are counted and logged, while the instance's state stays the newer claim's
 * (countLateAttempts). An instance deleted with its action has no log left to write to.
 */
async function lateRecords(db: Executor, records: Written[]): Promise<Written[]> {
  if (records.length === 0) return [];
  const inLog = await db
    .selectFrom("attempts")
    .select(["instance_id", "series", "number", "started_at"])
    .where(
      "instance_id",
      "in",
      records.map((w) => w.record.completion.instanceId),
    )
    .execute();
  const logged = new Set(inLog.map(attemptKey));
  const [landed, late] = partition(records, (w) => logged.has(attemptKey(w.record.attempt)));
  for (const w of landed) w.held = true;
  if (late.length === 0) return [];
  const counted = await countLateAttempts(
    db,
    late.map((w) => w.record.completion),
  );
  return late.filter((w) => counted.has(w.record.completion.instanceId));
}
