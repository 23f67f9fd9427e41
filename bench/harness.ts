/**
 * What every benchmark scenario and the soak run share: a receiver on loopback that counts what
 * arrives (and can misbehave on purpose), a `hookline serve` child process, an API client, the load
 * generators, and /proc readings. Loopback only, bounded loops.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { Pool } from "undici";
import { CLI } from "../test/helpers/command.js";

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** `count` consecutive numbers from `from`: ids, or path numbers. */
export const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);
export const round = (n: number, digits = 0) => Number(n.toFixed(digits));
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** CPU time used so far and peak RSS of a process, from /proc (Linux). */
export function procStats(pid: number): { cpuMs: number; peakRssMb: number } {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    const ticks = Number(stat[11]) + Number(stat[12]); // utime + stime
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    const hwm = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return { cpuMs: (ticks * 1000) / 100, peakRssMb: Math.round(hwm / 1024) };
  } catch {
    return { cpuMs: 0, peakRssMb: 0 };
  }
}

/** The receiver's key for one delivery: `path|participant id`. */
export const arrivalKey = (path: string, id: number) => `${path}|${id}`;

/** What the receiver does with one request. */
export type Behaviour = "ok" | "fail" | "reset" | "hang";

export interface BenchReceiver {
  url(path: string): string;
  /** First arrival time (performance.timeOrigin-based ms) per `path|participant id`. */
  arrivals: Map<string, number>;
  /** Requests answered 2xx per key beyond the first. */
  duplicates(): number;
  /**
   * Each repeat of a key answered 2xx: when it first arrived and when again, and the sender
   * generation (below) of the connections the two came on.
   */
  repeats: { key: string; first: number; again: number; firstSender: number; againSender: number }[];
  /**
   * The generation of the process that opens connections from now on: the soak advances it after
   * each kill -9, before it starts the next server, so that every request can be traced to the
   * process that sent it (a connection is only ever one process's). Starts at 0.
   */
  nextSender(): void;
  /** Successful deliveries (first arrivals) so far. */
  delivered(): number;
  /** Resolves once `count` distinct keys have been delivered. */
  waitDelivered(count: number, timeoutMs: number): Promise<void>;
  /** Decides how each request is answered; default: 200 at once. */
  setBehaviour(decide: (path: string, id: number) => Behaviour): void;
  close(): Promise<void>;
}

export const now = () => performance.timeOrigin + performance.now();

/**
 * The receiver: records the first successful arrival of each (path, participant id). A request it
 * answers with a failure does not count as delivered; "hang" holds the request open until the
 * client gives up; "reset" destroys the connection.
 */
