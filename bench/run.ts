/**
 * `npm run bench`: the ceiling (raw undici), the baseline (BullMQ + Redis), the floor (the least
 * server doing Hookline's work: floor.ts) and Hookline (SQLite, and PostgreSQL when a server is at
 * hand) on the same receiver, in one process tree on loopback.
 * Prints a table, writes bench-results.json and a chart (bench-chart.png, drawn by Chromium, which
 * scripts/ensure-chromium.sh installs when missing).
 *
 *   npm run bench                       full sizes (9–15 minutes; the 1M backlog is the longest part)
 *   npm run bench -- --quick            small sizes, under a minute: a smoke check, no figures to quote
 *   npm run bench -- --only=steady,scale   some scenarios only
 *   npm run bench -- --profile=DIR      the SQLite steady server's V8 CPU profile (first round) into DIR
 *   npm run bench -- --only=scheduled --scheduled=100000   the scheduled scenario with fewer stored instances
 *
 * PostgreSQL: HOOKLINE_BENCH_POSTGRES_URL, or the test server of scripts/ensure-postgres.sh.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { freePort } from "../test/helpers/free-port.js";
import { renderChart } from "./chart.js";
import {
  apiClient,
  type BenchReceiver,
  closedLoopThroughput,
  ingestAtRate,
  latencies,
  now,
  percentile,
  procStats,
  range,
  round,
  sleep,
  spawnListening,
  startBenchReceiver,
  trackChild,
  warmUp,
} from "./harness.js";
import { combineRounds, type Figures, medianOf, ratios } from "./rounds.js";
import { BATCH_LOAD, backlog, FULL, fanout, hanging, noisyNeighbour, postgresServerUrl, QUICK, SINGLE_LOAD, scale, scheduled, steady } from "./scenarios.js";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
/** --scheduled=N: the scheduled scenario's stored instances at another size (a shared machine's reduced run). */
const scheduledSize = args.find((a) => a.startsWith("--scheduled="))?.slice("--scheduled=".length);
const sizes = { ...(quick ? QUICK : FULL), ...(scheduledSize && { scheduled: Number(scheduledSize) }) };
const only = args
  .find((a) => a.startsWith("--only="))
  ?.slice("--only=".length)
  .split(",");
const profileDir = args.find((a) => a.startsWith("--profile="))?.slice("--profile=".length);
const wanted = (name: string) => !only || only.includes(name);
const here = path.dirname(fileURLToPath(import.meta.url));
// The checkout: this runs from its build, dist-bench/bench/.
const root = path.resolve(here, "../..");

/**
 * Each round of the comparison (0, 1, …) sends its own ids (the receiver counts an id's second
 * arrival as a duplicate); the first also measures latency at 1,000 requests/s.
 */
interface Round {
  index: number;
  latency: boolean;
}

async function ceiling(receiver: BenchReceiver, { index, latency }: Round): Promise<Figures> {
  const count = sizes.throughputEvents;
  const target = receiver.delivered() + sizes.warmupEvents + count + (latency ? 1_000 * sizes.latencySeconds : 0);
  // Asynchronously: the receiver answering it lives in this process.
  const { stdout } = await promisify(execFile)(process.execPath, [
    path.join(here, "ceiling.js"),
    receiver.url(`/ceiling-${index + 1}`),
    String(count),
    "64",
    String(sizes.warmupEvents),
    ...(latency ? ["1000", String(sizes.latencySeconds)] : []),
  ]);
  await receiver.waitDelivered(target, 60_000);
  return JSON.parse(stdout) as Figures;
}

/**
 * redis-server for the baseline, durable (`appendfsync always`), once it answers a PING. Its port is
 * one the OS found free: a random one was now and then the local port of one of the bench's own
 * connections, Redis exited on "Address already in use", and BullMQ waited for it for ever (a CI run
 * hung so). Tried again on a new port if Redis exits first; an error if it never answers.
 */
async function startRedis(redisServer: string, dir: string): Promise<{ redis: ChildProcess; port: number }> {
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freePort();
    const redis = spawn(
      redisServer,
      ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--appendonly", "yes", "--appendfsync", "always", "--save", ""],
      {
        stdio: "ignore",
      },
    );
    trackChild(redis);
    let exited = false;
    redis.once("exit", () => {
      exited = true;
    });
    for (let i = 0; i < 100 && !exited; i++) {
      try {
        execFileSync("redis-cli", ["-p", String(port), "ping"], { stdio: "ignore" });
        return { redis, port };
      } catch {
        await sleep(50);
      }
    }
    if (!exited) {
      redis.kill("SIGKILL");
      throw new Error(`redis-server on port ${port} did not answer a PING within 5 s`);
    }
  }
  throw new Error("redis-server exited before answering, three times (its ports were taken?)");
}

