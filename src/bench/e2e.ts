/**
 * End-to-end benchmark: a real `hookline serve` process (SQLite, durable commits) ingesting over
 * HTTP and delivering to a receiver on loopback. Measures
 *  - throughput: events ingested and delivered per second, with 64 concurrent ingest clients;
 *  - latency: ingest→delivery p50/p99 at a fixed 1,000 events/s;
 *  - the server's CPU time and peak RSS.
 * Prints a table and writes bench-results.json. `--quick` uses smaller counts.
 *
 *   npm run bench            npm run bench -- --quick
 *   npm run bench -- --quick --profile=DIR    (writes the server's V8 CPU profile into DIR)
 */
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Pool } from "undici";

const quick = process.argv.includes("--quick");
const THROUGHPUT_EVENTS = quick ? 4_000 : 30_000;
const CONCURRENCY = 64;
const RATE = 1_000;
const LATENCY_SECONDS = quick ? 3 : 10;
const CLI = fileURLToPath(new URL("../cli.js", import.meta.url));

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

function procStats(pid: number): { cpuMs: number; peakRssMb: number } {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  const ticks = Number(stat[11]) + Number(stat[12]); // utime + stime
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const hwm = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { cpuMs: (ticks * 1000) / 100, peakRssMb: Math.round(hwm / 1024) };
}

