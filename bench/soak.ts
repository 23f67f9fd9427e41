/**
 * `npm run soak`: fault injection. A receiver that fails at random (503, connection resets, hangs
 * until the timeout), a `hookline serve` process on SQLite (or PostgreSQL) that is `kill -9`ed and
 * restarted at random moments while events keep arriving, and then a count: every acknowledged
 * event must be delivered (lost = 0), and every duplicate must be an attempt in flight at a kill (its
 * first delivery sent by a server that was then killed, its repeat by a later one). Hookline's
 * attempt log must agree: one recorded 2xx attempt per event delivered. Prints a one-line verdict
 * and exits non-zero on any loss, unexplained duplicate or disagreement.
 *
 *   npm run soak                  12 kills, 1–4 s apart
 *   npm run soak -- --quick       10 kills, 0.4–1.2 s apart (the CI smoke run)
 *   npm run soak -- --kills=30
 *   npm run soak -- --postgres    on a fresh database of HOOKLINE_BENCH_POSTGRES_URL's server, or of
 *                                 scripts/ensure-postgres.sh's (none: fails with CI=true, else skips)
 */
import fs from "node:fs";
import { loadConfig } from "../src/config.js";
import { openStore } from "../src/db/connect.js";
import { freePort } from "../test/helpers/free-port.js";
import {
  apiClient,
  arrivalKey,
  type Behaviour,
  createAccount,
  eventBody,
  type HooklineProcess,
  now,
  sleep,
  spawnHookline,
  startBenchReceiver,
} from "./harness.js";
import { freshDatabase, postgresServerUrl } from "./scenarios.js";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const onPostgres = args.includes("--postgres");
const kills = Number(args.find((a) => a.startsWith("--kills="))?.slice("--kills=".length) ?? (quick ? 10 : 12));
const [minGapMs, maxGapMs] = quick ? [400, 1_200] : [1_000, 4_000];
const CLIENTS = 8;
/** The receiver's path for the soak's one webhook action. */
const PATH = "/soak";
const MISBEHAVE = 0.25;
/** At most this many failures per event, so five attempts always suffice: a loss is Hookline's, not the schedule's. */
const MAX_FAILURES = 2;
/** After ingest stops: an event still undelivered once nothing has arrived for this long is lost. */
const STALL_MS = 30_000;
/** And the wait ends here in any case (the loop is bounded). */
const DRAIN_LIMIT_MS = 20 * 60_000;

