/**
 * `npm run bench:threads`: one phase of the steady scenario alone (SQLite, one webhook action, 64 in
 * flight), with where the CPU went: each thread of the server (main, webhook thread, V8's and
 * libuv's helpers, by thread id) and of this process (load generator and receiver), from /proc, and how busy the
 * whole machine was. The tool behind the per-thread figures of docs/PERFORMANCE.md; Linux only.
 *
 *   npm run bench:threads -- --batch=100 --events=40000 --rounds=2
 *   npm run bench:threads -- --batch=1 --events=20000 --clients=64
 *   npm run bench:threads -- --batch=100 --profile=DIR   and the server's V8 CPU profiles (each thread's) into DIR
 *   npm run bench:threads -- --batch=100 --node-arg=--single-threaded-gc   the server started with that flag (repeatable)
 *   npm run bench:threads -- --batch=100 --gc   and the pauses of the server's main thread for garbage collection (gc-observer.ts)
 */
import fs from "node:fs";
import os from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { GcLog } from "./gc-observer.js";
import { apiClient, configure, createAccount, ingestClosedLoop, now, percentile, procStats, sleep, spawnHookline, startBenchReceiver } from "./harness.js";
import { freshDatabase } from "./scenarios.js";

const arg = (name: string, fallback: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? fallback);
const batch = arg("batch", 1);
const events = arg("events", 20_000);
const rounds = arg("rounds", 2);
const clients = arg("clients", batch > 1 ? 8 : 64);
const inFlight = arg("in-flight", 64);
const profileDir = process.argv.find((a) => a.startsWith("--profile="))?.slice("--profile=".length);
/** Node.js flags for the server (V8's among them), to try a setting without a build of its own. */
const nodeArgs = process.argv.filter((a) => a.startsWith("--node-arg=")).map((a) => a.slice("--node-arg=".length));
/** Where the server's main thread logs its collections (`--gc`), read before and after each round. */
const gcFile = process.argv.includes("--gc") ? join(fs.mkdtempSync(join(os.tmpdir(), "hookline-gc-")), "gc.json") : undefined;
const gcLog = (): GcLog => {
  try {
    return JSON.parse(fs.readFileSync(gcFile ?? "", "utf8")) as GcLog;
  } catch {
    return { minor: [], major: [], incremental: [] };
  }
};

/** "94 scavenges 610 ms (p50 6.0, p90 9.4, max 20.7), …": the pauses of one round and their share of it. */
function gcSummary(before: GcLog, after: GcLog, ms: number): string {
  let paused = 0;
  const parts = (["minor", "major", "incremental"] as const).map((kind) => {
    const pauses = after[kind].slice(before[kind].length).sort((a, b) => a - b);
    const sum = pauses.reduce((a, b) => a + b, 0);
    paused += sum;
    const at = (p: number) => (pauses.length > 0 ? percentile(pauses, p).toFixed(1) : "–");
    const name = { minor: "scavenges", major: "mark-compacts", incremental: "incremental marking steps" }[kind];
    return `${pauses.length} ${name} ${Math.round(sum)} ms (p50 ${at(50)}, p90 ${at(90)}, max ${at(100)})`;
  });
  return `${parts.join(", ")}: paused ${Math.round((100 * paused) / ms)} % of the round`;
}

/**
 * CPU milliseconds per thread of `pid`: "main", and the others by thread id (Node 20 names them all
 * "node"; in the server, the busiest after main is the webhook thread, then V8's GC helpers and
 * libuv's pool, where the WAL's fsyncs run).
 */
function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      // utime and stime, in clock ticks (10 ms), are fields 14 and 15: after the ") " that ends the name.
      const fields = (fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8").split(") ")[1] ?? "").split(" ");
      out.set(tid === String(pid) ? "main" : tid, (Number(fields[11]) + Number(fields[12])) * 10);
    } catch {
      // The thread ended between listing and reading.
    }
  }
  return out;
}

/** Idle and total jiffies of the whole machine. */
function machine(): { idle: number; all: number } {
  const f = (fs.readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "").trim().split(/\s+/).slice(1).map(Number);
  return { idle: (f[3] ?? 0) + (f[4] ?? 0), all: f.reduce((a, b) => a + b, 0) };
}

/** "main 72 %, 31270 41 %, …": each thread's share of one core over `ms`, busiest first. */
const percentOf = (before: Map<string, number>, after: Map<string, number>, ms: number) =>
  [...after]
    .map(([k, v]) => [k, Math.round((100 * (v - (before.get(k) ?? 0))) / ms)] as const)
    .filter(([, v]) => v > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v} %`)
    .join(", ");

const receiver = await startBenchReceiver();
const db = await freshDatabase();
const env = {
  ...db.env,
  HOOKLINE_ENDPOINT_CONCURRENCY: String(inFlight),
  HOOKLINE_ACCOUNT_CONCURRENCY: String(inFlight),
  HOOKLINE_CONCURRENCY: String(Math.max(256, inFlight)),
  ...(gcFile && { HOOKLINE_BENCH_GC_FILE: gcFile }),
};
const server = await spawnHookline(env, {
  nodeArgs: [
    ...nodeArgs,
    ...(profileDir ? ["--cpu-prof", `--cpu-prof-dir=${resolve(profileDir)}`] : []),
    ...(gcFile ? [`--import=${fileURLToPath(new URL("./gc-observer.js", import.meta.url))}`] : []),
  ],
});
const api = apiClient(server.port, createAccount(env));
const path = "/threads";
await configure(api, [receiver.url(path)]);
let id = 1;
const ids = (n: number) => Array.from({ length: n }, () => id++);
// Warm up: JIT, connections, the database's first pages.
await ingestClosedLoop(api, ids(2_000), { concurrency: 64 });
await receiver.waitDelivered(2_000, 30_000);
console.log(
  `batch ${batch}, ${events} events per round, ${clients} clients, ${inFlight} in flight${nodeArgs.length > 0 ? `, server flags ${nodeArgs.join(" ")}` : ""}`,
);
for (let r = 0; r < rounds; r++) {
  const target = receiver.delivered() + events;
  const [server0, bench0, machine0, gc0] = [threadCpu(server.pid), threadCpu(process.pid), machine(), gcLog()];
  const t0 = now();
  await ingestClosedLoop(api, ids(events), { concurrency: clients, batch });
  const ingested = now();
  await receiver.waitDelivered(target, 180_000);
  const ms = now() - t0;
  const machine1 = machine();
  const busy = Math.round(100 * (1 - (machine1.idle - machine0.idle) / (machine1.all - machine0.all)));
  console.log(
    `ingest ${Math.round(events / ((ingested - t0) / 1000))}/s, delivered ${Math.round(events / (ms / 1000))}/s, machine ${busy} % busy, server RSS ${procStats(server.pid).peakRssMb} MB`,
  );
  console.log(`  server threads (% of one core): ${percentOf(server0, threadCpu(server.pid), ms)}`);
  console.log(`  bench threads: ${percentOf(bench0, threadCpu(process.pid), ms)}`);
  if (gcFile) {
    // The server writes its log every 100 ms: wait for the one that covers the round's end.
    await sleep(250);
    console.log(`  server main thread GC: ${gcSummary(gc0, gcLog(), ms)}`);
  }
}
await api.close();
await server.stop();
await db.drop();
await receiver.close();
if (gcFile) fs.rmSync(resolve(gcFile, ".."), { recursive: true, force: true });