/** BullMQ + Redis (appendfsync always), fed by the same load generator as Hookline. */
async function baseline(receiver: BenchReceiver, { index, latency }: Round): Promise<Figures | undefined> {
  let redisServer: string;
  try {
    redisServer = execFileSync("bash", [path.join(root, "scripts/ensure-redis.sh")], { stdio: ["ignore", "pipe", "inherit"] })
      .toString()
      .trim();
  } catch {
    // With CI=true a missing service fails the run, as in the tests.
    if (process.env.CI === "true") throw new Error("Redis is needed for the baseline and could not be installed");
    console.warn("warning: no Redis; the baseline is skipped");
    return undefined;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hookline-bench-redis-"));
  const { redis, port } = await startRedis(redisServer, dir).catch((error: unknown) => {
    fs.rmSync(dir, { recursive: true, force: true });
    throw error;
  });
  try {
    const server = await spawnListening([path.join(here, "baseline.js")], { BASELINE_REDIS_PORT: String(port), BASELINE_TARGET: receiver.url("/baseline") });
    try {
      const api = apiClient(server.port, "none");
      const warmFrom = 10_000_000 * (index + 1);
      await warmUp(api, receiver, range(warmFrom, sizes.warmupEvents));
      const first = warmFrom + sizes.warmupEvents;
      const count = sizes.throughputEvents;
      // As Hookline's steady scenario: one event per request, then batches, then the latency.
      const pids = [server.pid, redis.pid as number];
      const single = await closedLoopThroughput(api, receiver, pids, range(first, count), SINGLE_LOAD);
      const batched = await closedLoopThroughput(api, receiver, pids, range(first + count, count), BATCH_LOAD);
      // Latency at 1,000 events/s, measured as for Hookline.
      let lat: number[] | undefined;
      if (latency) {
        const target = receiver.delivered();
        const sentAt = await ingestAtRate(api, first + 2 * count, 1_000, sizes.latencySeconds);
        await receiver.waitDelivered(target + sentAt.size, 120_000);
        lat = latencies(receiver, sentAt, "/baseline");
      }
      await api.close();
      return {
        per_s: round(single.deliveredPerS),
        batch_per_s: round(batched.deliveredPerS),
        cpu_ms_per_event: round(single.cpuMs / count, 3), // the node process and Redis together
        ...(lat && { p50_ms_at_1k: round(percentile(lat, 50), 1), p99_ms_at_1k: round(percentile(lat, 99), 1) }),
        peak_rss_mb: procStats(server.pid).peakRssMb,
        redis_peak_rss_mb: procStats(redis.pid as number).peakRssMb,
      };
    } finally {
      await server.stop();
    }
  } finally {
    redis.kill("SIGTERM");
    await new Promise((r) => redis.once("exit", r));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The floor (floor.ts) on a fresh SQLite file, fed as Hookline is: the same unmeasured warm-up
 * (`Sizes.warmupEvents`), then one event per request from 64 clients, then batches of 100 from 8
 * (steady's two phases, scenarios.ts).
 */
async function floor(receiver: BenchReceiver, { index }: Round): Promise<Figures> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hookline-bench-floor-"));
  const server = await spawnListening([path.join(here, "floor.js")], {
    FLOOR_DB: path.join(dir, "floor.sqlite"),
    FLOOR_TARGET: receiver.url(`/floor-${index + 1}`),
  });
  try {
    const api = apiClient(server.port, "none");
    await warmUp(api, receiver, range(1, sizes.warmupEvents));
    const count = sizes.throughputEvents;
    const first = sizes.warmupEvents + 1;
    const single = await closedLoopThroughput(api, receiver, [server.pid], range(first, count), SINGLE_LOAD);
    const batched = await closedLoopThroughput(api, receiver, [server.pid], range(first + count, count), BATCH_LOAD);
    await api.close();
    return {
      per_s: round(single.deliveredPerS),
      batch_per_s: round(batched.deliveredPerS),
      cpu_ms_per_event: round(single.cpuMs / count, 3),
      peak_rss_mb: procStats(server.pid).peakRssMb,
    };
  } finally {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Each known ratio's median, and its rounds beside it (`<name>_rounds`). */
function ratioFigures(named: Record<string, ReturnType<typeof ratios>>): Record<string, number | number[]> {
  return Object.fromEntries(
    Object.entries(named).flatMap(([name, ratio]) => (ratio ? [[name, ratio.median] as const, [`${name}_rounds`, ratio.rounds] as const] : [])),
  );
}

async function main() {
  const receiver = await startBenchReceiver();
  // With --only, the other scenarios' figures of an earlier run in the same mode are kept.
  const earlier = only && fs.existsSync("bench-results.json") ? (JSON.parse(fs.readFileSync("bench-results.json", "utf8")) as Record<string, unknown>) : {};
  const results: Record<string, unknown> = {
    ...(earlier.mode === (quick ? "quick" : "full") ? earlier : {}),
    machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, Node ${process.version}`,
    mode: quick ? "quick" : "full",
    date: new Date().toISOString(),
  };
  const began = now();
  const save = () => fs.writeFileSync("bench-results.json", `${JSON.stringify(results, null, 2)}\n`);
  // Each scenario's figures are saved as soon as they are known (a long run cut short keeps them).
  const log = (what: string) => {
    save();
    console.error(`… ${((now() - began) / 1000).toFixed(0).padStart(4)} s  ${what}`);
  };
  try {
    // The throughput comparison, in rounds (Sizes.rounds): ceiling, baseline, floor, Hookline, side by side.
    const rounds: { ceiling: Figures[]; baseline: Figures[]; floor: Figures[]; sqlite: Figures[] } = { ceiling: [], baseline: [], floor: [], sqlite: [] };
    // An earlier run's ratios belong to its own figures: recomputed below, or gone.
    if (["ceiling", "baseline", "floor", "steady"].some(wanted)) {
      delete results.hookline_ratios;
      delete results.floor_ratios;
    }
    for (let r = 0; r < sizes.rounds; r++) {
      const of = sizes.rounds > 1 ? ` (round ${r + 1} of ${sizes.rounds})` : "";
      const first = r === 0;
      const thisRound = { index: r, latency: first };
      if (wanted("ceiling")) {
        log(`ceiling: raw undici POSTs${of}`);
        rounds.ceiling.push(await ceiling(receiver, thisRound));
        results.ceiling = combineRounds(rounds.ceiling, "per_s");
        results.ceiling_per_s = medianOf(rounds.ceiling, "per_s");
      }
      if (wanted("baseline")) {
        log(`baseline: BullMQ + Redis${of}`);
        const b = await baseline(receiver, thisRound);
        if (b) rounds.baseline.push(b);
        results.baseline = b && combineRounds(rounds.baseline, "per_s", "batch_per_s");
        results.baseline_per_s = b && medianOf(rounds.baseline, "per_s");
      }
      if (wanted("floor")) {
        log(`floor: the least server doing the same work${of}`);
        rounds.floor.push(await floor(receiver, thisRound));
        results.floor = combineRounds(rounds.floor, "per_s", "batch_per_s");
        results.floor_per_s = medianOf(rounds.floor, "per_s");
      }
      if (wanted("steady")) {
        log(`hookline on SQLite: throughput${first ? " and latency" : ""}${of}`);
        // Spread into a plain record: an interface (SteadyResult) is not assignable to Figures' index signature.
        rounds.sqlite.push({ ...(await steady(receiver, sizes, { latency: first, ...(first && { profileDir }) })) });
        results.hookline_sqlite = combineRounds(rounds.sqlite, "delivered_per_s", "batch_delivered_per_s");
        results.hookline_per_s = medianOf(rounds.sqlite, "delivered_per_s");
        results.hookline_p99_ms_at_1k = rounds.sqlite[0]?.p99_ms_at_1k;
      }
      // One event per request, and (batch_*) batches of 100.
      const pairs = {
        to_ceiling: ratios(rounds.sqlite, "delivered_per_s", rounds.ceiling, "per_s"),
        to_baseline: ratios(rounds.sqlite, "delivered_per_s", rounds.baseline, "per_s"),
        batch_to_ceiling: ratios(rounds.sqlite, "batch_delivered_per_s", rounds.ceiling, "per_s"),
        // Batches against the baseline's batches (its addBulk), as the floor's below; and, to read
        // beside runs before the baseline had batches, against its one event per request.
        batch_to_baseline: ratios(rounds.sqlite, "batch_delivered_per_s", rounds.baseline, "batch_per_s"),
        batch_to_baseline_single: ratios(rounds.sqlite, "batch_delivered_per_s", rounds.baseline, "per_s"),
        to_floor: ratios(rounds.sqlite, "delivered_per_s", rounds.floor, "per_s"),
        batch_to_floor: ratios(rounds.sqlite, "batch_delivered_per_s", rounds.floor, "batch_per_s"),
      };
      // Where the least server doing this work lands against the same yardsticks as the targets (0.30
      // of the ceiling, 2 × the baseline): what a target asks of any server here, not of Hookline alone.
      const floorPairs = {
        to_ceiling: ratios(rounds.floor, "per_s", rounds.ceiling, "per_s"),
        to_baseline: ratios(rounds.floor, "per_s", rounds.baseline, "per_s"),
        batch_to_ceiling: ratios(rounds.floor, "batch_per_s", rounds.ceiling, "per_s"),
        batch_to_baseline: ratios(rounds.floor, "batch_per_s", rounds.baseline, "batch_per_s"),
      };
      const hookline = ratioFigures(pairs);
      if (Object.keys(hookline).length > 0) results.hookline_ratios = hookline;
      const floorRatios = ratioFigures(floorPairs);
      if (Object.keys(floorRatios).length > 0) results.floor_ratios = floorRatios;
    }
    const pgUrl = wanted("postgres") || wanted("scale") ? postgresServerUrl() : undefined;
    if ((wanted("postgres") || wanted("scale")) && !pgUrl) {
      if (process.env.CI === "true") throw new Error("PostgreSQL is needed for the PostgreSQL scenarios and could not be had");
      console.warn("warning: no PostgreSQL; its scenarios are skipped");
    }
    if (wanted("postgres") && pgUrl) {
      log("hookline on PostgreSQL: throughput and latency");
      results.hookline_postgres = await steady(receiver, sizes, { postgresUrl: pgUrl });
    }
    if (wanted("scale") && pgUrl) {
      log(`PostgreSQL: ${sizes.scaleWorkers.join(", ")} worker processes draining a backlog`);
      results.scale_postgres = await scale(receiver, sizes, pgUrl);
    }
    if (wanted("fanout")) {
      log("fan-out: 1 event to 50 actions");
      results.fanout = await fanout(receiver, sizes);
    }
    if (wanted("hanging")) {
      log("20 % of endpoints hanging");
      results.hanging = await hanging(receiver, sizes);
    }
    if (wanted("noisy-neighbour")) {
      log("one account beside another whose endpoints all hang");
      results.noisy_neighbour = await noisyNeighbour(receiver, sizes);
    }
    if (wanted("scheduled")) {
      log(`immediate deliveries beside ${sizes.scheduled} scheduled instances`);
      results.scheduled = await scheduled(receiver, sizes);
    }
    if (wanted("backlog")) {
      log(`backlog of ${sizes.backlog} instances`);
      results.backlog = await backlog(receiver, sizes);
    }
    log("done");
  } finally {
    results.lost = 0; // every scenario waits for all of its events; a missing one fails the run instead
    results.duplicates = receiver.duplicates();
    await receiver.close();
  }
  save();
  printTable(results);
  // The chart is drawn by Chromium, installed when missing as Redis is for the baseline (with
  // CI=true a Chromium that cannot be had fails the run, as in the tests).
  execFileSync("bash", [path.join(root, "scripts/ensure-chromium.sh"), "the benchmark's chart"], { stdio: ["ignore", "ignore", "inherit"] });
  const chart = await renderChart(results, "bench-chart.png");
  console.log(chart ? `chart: ${chart}` : "chart: skipped (Chromium could not be installed: apt-get install chromium)");
  if (Number(results.duplicates) > 0) process.exitCode = 1;
}

function printTable(results: Record<string, unknown>): void {
  const rows: [string, unknown][] = [];
  const walk = (prefix: string, value: unknown) => {
    if (Array.isArray(value)) rows.push([prefix, value.join(" / ")]);
    else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) walk(prefix ? `${prefix}.${k}` : k, v);
    else rows.push([prefix, value]);
  };
  walk("", results);
  for (const [k, v] of rows) console.log(`${k.padEnd(44)} ${v}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
