/**
 * Scale-out on PostgreSQL: separate `api` and `worker` processes (the built `hookline serve`) on one
 * database, a real receiver on loopback. Workers are killed with SIGKILL and the database is
 * restarted mid-run; every acknowledged event must still be delivered, and twice only when the
 * first delivery was an attempt in flight at the kill.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import pg from "pg";
import { expect, it } from "vitest";
import { HooklineApiError, HooklineClient } from "../src/client/index.js";
import { HOLD_FACTOR } from "../src/deliver/endpoint-gate.js";
import { cleanupsAfterEach } from "./helpers/cleanups.js";
import { eventually, freshPostgresDatabase, tempDir } from "./helpers/hookline.js";
import { startCluster } from "./helpers/postgres-cluster.js";
import { runCli, type ServerProcess, startServer } from "./helpers/process.js";
import { type Receiver, startReceiver } from "./helpers/receiver.js";

const onCleanup = cleanupsAfterEach({ ignoreErrors: true });

/** What every process of one deployment shares: the database, and the key that seals secrets. */
function deploymentEnv(databaseUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  const dataDir = tempDir();
  onCleanup(async () => fs.rmSync(dataDir, { recursive: true, force: true }));
  return {
    HOOKLINE_DATABASE_URL: databaseUrl,
    HOOKLINE_DATA_DIR: dataDir,
    HOOKLINE_SECRET_KEY: crypto.randomBytes(32).toString("base64"),
    HOOKLINE_ALLOWED_NETWORKS: "127.0.0.0/8",
    HOOKLINE_RETRY_SCHEDULE: "0.2,0.2,0.2,0.2",
    HOOKLINE_RETRY_JITTER: "0",
    HOOKLINE_REQUEST_TIMEOUT: "2",
    HOOKLINE_LEASE_MARGIN: "1",
    HOOKLINE_POLL_INTERVAL: "0.5",
    HOOKLINE_LOG_LEVEL: "info",
    HOOKLINE_RATE_LIMIT_INGEST: "0",
    HOOKLINE_RATE_LIMIT_API: "0",
    ...extra,
  };
}

async function serve(env: Record<string, string>, role: "api" | "worker"): Promise<ServerProcess> {
  const server = await startServer({ ...env, HOOKLINE_ROLE: role });
  onCleanup(async () => {
    server.child.kill("SIGKILL");
    await server.exited;
  });
  return server;
}

async function receiver(): Promise<Receiver> {
  const r = await startReceiver();
  onCleanup(() => r.close());
  return r;
}

/** An account, a trigger and a webhook action to `url`, made through the API process. */
async function setUp(env: Record<string, string>, api: ServerProcess, url: string): Promise<HooklineClient> {
  const { stdout } = await runCli(["accounts", "create", "scale", "--json"], env);
  const client = new HooklineClient({ baseUrl: `http://127.0.0.1:${api.port}`, apiKey: (JSON.parse(stdout) as { api_key: string }).api_key });
  const trigger = await client.createTrigger({ name: "scale", type: "participant.confirmed" });
  await client.createAction(trigger.id, { name: "receiver", type: "webhook", url });
  return client;
}

/** Ingests participants `from`..`to` in batches of 100, three requests at a time. */
async function ingestRange(client: HooklineClient, from: number, to: number): Promise<void> {
  const batches: number[][] = [];
  for (let i = from; i <= to; i += 100) batches.push(Array.from({ length: Math.min(100, to - i + 1) }, (_, k) => i + k));
  const next = async (): Promise<void> => {
    for (let batch = batches.shift(); batch; batch = batches.shift()) {
      await client.ingestBatch(batch.map((id) => ({ type: "participant.confirmed" as const, data: { participant: { id } } })));
    }
  };
  await Promise.all([next(), next(), next()]);
}

const participantOf = (body: string) => (JSON.parse(body) as { participant: { id: number } }).participant.id;