async function main() {
  const serverUrl = onPostgres ? postgresServerUrl() : undefined;
  if (onPostgres && !serverUrl) {
    // As the bench and the tests: a missing server fails CI, and elsewhere skips, saying so.
    const why = "no PostgreSQL server (HOOKLINE_BENCH_POSTGRES_URL, or Debian's through scripts/ensure-postgres.sh)";
    if (process.env.CI === "true") throw new Error(`soak --postgres: ${why}`);
    console.log(`soak (PostgreSQL): SKIPPED — ${why}`);
    return;
  }
  const database = await freshDatabase(serverUrl);
  const port = await freePort();
  const env = {
    ...database.env,
    HOOKLINE_PORT: String(port),
    HOOKLINE_REQUEST_TIMEOUT: "1",
    HOOKLINE_LEASE_MARGIN: "1",
    HOOKLINE_RETRY_SCHEDULE: "0.2,0.4,0.8,1.6",
    HOOKLINE_RETRY_JITTER: "0",
    HOOKLINE_POLL_INTERVAL: "0.2",
  };
  const receiver = await startBenchReceiver();
  const failures = new Map<number, number>();
  const faults = { fail: 0, reset: 0, hang: 0 };
  receiver.setBehaviour((_path, id) => {
    const n = failures.get(id) ?? 0;
    if (n >= MAX_FAILURES || Math.random() >= MISBEHAVE) return "ok";
    failures.set(id, n + 1);
    const fault = (["fail", "reset", "hang"] as const)[Math.floor(Math.random() * 3)] as Exclude<Behaviour, "ok">;
    faults[fault]++;
    return fault;
  });

  const apiKey = createAccount(env);
  let server: HooklineProcess = await spawnHookline(env);
  const api = apiClient(port, apiKey, CLIENTS);
  const trigger = await api.call("POST", "/api/v1/triggers", { name: "soak", type: "participant.confirmed" });
  await api.call("POST", `/api/v1/triggers/${trigger.id}/actions`, { name: "flaky receiver", type: "webhook", url: receiver.url(PATH) });

  const acknowledged = new Set<number>();
  let refused = 0;
  let nextId = 1;
  let ingesting = true;
  const clients = Array.from({ length: CLIENTS }, async () => {
    while (ingesting) {
      const id = nextId++;
      try {
        await api.call("POST", "/api/v1/events", eventBody(id));
        acknowledged.add(id);
      } catch {
        refused++; // no answer (the server is down): this event was not acknowledged
        await sleep(20);
      }
    }
  });

  // Progress on stderr (a full soak runs for minutes); the verdict alone goes to stdout.
  const began = now();
  const progress = (what: string) => console.error(`… ${((now() - began) / 1000).toFixed(0).padStart(4)} s  ${what}`);
  const killTimes: number[] = [];
  for (let k = 0; k < kills; k++) {
    await sleep(minGapMs + Math.random() * (maxGapMs - minGapMs));
    killTimes.push(now());
    await server.kill();
    receiver.nextSender();
    server = await spawnHookline(env);
    progress(`kill -9 ${k + 1} of ${kills}, restarted; ${acknowledged.size} events acknowledged so far`);
  }
  await sleep(minGapMs);
  ingesting = false;
  await Promise.all(clients);

  // Wait while deliveries keep arriving: hanging attempts hold the endpoint's slots, so the backlog
  // drains at its own pace (a fixed 2 minutes counted 54,644 of 83,515 events "lost" after 30 kills
  // that were merely not yet delivered). An event is lost when nothing more arrives for STALL_MS.
  const delivered = () => [...acknowledged].filter((id) => receiver.arrivals.has(arrivalKey(PATH, id))).length;
  const giveUp = Date.now() + DRAIN_LIMIT_MS;
  let count = delivered();
  let progressAt = Date.now();
  let reportedAt = Date.now();
  while (count < acknowledged.size && Date.now() - progressAt < STALL_MS && Date.now() < giveUp) {
    await sleep(500);
    const arrived = delivered();
    if (arrived > count) progressAt = Date.now();
    count = arrived;
    if (Date.now() - reportedAt >= 10_000) {
      reportedAt = Date.now();
      progress(`draining: ${count} of ${acknowledged.size} acknowledged events delivered`);
    }
  }
  await server.stop();
  await api.close();
  await receiver.close();
  const recorded = await recordedDeliveries(loadConfig(env).databaseUrl);
  await database.drop();

  const lost = acknowledged.size - delivered();
  // Hookline's own log must agree with the receiver: one recorded 2xx attempt per event delivered.
  // None: its log lost a delivery. Two: it sent again what it knew was delivered, which no kill
  // explains (a kill's duplicate is the attempt whose record died with the server).
  // Every id sent, acknowledged or not (a commit whose answer a kill cut off is delivered too).
  const receivedIds = Array.from({ length: nextId - 1 }, (_, i) => i + 1).filter((id) => receiver.arrivals.has(arrivalKey(PATH, id)));
  const unrecordedIds = receivedIds.filter((id) => (recorded.get(id) ?? 0) === 0);
  const recordedTwiceIds = [...recorded].filter(([, n]) => n > 1).map(([id]) => id);
  const [unrecorded, recordedTwice] = [unrecordedIds.length, recordedTwiceIds.length];
  if (unrecorded > 0) progress(`delivered, not in Hookline's log: participant ids ${unrecordedIds.slice(0, 10).join(", ")}`);
  if (recordedTwice > 0) progress(`recorded delivered twice in Hookline's log: participant ids ${recordedTwiceIds.slice(0, 10).join(", ")}`);
  // A duplicate is explained when a later server sent the repeat: the first delivery's sender was
  // killed before it recorded the answer. Told by the connections the two came on, not by when they
  // arrived: the receiver reads a request the killed server sent just before it died only after
  // the kill (fc81c70's clean-clone CI run failed on one such duplicate, judged by time).
  const unexplainedRepeats = receiver.repeats.filter((r) => r.firstSender >= r.againSender);
  const unexplained = unexplainedRepeats.length;
  const ok = lost === 0 && unexplained === 0 && unrecorded === 0 && recordedTwice === 0;
  // Which server sent it and when, so that a failed verdict can be looked into (a repeat about the
  // request timeout, 1 s, plus the first retry's 0.2 s after its first arrival would be an answer
  // that reached the server too late).
  const unexplainedDetail = unexplainedRepeats.map((r) => ({
    key: r.key,
    sender: r.firstSender,
    first_s: Number(((r.first - began) / 1000).toFixed(3)),
    again_after_ms: Math.round(r.again - r.first),
    last_kill_before_ms: Math.round(r.first - Math.max(...killTimes.filter((t) => t < r.first))),
  }));
  for (const d of unexplainedDetail) progress(`duplicate not explained by a kill: ${JSON.stringify(d)}`);
  const summary = {
    verdict: ok ? "PASS" : "FAIL",
    database: onPostgres ? "postgres" : "sqlite",
    kills,
    acknowledged: acknowledged.size,
    delivered: delivered(),
    lost,
    duplicates: receiver.repeats.length,
    unexplained_duplicates: unexplained,
    unexplained_detail: unexplainedDetail,
    delivered_not_in_log: unrecorded,
    logged_delivered_twice: recordedTwice,
    injected_faults: faults,
    unacknowledged_requests: refused,
  };
  fs.writeFileSync("soak-results.json", `${JSON.stringify(summary, null, 2)}\n`);
  console.log(
    `soak${onPostgres ? " (PostgreSQL)" : ""}: ${summary.verdict} — ${kills} kill -9s, ${summary.acknowledged} events acknowledged, ${summary.delivered} delivered, lost ${lost}, duplicates ${summary.duplicates} (${unexplained} not explained by a kill); Hookline's log: ${unrecorded} deliveries missing, ${recordedTwice} recorded twice; injected ${faults.fail} × 503, ${faults.reset} resets, ${faults.hang} hangs`,
  );
  if (!ok) process.exitCode = 1;
}

/** Per participant id, the 2xx attempts Hookline recorded for its event, read from the server's own database. */
async function recordedDeliveries(databaseUrl: string): Promise<Map<number, number>> {
  const store = await openStore(databaseUrl, { poolSize: 1 });
  try {
    const rows = await store.db
      .selectFrom("events as e")
      .innerJoin("instances as i", "i.event_id", "e.id")
      .leftJoin("attempts as a", (join) => join.onRef("a.instance_id", "=", "i.id").on("a.response_status", ">=", 200).on("a.response_status", "<=", 299))
      .select(({ fn }) => ["e.object", fn.count<number | string>("a.id").as("ok")])
      .groupBy(["e.id", "e.object"])
      .execute();
    // PostgreSQL's count is a bigint, which pg returns as a string.
    return new Map(rows.map((r) => [(JSON.parse(r.object) as { id: number }).id, Number(r.ok)]));
  } finally {
    await store.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
