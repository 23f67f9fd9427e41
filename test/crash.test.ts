/**
 * Nothing lost: a server killed with SIGKILL in the middle of ingesting and retrying, then
 * restarted, delivers every event it acknowledged. Real process, real SQLite file, real receiver.
 */
import fs from "node:fs";
import { afterAll, expect, it } from "vitest";
import { HooklineClient } from "../src/client/index.js";
import { eventually, tempDir } from "./helpers/hookline.js";
import { runCli, type ServerProcess, startServer } from "./helpers/process.js";
import { type Receiver, startReceiver } from "./helpers/receiver.js";

const dataDir = tempDir();
let receiver: Receiver | undefined;
let server: ServerProcess | undefined;
afterAll(async () => {
  server?.child.kill("SIGKILL");
  await receiver?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const ENV = {
  HOOKLINE_DATA_DIR: dataDir,
  HOOKLINE_ALLOWED_NETWORKS: "127.0.0.0/8",
  HOOKLINE_RETRY_SCHEDULE: "0.1,0.1,0.1,0.1",
  HOOKLINE_REQUEST_TIMEOUT: "1",
  HOOKLINE_LEASE_MARGIN: "1",
  HOOKLINE_POLL_INTERVAL: "0.2",
  HOOKLINE_LOG_LEVEL: "info",
  HOOKLINE_RATE_LIMIT_INGEST: "0",
};

it("delivers every acknowledged event across kill -9 and restart", async () => {
  receiver = await startReceiver();
  // Each instance's first two attempts get 503, so the kills land in the middle of retries.
  const seen = new Map<string, number>();
  const delivered = new Set<number>();
  receiver.respond("/crash", (r) => {
    const payload = JSON.parse(r.body) as { apptoto_id: string; participant: { id: number } };
    const n = (seen.get(payload.apptoto_id) ?? 0) + 1;
    seen.set(payload.apptoto_id, n);
    if (n <= 2) return { status: 503 };
    delivered.add(payload.participant.id);
    return { status: 200 };
  });

  const { stdout } = await runCli(["accounts", "create", "crash", "--json"], ENV);
  const { api_key: apiKey } = JSON.parse(stdout) as { api_key: string };
  server = await startServer(ENV);
  let client = new HooklineClient({ baseUrl: `http://127.0.0.1:${server.port}`, apiKey });
  const trigger = await client.createTrigger({ name: "crash", type: "participant.confirmed" });
  await client.createAction(trigger.id, { name: "receiver", type: "webhook", url: receiver.url("/crash") });

  const acknowledged = new Set<number>();
  let next = 1;
  /** Ingests events 8 at a time until `count` more are acknowledged or the server dies. */
  async function ingest(count: number): Promise<void> {
    const target = acknowledged.size + count;
    const worker = async () => {
      while (acknowledged.size < target) {
        const id = next++;
        try {
          await client.ingest({ type: "participant.confirmed", data: { participant: { id } } });
          acknowledged.add(id);
        } catch {
          return; // the server is gone: this event was not acknowledged
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
  }

  for (let round = 0; round < 3; round++) {
    await ingest(150);
    // Kill while later events are still being ingested and earlier ones are mid-retry.
    const inFlight = ingest(1_000_000);
    await new Promise((r) => setTimeout(r, 150));
    server.child.kill("SIGKILL");
    await server.exited;
    await inFlight;
    expect(delivered.size).toBeLessThan(acknowledged.size); // the kill did land mid-work
    server = await startServer(ENV);
    client = new HooklineClient({ baseUrl: `http://127.0.0.1:${server.port}`, apiKey });
  }

  await eventually(async () => ([...acknowledged].every((id) => delivered.has(id)) ? true : undefined), 60_000);
  expect(acknowledged.size).toBeGreaterThanOrEqual(450);
  const lost = [...acknowledged].filter((id) => !delivered.has(id));
  expect(lost).toEqual([]);

  server.child.kill("SIGTERM");
  expect(await server.exited).toBe(0);
}, 120_000);