export async function startBenchReceiver(): Promise<BenchReceiver> {
  const arrivals = new Map<string, number>();
  const repeats: BenchReceiver["repeats"] = [];
  let sender = 0;
  const senderOf = new WeakMap<Socket, number>();
  /** The sender of each first arrival, kept only once there is more than one sender (the soak). */
  const firstSender = new Map<string, number>();
  let decide: (path: string, id: number) => Behaviour = () => "ok";
  const waiters = new Set<() => void>();
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      let id = -1;
      try {
        id = (JSON.parse(Buffer.concat(chunks).toString()) as { participant: { id: number } }).participant.id;
      } catch {
        res.writeHead(400).end();
        return;
      }
      const path = req.url ?? "/";
      const behaviour = decide(path, id);
      if (behaviour === "hang") return; // the client's timeout ends it
      if (behaviour === "reset") {
        req.socket.destroy();
        return;
      }
      if (behaviour === "fail") {
        res.writeHead(503).end();
        return;
      }
      const key = arrivalKey(path, id);
      const first = arrivals.get(key);
      const from = senderOf.get(req.socket) ?? 0;
      if (first !== undefined) repeats.push({ key, first, again: now(), firstSender: firstSender.get(key) ?? 0, againSender: from });
      else {
        arrivals.set(key, now());
        if (sender > 0) firstSender.set(key, from);
      }
      res.writeHead(200).end();
      for (const w of waiters) w();
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    senderOf.set(s, sender);
    s.on("close", () => sockets.delete(s));
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    arrivals,
    duplicates: () => repeats.length,
    repeats,
    delivered: () => arrivals.size,
    nextSender: () => {
      sender++;
    },
    setBehaviour: (d) => {
      decide = d;
    },
    waitDelivered(count, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (arrivals.size >= count) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`only ${arrivals.size}/${count} delivered within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

export interface HooklineProcess {
  port: number;
  pid: number;
  child: ChildProcess;
  output(): string;
  /** SIGTERM, and wait for the exit. */
  stop(): Promise<void>;
  /** SIGKILL, and wait for the exit. */
  kill(): Promise<void>;
}

/** Starts `hookline serve` with `env` and resolves once it listens. */
export function spawnHookline(env: NodeJS.ProcessEnv, { nodeArgs = [] as string[] } = {}): Promise<HooklineProcess> {
  // A free port unless the caller fixed one (the soak restarts the server on the same port).
  return spawnListening([...nodeArgs, CLI, "serve", "--port", env.HOOKLINE_PORT ?? "0"], env);
}

/** Children still running; killed if this process exits first (a failed run leaves no servers behind). */
const children = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

/** Kills `child` with this process if it is still running then. */
export function trackChild(child: ChildProcess): void {
  children.add(child);
  child.once("exit", () => children.delete(child));
}

/** Starts a Node process that logs `"port":N … listening` when ready (Hookline, the baseline). */
export function spawnListening(args: string[], env: NodeJS.ProcessEnv): Promise<HooklineProcess> {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, HOOKLINE_HOST: "127.0.0.1", HOOKLINE_LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  let out = "";
  const exited = new Promise<void>((r) =>
    child.once("exit", () => {
      children.delete(child);
      r();
    }),
  );
  const signal = async (s: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(s);
    await exited;
  };
  return new Promise((resolve, reject) => {
    const onData = (c: Buffer) => {
      out = (out + c.toString()).slice(-20_000);
      const m = /"port":(\d+).*listening/.exec(out);
      if (m?.[1]) {
        child.stdout?.off("data", onData);
        resolve({ port: Number(m[1]), pid: child.pid as number, child, output: () => out, stop: () => signal("SIGTERM"), kill: () => signal("SIGKILL") });
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (c: Buffer) => {
      out = (out + c.toString()).slice(-20_000);
    });
    child.once("exit", (code) => reject(new Error(`${args.join(" ")} exited ${code} before listening:\n${out}`)));
  });
}

/** Creates an account through the CLI (as an operator would; `cli`: another build's) and returns its API key. */
export function createAccount(env: NodeJS.ProcessEnv, cli = CLI): string {
  const out = execFileSync(process.execPath, [cli, "accounts", "create", "bench", "--json"], { env: { ...process.env, ...env } }).toString();
  return (JSON.parse(out) as { api_key: string }).api_key;
}

export interface Api {
  call<T = { id: string }>(method: "POST" | "GET", path: string, body?: unknown): Promise<T>;
  close(): Promise<void>;
}

/**
 * `connections` bounds the requests in flight. It is large by default so that open-loop load
 * (`ingestAtRate`) stays open: with 64, acknowledgements slowed by one slow fsync (each waits for
 * the disk) used every connection, and the next events waited in the client, their latency counted
 * from before that wait. Closed-loop load sets its own concurrency (`ingestClosedLoop`).
 */
export function apiClient(port: number, apiKey: string, connections = 1_024): Api {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections });
  const headers = { authorization: `Bearer ${apiKey}`, "content-type": "application/json" };
  return {
    async call<T>(method: "POST" | "GET", path: string, body?: unknown) {
      const res = await pool.request({ method, path, headers, ...(body !== undefined && { body: JSON.stringify(body) }) });
      const text = await res.body.text();
      if (res.statusCode >= 300) throw new Error(`${method} ${path}: ${res.statusCode} ${text}`);
      return JSON.parse(text) as T;
    },
    close: () => pool.close(),
  };
}

/** One trigger with one webhook action per URL; returns the action ids. */
export async function configure(api: Api, urls: readonly string[]): Promise<string[]> {
  const trigger = await api.call("POST", "/api/v1/triggers", { name: "bench", type: "participant.confirmed" });
  const ids: string[] = [];
  for (const [i, url] of urls.entries())
    ids.push((await api.call("POST", `/api/v1/triggers/${trigger.id}/actions`, { name: `receiver ${i}`, type: "webhook", url })).id);
  return ids;
}

/** The event every scenario sends: a confirmed participant, about 200 bytes. */
export function eventBody(id: number) {
  return { type: "participant.confirmed", data: { participant: { id, sent_at: Date.now(), name: "Jane Doe", state: "confirmed", phone: "+15555550123" } } };
}

/** Ingests the given ids with `concurrency` requests in flight, `batch` events per request. */
export async function ingestClosedLoop(api: Api, ids: readonly number[], { concurrency, batch = 1 }: { concurrency: number; batch?: number }): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < ids.length) {
        const chunk = ids.slice(next, next + batch);
        next += chunk.length;
        if (batch === 1) await api.call("POST", "/api/v1/events", eventBody(chunk[0] as number));
        else await api.call("POST", "/api/v1/events/batch", { events: chunk.map(eventBody) });
      }
    }),
  );
}

/**
 * A throughput phase on a server (its processes `pids`: the baseline's are its Node process and
 * Redis): `ids` ingested closed-loop with `load`, then every one awaited at the receiver.
 * Delivered/s counts to the last arrival; the CPU is the server's processes' meanwhile.
 */
export async function closedLoopThroughput(
  api: Api,
  receiver: BenchReceiver,
  pids: readonly number[],
  ids: readonly number[],
  load: { concurrency: number; batch?: number },
): Promise<{ ingestPerS: number; deliveredPerS: number; cpuMs: number }> {
  const target = receiver.delivered() + ids.length;
  const cpu = () => pids.reduce((sum, pid) => sum + procStats(pid).cpuMs, 0);
  const before = cpu();
  const start = now();
  await ingestClosedLoop(api, ids, load);
  const ingestSeconds = (now() - start) / 1000;
  await receiver.waitDelivered(target, 300_000);
  const seconds = (now() - start) / 1000;
  return { ingestPerS: ids.length / ingestSeconds, deliveredPerS: ids.length / seconds, cpuMs: cpu() - before };
}

/**
 * A contender's warm-up (scenarios.ts `Sizes.warmupEvents`): `ids` ingested one event per request
 * by 64 clients, unmeasured, until all have arrived.
 */
export async function warmUp(api: Api, receiver: BenchReceiver, ids: readonly number[]): Promise<void> {
  const target = receiver.delivered() + ids.length;
  await ingestClosedLoop(api, ids, { concurrency: 64 });
  await receiver.waitDelivered(target, 120_000);
}

/**
 * Open-loop load: one event every 1/rate s for `seconds`, each timed from just before its request.
 * Returns the send time per id.
 */
export async function ingestAtRate(api: Api, firstId: number, rate: number, seconds: number): Promise<Map<number, number>> {
  const sentAt = new Map<number, number>();
  const total = Math.round(rate * seconds);
  const start = performance.now();
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < total; i++) {
    const wait = start + (i * 1000) / rate - performance.now();
    if (wait > 1) await sleep(wait);
    const id = firstId + i;
    sentAt.set(id, now());
    pending.push(api.call("POST", "/api/v1/events", eventBody(id)));
  }
  await Promise.all(pending);
  return sentAt;
}

/** Latencies (ms, sorted) of the ids sent at `sentAt` to `path`, from the receiver's arrivals. */
export function latencies(receiver: BenchReceiver, sentAt: Map<number, number>, path: string): number[] {
  const out: number[] = [];
  for (const [id, t] of sentAt) {
    const at = receiver.arrivals.get(arrivalKey(path, id));
    if (at !== undefined) out.push(at - t);
  }
  return out.sort((a, b) => a - b);
}
