/**
 * The floor: the least server that does Hookline's work per event with Hookline's parts — a yardstick
 * for what Hookline's own code costs, not a product. node:http ingest, one event per request or a
 * batch (`/api/v1/events/batch`, as Hookline's); the events and their instances
 * inserted in a transaction shared by concurrent requests (better-sqlite3, WAL) and fsynced on libuv's
 * pool before the 202, as Hookline's are; a POST with Standard Webhooks headers through an undici
 * Pool, 64 in flight; the attempt recorded (its request headers, status and answer) with the
 * instance's new state, sharing commits but not waiting for an fsync, as Hookline's records do; 5xx
 * retried up to 5 attempts, 4xx not.
 *
 * Everything else Hookline does is left out: API keys, validation against the catalogue, matching
 * triggers to actions, leases, the attempt log's redaction, metrics, logs, a thread for webhooks. One
 * account, one action, one thread.
 *
 *   FLOOR_DB=/tmp/x.sqlite FLOOR_TARGET=http://… node dist-bench/bench/floor.js   → logs {"port":N} listening
 */
import { createHmac, randomBytes } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import SQLite from "better-sqlite3";
import { Pool } from "undici";

const IN_FLIGHT = 64;
const MAX_ATTEMPTS = 5;
const BODY_LIMIT = 1_048_576;
const MAX_BATCH = 500;

const file = process.env.FLOOR_DB ?? "";
const target = new URL(process.env.FLOOR_TARGET ?? "");