async function main() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "hookline-bench-"));
  const env = {
    ...process.env,
    HOOKLINE_DATA_DIR: dataDir,
    HOOKLINE_ALLOWED_NETWORKS: "127.0.0.0/8",
    HOOKLINE_LOG_LEVEL: "info",
    HOOKLINE_HOST: "127.0.0.1",
    HOOKLINE_RATE_LIMIT_INGEST: "0",
  };

  // Receiver: answers 200 at once and notes when each instance arrived.
  const arrivals = new Map<number, number>(); // participant id → arrival time
  let duplicates = 0;
  let onDelivered: (() => void) | undefined;
  const receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as { participant: { id: number; sent_at: number } };
      const id = body.participant.id;
      if (arrivals.has(id)) duplicates++;
      else arrivals.set(id, performance.timeOrigin + performance.now());
      res.writeHead(200).end();
      onDelivered?.();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
  const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

  const { api_key: apiKey } = JSON.parse(execFileSync(process.execPath, [CLI, "accounts", "create", "bench", "--json"], { env }).toString()) as {
    api_key: string;
  };
  const profileDir = process.argv.find((a) => a.startsWith("--profile="))?.slice("--profile=".length);
  const nodeArgs = profileDir ? ["--cpu-prof", `--cpu-prof-dir=${path.resolve(profileDir)}`] : [];
  const server = spawn(process.execPath, [...nodeArgs, CLI, "serve", "--port", "0"], { env, stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    server.stdout.on("data", (c: Buffer) => {
      out += c.toString();
      const m = /"port":(\d+).*listening/.exec(out);
      if (m?.[1]) resolve(Number(m[1]));
    });
    server.on("exit", (code) => reject(new Error(`server exited ${code}: ${out}`)));
  });
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: CONCURRENCY });
  const headers = { authorization: `Bearer ${apiKey}`, "content-type": "application/json" };
  const call = async (method: "POST" | "GET", p: string, body?: unknown) => {
    const res = await pool.request({ method, path: p, headers, ...(body !== undefined && { body: JSON.stringify(body) }) });
    const text = await res.body.text();
    if (res.statusCode >= 300) throw new Error(`${method} ${p}: ${res.statusCode} ${text}`);
    return JSON.parse(text) as { id: string };
  };
  const trigger = await call("POST", "/api/v1/triggers", { name: "bench", type: "participant.confirmed" });
  await call("POST", `/api/v1/triggers/${trigger.id}/actions`, { name: "receiver", type: "webhook", url: receiverUrl });

  let nextId = 1;
  const ingestOne = (id: number) =>
    call("POST", "/api/v1/events", { type: "participant.confirmed", data: { participant: { id, sent_at: Date.now(), name: "Jane Doe", state: "confirmed" } } });
  const waitDelivered = (target: number, timeoutMs: number) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${arrivals.size}/${target} delivered`)), timeoutMs);
      onDelivered = () => {
        if (arrivals.size >= target) {
          clearTimeout(timer);
          resolve();
        }
      };
      onDelivered();
    });

  // Warm-up: JIT, connection pools, SQLite page cache.
  await Promise.all(Array.from({ length: 500 }, () => ingestOne(nextId++)));
  await waitDelivered(nextId - 1, 30_000);

  // 1. Throughput.
  const before = procStats(server.pid as number);
  const firstId = nextId;
  const start = performance.now();
  let ingested = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (nextId < firstId + THROUGHPUT_EVENTS) {
        await ingestOne(nextId++);
        ingested++;
      }
    }),
  );
  const ingestSeconds = (performance.now() - start) / 1000;
  await waitDelivered(nextId - 1, 120_000);
  const deliverSeconds = (performance.now() - start) / 1000;
  const after = procStats(server.pid as number);

  // 2. Latency at a fixed rate: one event every 1/RATE s, measured from just before the ingest
  // request to the receiver's arrival.
  const latencies: number[] = [];
  const sentAt = new Map<number, number>();
  const total = RATE * LATENCY_SECONDS;
  const latencyStart = performance.now();
  const pending: Promise<unknown>[] = [];
  const latencyFirst = nextId;
  for (let i = 0; i < total; i++) {
    const due = latencyStart + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const id = nextId++;
    sentAt.set(id, performance.timeOrigin + performance.now());
    pending.push(ingestOne(id));
  }
  await Promise.all(pending);
  await waitDelivered(nextId - 1, 60_000);
  for (let id = latencyFirst; id < nextId; id++) latencies.push((arrivals.get(id) as number) - (sentAt.get(id) as number));
  latencies.sort((a, b) => a - b);
  const achievedRate = total / ((performance.now() - latencyStart) / 1000);

  const final = procStats(server.pid as number);
  server.kill("SIGTERM");
  await new Promise((r) => server.on("exit", r));
  await pool.close();
  receiver.close();
  fs.rmSync(dataDir, { recursive: true, force: true });

  const results = {
    machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, Node ${process.version}`,
    mode: quick ? "quick" : "full",
    storage: "sqlite (WAL, synchronous=FULL)",
    throughput_events: THROUGHPUT_EVENTS,
    ingest_concurrency: CONCURRENCY,
    hookline_ingest_per_s: Math.round(ingested / ingestSeconds),
    hookline_per_s: Math.round(THROUGHPUT_EVENTS / deliverSeconds),
    server_cpu_ms_per_event: Number(((after.cpuMs - before.cpuMs) / THROUGHPUT_EVENTS).toFixed(3)),
    latency_rate_per_s: Math.round(achievedRate),
    hookline_p50_ms_at_1k: Number(percentile(latencies, 50).toFixed(1)),
    hookline_p99_ms_at_1k: Number(percentile(latencies, 99).toFixed(1)),
    server_peak_rss_mb: final.peakRssMb,
    lost: nextId - 1 - arrivals.size,
    duplicates,
  };
  fs.writeFileSync("bench-results.json", `${JSON.stringify(results, null, 2)}\n`);
  const rows: [string, string][] = [
    ["machine", results.machine],
    ["ingested (64 clients)", `${results.hookline_ingest_per_s} events/s`],
    ["delivered end to end", `${results.hookline_per_s} events/s`],
    ["server CPU per event", `${results.server_cpu_ms_per_event} ms`],
    [`latency at ${results.latency_rate_per_s}/s p50`, `${results.hookline_p50_ms_at_1k} ms`],
    [`latency at ${results.latency_rate_per_s}/s p99`, `${results.hookline_p99_ms_at_1k} ms`],
    ["server peak RSS", `${results.server_peak_rss_mb} MB`],
    ["lost / duplicates", `${results.lost} / ${results.duplicates}`],
  ];
  for (const [k, v] of rows) console.log(`${k.padEnd(28)} ${v}`);
  if (results.lost > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
