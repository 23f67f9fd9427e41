/**
 * `npm run bench:ab -- --b=DIR`: two builds of Hookline measured at the same time, each on its own
 * fresh SQLite file, loaded together from this process by closed-loop clients (one event per
 * request), delivering to one receiver. This machine's speed drifts by a third within a day and by
 * a tenth within minutes (BENCHMARKS.md › Machine), so builds measured one after another differ by
 * more than a change worth a few per cent; loaded at once, both see the same spell, and the
 * share of the machine each gets is what tells them apart. An A/A run (a build against itself)
 * shows the resolution: its rounds agree within about 2 %.
 *
 *   npm run bench:ab -- --b=/tmp/base            this checkout's build (A) against another (B)
 *   npm run bench:ab -- --a=DIR --b=DIR --rounds=6 --seconds=8 --clients=32
 *   npm run bench:ab -- --b=/tmp/base --batch=100 --seconds=3   a backlog claimed, CPU per delivered event
 *
 * With `--batch=N` each client sends batches of N events (POST /api/v1/events/batch): ingest then
 * outruns delivery, a backlog builds, and the worker claims it (no hand-off at ingest), so what
 * tells the builds apart is the server CPU per delivered event, measured until all are delivered.
 *
 * DIR is a checkout that has been built (`git worktree add /tmp/base <commit> && cd /tmp/base &&
 * npm install`), or its dist/. Prints, per round and in all, each build's events/s and server CPU
 * per event, and how many rounds B delivered more than A.
 */
import fs from "node:fs";
import path from "node:path";
import { CLI, commandOf } from "../test/helpers/command.js";
import {
  type Api,
  apiClient,
  configure,
  createAccount,
  eventBody,
  type HooklineProcess,
  now,
  procStats,
  spawnListening,
  startBenchReceiver,
} from "./harness.js";
import { freshDatabase } from "./scenarios.js";

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const rounds = Number(arg("rounds") ?? 6);
const seconds = Number(arg("seconds") ?? 8);
const batch = Number(arg("batch") ?? 1);
const clients = Number(arg("clients") ?? (batch > 1 ? 8 : 32));

/** The `hookline` command of a built checkout, or of its dist/. */
function cliOf(dir: string): string {
  const checkout = [dir, path.join(dir, "..")].find((d) => fs.existsSync(path.join(d, "package.json")));
  const command = checkout && commandOf(checkout);
  if (!command || !fs.existsSync(command)) throw new Error(`no built Hookline in ${dir} (run npm install there)`);
  return command;
}

const [a, b] = [arg("a"), arg("b")];
if (!b) {
  console.error("usage: npm run bench:ab -- --b=DIR [--a=DIR] [--rounds=6] [--seconds=8] [--clients=32] [--batch=1]");
  process.exit(2);
}
const builds = [
  { name: "A", cli: a ? cliOf(a) : CLI },
  { name: "B", cli: cliOf(b) },
];

interface Running {
  server: HooklineProcess;
  api: Api;
  drop(): Promise<void>;
}

let nextId = 1;
/** `clients` requests in flight until `deadline`; returns how many events were acknowledged. */
async function loadUntil(api: Api, deadline: number): Promise<number> {
  let acknowledged = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (now() < deadline) {
        if (batch === 1) await api.call("POST", "/api/v1/events", eventBody(nextId++));
        else await api.call("POST", "/api/v1/events/batch", { events: Array.from({ length: batch }, () => eventBody(nextId++)) });
        acknowledged += batch;
      }
    }),
  );
  return acknowledged;
}

const receiver = await startBenchReceiver();
/** When the last event to arrive under a path prefix arrived. */
const lastArrival = (prefix: string) => {
  let last = 0;
  for (const [key, at] of receiver.arrivals) if (key.startsWith(prefix) && at > last) last = at;
  return last;
};
const totals = builds.map(() => ({ events: 0, cpuMs: 0 }));
let bAhead = 0;
console.log(`A ${builds[0]?.cli}\nB ${builds[1]?.cli}\n${rounds} rounds of ${seconds} s, ${clients} clients each, ${batch} event(s) per request`);
for (let r = 0; r < rounds; r++) {
  const running: Running[] = [];
  for (const build of builds) {
    const db = await freshDatabase();
    // As the steady scenario: 64 deliveries in flight to the one endpoint.
    const env = { ...db.env, HOOKLINE_ENDPOINT_CONCURRENCY: "64" };
    const server = await spawnListening([build.cli, "serve", "--port", "0"], env);
    const api = apiClient(server.port, createAccount(env, build.cli));
    await configure(api, [receiver.url(`/side-by-side/${r}/${build.name}`)]);
    running.push({ server, api, drop: db.drop });
  }
  // Warm-up, together: JIT, connection pools, the database's first pages.
  const warmUntil = now() + 2_000;
  await Promise.all(running.map((x) => loadUntil(x.api, warmUntil)));
  await receiver.waitDelivered(nextId - 1, 60_000);
  const before = running.map((x) => procStats(x.server.pid).cpuMs);
  const start = now();
  const deadline = start + seconds * 1_000;
  const events = await Promise.all(running.map((x) => loadUntil(x.api, deadline)));
  await receiver.waitDelivered(nextId - 1, 60_000);
  const line = running.map((x, i) => {
    const cpuMs = procStats(x.server.pid).cpuMs - (before[i] as number);
    const n = events[i] as number;
    const total = totals[i] as (typeof totals)[number];
    total.events += n;
    total.cpuMs += cpuMs;
    // With batches, ingest runs ahead of delivery: the round lasts until its last arrival.
    const delivered = batch > 1 ? `, delivered ${Math.round(n / ((lastArrival(`/side-by-side/${r}/${builds[i]?.name}|`) - start) / 1_000))}/s` : "";
    return `${builds[i]?.name} ${Math.round(n / seconds)}/s${delivered} ${Math.round((cpuMs * 1_000) / n)} µs/event`;
  });
  if ((events[1] as number) > (events[0] as number)) bAhead++;
  console.log(`round ${r + 1}: ${line.join(", ")}`);
  for (const x of running) {
    await x.api.close();
    await x.server.stop();
    await x.drop();
  }
}
await receiver.close();
const [ta, tb] = totals as [(typeof totals)[number], (typeof totals)[number]];
for (const [i, t] of totals.entries())
  console.log(
    `${builds[i]?.name}: ${Math.round(t.events / (rounds * seconds))} events/s, ${((t.cpuMs * 1_000) / t.events).toFixed(1)} µs of server CPU per event`,
  );
console.log(
  `B/A: events ${(tb.events / ta.events).toFixed(3)}, CPU per event ${(tb.cpuMs / tb.events / (ta.cpuMs / ta.events)).toFixed(3)}; B delivered more in ${bAhead} of ${rounds} rounds`,
);