const db = new SQLite(file);
db.pragma("journal_mode = WAL");
db.pragma("synchronous = NORMAL"); // each durable commit's WAL fsync is ours, off the event loop
db.exec(`
  CREATE TABLE events (id TEXT PRIMARY KEY, type TEXT NOT NULL, object TEXT NOT NULL, created_at INTEGER NOT NULL);
  CREATE TABLE instances (id TEXT PRIMARY KEY, event_id TEXT NOT NULL REFERENCES events(id), state TEXT NOT NULL,
    attempts INTEGER NOT NULL, next_attempt_at INTEGER NOT NULL, last_status INTEGER, updated_at INTEGER NOT NULL);
  CREATE INDEX instances_due ON instances (next_attempt_at) WHERE state IN ('pending', 'retrying');
  CREATE TABLE attempts (id TEXT PRIMARY KEY, instance_id TEXT NOT NULL REFERENCES instances(id), status INTEGER,
    request_headers TEXT NOT NULL, response_body TEXT, error TEXT, started_at INTEGER NOT NULL, duration_ms REAL NOT NULL);
  CREATE INDEX attempts_instance ON attempts (instance_id);
`);
const insertEvent = db.prepare("INSERT INTO events VALUES (?, ?, ?, ?)");
const insertInstance = db.prepare("INSERT INTO instances (id, event_id, state, attempts, next_attempt_at, updated_at) VALUES (?, ?, 'pending', 0, ?, ?)");
const insertAttempt = db.prepare("INSERT INTO attempts VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
const finishAttempt = db.prepare("UPDATE instances SET state = ?, attempts = attempts + 1, last_status = ?, next_attempt_at = ?, updated_at = ? WHERE id = ?");
const begin = db.prepare("BEGIN");
const commit = db.prepare("COMMIT");

let sequence = 0;
const newId = (prefix: string) => `${prefix}_${Date.now().toString(36)}${(sequence++).toString(36).padStart(6, "0")}`;

/** Writes of concurrent callers share one transaction; `durable` ones wait for the WAL's fsync. */
interface Unit {
  write(): void;
  durable: boolean;
  done(): void;
}
let queued: Unit[] = [];
let walFd: number | undefined;
function commitQueued(): void {
  const units = queued;
  queued = [];
  begin.run();
  for (const unit of units) unit.write();
  commit.run();
  const waiting = units.filter((u) => u.durable);
  for (const unit of units) if (!unit.durable) unit.done();
  if (waiting.length === 0) return;
  walFd ??= fs.openSync(`${file}-wal`, "r");
  fs.fsync(walFd, (error) => {
    if (error) throw error;
    for (const unit of waiting) unit.done();
  });
}
function write(durable: boolean, writeIt: () => void): Promise<void> {
  return new Promise((done) => {
    if (queued.length === 0) setImmediate(commitQueued);
    queued.push({ write: writeIt, durable, done });
  });
}

interface Instance {
  id: string;
  body: string;
  attempts: number;
}

const pool = new Pool(target.origin, { connections: IN_FLIGHT });
const secret = randomBytes(32);
/** Instances waiting for a slot, oldest first from `head` (a batch's backlog can be long: no shift()). */
let waiting: Instance[] = [];
let head = 0;
let inFlight = 0;

function nextWaiting(): Instance | undefined {
  const next = waiting[head];
  if (next === undefined) return undefined;
  head++;
  if (head === waiting.length) {
    waiting = [];
    head = 0;
  }
  return next;
}

function deliver(instance: Instance): void {
  if (inFlight >= IN_FLIGHT) waiting.push(instance);
  else void attempt(instance);
}

async function attempt(instance: Instance): Promise<void> {
  inFlight++;
  const startedAt = Date.now();
  const timestamp = Math.floor(startedAt / 1000);
  const signature = createHmac("sha256", secret).update(`${instance.id}.${timestamp}.${instance.body}`).digest("base64");
  const headers = {
    "content-type": "application/json",
    "webhook-id": instance.id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": `v1,${signature}`,
  };
  let status: number | null = null;
  let answer: string | null = null;
  let error: string | null = null;
  try {
    const res = await pool.request({ method: "POST", path: target.pathname, headers, body: instance.body, headersTimeout: 15_000, bodyTimeout: 15_000 });
    status = res.statusCode;
    answer = await res.body.text();
  } catch (e) {
    error = String(e);
  }
  inFlight--;
  const next = nextWaiting();
  if (next) void attempt(next);
  const durationMs = Date.now() - startedAt;
  instance.attempts++;
  const retry = (status === null || status >= 500) && instance.attempts < MAX_ATTEMPTS;
  const state = status !== null && status < 300 ? "succeeded" : retry ? "retrying" : "failed";
  const nextAt = retry ? Date.now() + 1_000 * 2 ** instance.attempts : startedAt;
  await write(false, () => {
    insertAttempt.run(newId("att"), instance.id, status, JSON.stringify(headers), answer, error, startedAt, durationMs);
    finishAttempt.run(state, status, nextAt, Date.now(), instance.id);
  });
  if (retry) setTimeout(() => deliver(instance), nextAt - Date.now());
}

function answer(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

/** An event as the floor takes it: a type and a data object, nothing checked beyond that. */
function eventOf(value: unknown): { type: string; data: Record<string, unknown> } | undefined {
  const event = value as { type?: unknown; data?: unknown } | null;
  if (typeof event?.type !== "string" || typeof event.data !== "object" || event.data === null) return undefined;
  return { type: event.type, data: event.data as Record<string, unknown> };
}

/**
 * Stores the events of one request in one durable unit (all or none, as Hookline's batch is),
 * answers 202 once they are on disk, then delivers their instances.
 */
function store(res: http.ServerResponse, events: { type: string; data: Record<string, unknown> }[], batch: boolean): void {
  const now = Date.now();
  const rows = events.map(({ type, data }) => {
    const eventId = newId("evt");
    const instanceId = newId("ins");
    const instance: Instance = { id: instanceId, body: JSON.stringify({ apptoto_id: instanceId, type, ...data }), attempts: 0 };
    return { eventId, type, object: JSON.stringify(data), instance };
  });
  write(true, () => {
    for (const row of rows) {
      insertEvent.run(row.eventId, row.type, row.object, now);
      insertInstance.run(row.instance.id, row.eventId, now, now);
    }
  }).then(() => {
    const ids = rows.map((row) => ({ id: row.eventId, instances: 1 }));
    answer(res, 202, batch ? { events: ids } : ids[0]);
    for (const row of rows) deliver(row.instance);
  });
}

const ROUTES: Record<string, boolean> = { "/api/v1/events": false, "/api/v1/events/batch": true };

const server = http.createServer((req, res) => {
  const batch = ROUTES[req.url ?? ""];
  if (req.method !== "POST" || batch === undefined) return answer(res, 404, { error: "not found" });
  const chunks: Buffer[] = [];
  let size = 0;
  req.on("data", (chunk: Buffer) => {
    size += chunk.length;
    if (size <= BODY_LIMIT) chunks.push(chunk);
  });
  req.on("end", () => {
    let body: unknown;
    try {
      if (size > BODY_LIMIT) return answer(res, 413, { error: "body too large" });
      body = JSON.parse(Buffer.concat(chunks).toString());
    } catch {
      return answer(res, 400, { error: "malformed JSON" });
    }
    const given = batch ? (body as { events?: unknown } | null)?.events : [body];
    if (!Array.isArray(given) || given.length === 0 || given.length > MAX_BATCH) return answer(res, 400, { error: `events must be 1 to ${MAX_BATCH} events` });
    const events = given.map(eventOf);
    if (events.some((e) => e === undefined)) return answer(res, 400, { error: "type and data are required" });
    store(res, events as { type: string; data: Record<string, unknown> }[], batch);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })} listening\n`);
});
process.once("SIGTERM", () => {
  server.close();
  void pool.close().then(() => {
    db.close();
    process.exit(0);
  });
});