async function attemptsMade(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return [...text.matchAll(/^hookline_attempts_total\{[^}]*\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
}

async function unfinishedRows(databaseUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>("select count(*) as n from instances where state <> 'succeeded' or lease_token is not null");
    return Number(rows[0]?.n);
  } finally {
    await client.end();
  }
}

it("1 API and 3 worker processes deliver 3,000 events; a worker killed mid-run costs nothing but in-flight duplicates", async () => {
  const database = await freshPostgresDatabase();
  onCleanup(database.drop);
  const env = deploymentEnv(database.url, { HOOKLINE_CONCURRENCY: "8", HOOKLINE_ENDPOINT_CONCURRENCY: "8" });
  const r = await receiver();
  const firstArrival = new Map<number, number>();
  const duplicates: number[] = [];
  r.respond("/scale", (req, res) => {
    const id = participantOf(req.body);
    if (firstArrival.has(id)) duplicates.push(id);
    else firstArrival.set(id, req.at);
    // A little work per request, so the run lasts long enough to kill a worker in the middle of it.
    setTimeout(() => res.writeHead(200).end("ok"), 10);
    return undefined;
  });
  const api = await serve(env, "api");
  const workers = await Promise.all([serve(env, "worker"), serve(env, "worker"), serve(env, "worker")]);
  const client = await setUp(env, api, r.url("/scale"));

  await ingestRange(client, 1, 3_000);
  await eventually(async () => (firstArrival.size >= 800 ? true : undefined), 60_000);
  const killed = workers[0] as ServerProcess;
  killed.child.kill("SIGKILL");
  await killed.exited;
  // Requests the worker wrote just before it died can reach the receiver's handler a little later
  // (a few ms after the kill); a duplicate first delivered well after the kill would be a
  // surviving worker's double delivery, which is what this bound is here to catch.
  const sentBeforeTheKill = Date.now() + 1_000;
  expect(firstArrival.size).toBeLessThan(3_000); // the kill landed mid-run

  await eventually(async () => (firstArrival.size === 3_000 ? true : undefined), 90_000);
  const lost = Array.from({ length: 3_000 }, (_, i) => i + 1).filter((id) => !firstArrival.has(id));
  expect(lost).toEqual([]);
  // A duplicate is an attempt the killed worker had not yet recorded: first delivered before the kill.
  // Those are instances still leased to it — in flight, or answered and waiting for their record's
  // commit — and a worker holds at most HOLD_FACTOR times its concurrency (8) leased (worker.ts).
  expect(duplicates.length).toBeLessThanOrEqual(HOLD_FACTOR * 8);
  for (const id of duplicates) expect(firstArrival.get(id)).toBeLessThanOrEqual(sentBeforeTheKill);
  // The work was shared: both surviving workers delivered; the API process delivered nothing.
  expect(await attemptsMade((workers[1] as ServerProcess).port)).toBeGreaterThan(0);
  expect(await attemptsMade((workers[2] as ServerProcess).port)).toBeGreaterThan(0);
  expect(await attemptsMade(api.port)).toBe(0);
  await eventually(async () => ((await unfinishedRows(database.url)) === 0 ? true : undefined));
}, 180_000);

it("a PostgreSQL restart mid-run: 503 while it is away, then everything resumes and nothing is lost", async () => {
  const cluster = await startCluster();
  onCleanup(cluster.destroy);
  // No polling to lean on: wake-ups and the workers' own retry timers must carry the run.
  const env = deploymentEnv(cluster.url, { HOOKLINE_POLL_INTERVAL: "600" });
  const r = await receiver();
  const tries = new Map<number, number>();
  const delivered = new Set<number>();
  r.respond("/restart", (req) => {
    const id = participantOf(req.body);
    const n = (tries.get(id) ?? 0) + 1;
    tries.set(id, n);
    // Every first attempt fails, so retries are pending when the database goes.
    if (n === 1) return { status: 503 };
    delivered.add(id);
    return { status: 200 };
  });
  const api = await serve(env, "api");
  const worker = await serve(env, "worker");
  const client = await setUp(env, api, r.url("/restart"));

  await ingestRange(client, 1, 600);
  await eventually(async () => (delivered.size >= 50 ? true : undefined), 30_000);
  await cluster.stop();

  // A process that died says why: its last log lines go into the failure.
  const ready = async (server: ServerProcess) => {
    const answer = await fetch(`http://127.0.0.1:${server.port}/ready`).catch((e: unknown) => {
      throw new Error(`no answer (exit code ${server.child.exitCode}):\n${server.output().slice(-3_000)}`, { cause: e });
    });
    return answer.status;
  };
  expect(await ready(api)).toBe(503);
  expect(await ready(worker)).toBe(503);
  const metrics = await (await fetch(`http://127.0.0.1:${worker.port}/metrics`)).text();
  expect(metrics).toMatch(/^hookline_database_up 0$/m);
  expect(metrics).toMatch(/^hookline_attempts_total\{/m);
  const refused = await client.ingest({ type: "participant.confirmed", data: { participant: { id: 9_999 } } }).catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(HooklineApiError);
  expect(refused).toMatchObject({ status: 503, code: "database_unavailable" });
  await new Promise((resolve) => setTimeout(resolve, 1_500));

  await cluster.start();
  await eventually(async () => ((await ready(api)) === 200 && (await ready(worker)) === 200 ? true : undefined), 30_000);
  await ingestRange(client, 601, 700);
  await eventually(async () => (delivered.size === 700 ? true : undefined), 60_000);
  expect(delivered.has(9_999)).toBe(false);
  await eventually(async () => ((await unfinishedRows(cluster.url)) === 0 ? true : undefined));
  // Both processes rode it out: neither exited.
  expect(api.child.exitCode).toBeNull();
  expect(worker.child.exitCode).toBeNull();
}, 180_000);

/** Attempts logged per participant, read from the database the processes share. */
async function attemptsPerParticipant(databaseUrl: string): Promise<Map<number, number>> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ object: string; n: string }>(
      "select e.object, count(a.id) as n from events e join instances i on i.event_id = e.id left join attempts a on a.instance_id = i.id group by e.id, e.object",
    );
    return new Map(rows.map((row) => [(JSON.parse(row.object) as { id: number }).id, Number(row.n)]));
  } finally {
    await client.end();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it("PostgreSQL away for over three leases under load: nothing lost, nothing sent twice, every send in the log, and the outage in a few log lines", async () => {
  const cluster = await startCluster();
  onCleanup(cluster.destroy);
  // Lease: 2 s request timeout + 0.5 s margin, renewed every 0.83 s; claims tried every 0.1 s. The
  // worker's 16 slots keep up with the load, so it has room to claim as soon as the database is back.
  const env = deploymentEnv(cluster.url, {
    HOOKLINE_REQUEST_TIMEOUT: "2",
    HOOKLINE_LEASE_MARGIN: "0.5",
    HOOKLINE_POLL_INTERVAL: "0.1",
    HOOKLINE_CONCURRENCY: "16",
    HOOKLINE_ENDPOINT_CONCURRENCY: "16",
  });
  const r = await receiver();
  const sends = new Map<number, number>();
  r.respond("/outage", (req, res) => {
    const id = participantOf(req.body);
    sends.set(id, (sends.get(id) ?? 0) + 1);
    // Slow enough that attempts are always in flight when the database goes.
    setTimeout(() => res.writeHead(200).end("ok"), 300);
    return undefined;
  });
  const api = await serve(env, "api");
  const worker = await serve(env, "worker");
  const client = await setUp(env, api, r.url("/outage"));

  // Four clients ingest one event at a time, each retried after a 503 until acknowledged; the
  // idempotency key stores it once if a refused request's commit did land.
  const acknowledged = new Set<number>();
  let refused = 0;
  let next = 1;
  let loading = true;
  const load = async () => {
    while (loading) {
      const id = next++;
      for (;;) {
        const answer = await client
          .ingest({ type: "participant.confirmed", data: { participant: { id } }, idempotency_key: `p${id}` })
          .catch((e: unknown) => e);
        if (!(answer instanceof HooklineApiError)) break;
        expect(answer).toMatchObject({ status: 503, code: "database_unavailable" });
        refused++;
        await sleep(20);
      }
      acknowledged.add(id);
      await sleep(150);
    }
  };
  const loaders = [load(), load(), load(), load()];
  await eventually(async () => (sends.size >= 100 ? true : undefined), 30_000);
  const logFrom = { api: api.output().length, worker: worker.output().length };
  const stoppedAt = Date.now();
  await cluster.stop();
  await sleep(8_500);
  await cluster.start();
  const outageMs = Date.now() - stoppedAt;
  await sleep(2_000);
  loading = false;
  await Promise.all(loaders);

  await eventually(async () => ((await unfinishedRows(cluster.url)) === 0 ? true : undefined), 60_000);
  expect(refused).toBeGreaterThan(200);
  expect([...acknowledged].filter((id) => !sends.has(id))).toEqual([]);
  // One worker process: a second send could only be its own, of an attempt it held unrecorded.
  expect([...sends].filter(([, n]) => n > 1)).toEqual([]);
  // The log matches the receiver: as many attempts logged per participant as it received.
  expect(await attemptsPerParticipant(cluster.url)).toEqual(sends);
  // The outage in each process's log, whatever the number of refused requests and failed queries:
  // a line as it starts and one as it ends, and a count per 10 s between, from each part that
  // meets it (the API; the worker and its listener for new work).
  const outageLines = (server: ServerProcess, from: number, parts: number) => {
    const lines = server.output().slice(from).split("\n").filter(Boolean);
    const counts = lines.filter((line) => line.includes("database still unavailable"));
    expect(lines.length - counts.length, lines.join("\n")).toBeLessThanOrEqual(2 * parts);
    expect(counts.length, lines.join("\n")).toBeLessThanOrEqual(parts * Math.ceil(outageMs / 10_000));
    return lines.join("\n");
  };
  const apiLog = outageLines(api, logFrom.api, 1);
  outageLines(worker, logFrom.worker, 2);
  expect(apiLog).toMatch(/"level":40,.*"msg":"database unavailable: .*; answering 503 until it is back"/);
  expect(apiLog).toMatch(/"level":30,.*"msg":"database available again after .* s: \d+ requests refused in all"/);
}, 120_000);

it("a receiver slower than half the lease is delivered once, though two workers are looking", async () => {
  const database = await freshPostgresDatabase();
  onCleanup(database.drop);
  // Lease: 2 s request timeout + 0.5 s margin = 2.5 s; the receiver takes 1.5 s.
  const env = deploymentEnv(database.url, { HOOKLINE_LEASE_MARGIN: "0.5", HOOKLINE_POLL_INTERVAL: "0.1" });
  const r = await receiver();
  r.respond("/slow", (_req, res) => {
    setTimeout(() => res.writeHead(200).end("ok"), 1_500);
    return undefined;
  });
  const api = await serve(env, "api");
  await Promise.all([serve(env, "worker"), serve(env, "worker")]);
  const client = await setUp(env, api, r.url("/slow"));
  await ingestRange(client, 1, 20);
  await eventually(async () => ((await unfinishedRows(database.url)) === 0 ? true : undefined), 30_000);
  const ids = r.received.filter((x) => x.path === "/slow").map((x) => participantOf(x.body));
  expect(ids.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
}, 60_000);

it("an idle worker process is woken by new work at once (LISTEN/NOTIFY), not at its next poll", async () => {
  const database = await freshPostgresDatabase();
  onCleanup(database.drop);
  const env = deploymentEnv(database.url, { HOOKLINE_POLL_INTERVAL: "600" });
  const r = await receiver();
  const api = await serve(env, "api");
  await serve(env, "worker");
  const client = await setUp(env, api, r.url("/wake"));
  // Let the worker fall asleep on an empty queue first.
  await new Promise((resolve) => setTimeout(resolve, 500));
  await client.ingest({ type: "participant.confirmed", data: { participant: { id: 1 } } });
  await r.waitFor(1, "/wake", 20_000);
}, 60_000);
