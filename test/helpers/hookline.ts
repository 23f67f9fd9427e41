/** Starts a real Hookline (HTTP on a free loopback port, SQLite file in a temp folder) for a test. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { createAccount } from "../../src/accounts/accounts.js";
import { HooklineClient, type InstanceDetailOut } from "../../src/client/index.js";
import { type Env, loadConfig } from "../../src/config.js";
import { openStore, type Store } from "../../src/db/connect.js";
import { newId } from "../../src/ids.js";
import { createLogger } from "../../src/logger.js";
import { type Hookline, type StartOptions, startHookline } from "../../src/server.js";
import type { OnCleanup } from "./cleanups.js";
import { type ApiContract, checkResponse, contractFor, type OpenApiDocument, reportMismatch } from "./contract.js";
import { createScratchDatabase } from "./scratch-database.js";
import { testPostgresUrl } from "./test-postgres.js";

export interface TestHookline {
  hookline: Hookline;
  baseUrl: string;
  dataDir: string;
  /** The database it runs on (a SQLite file in dataDir, or its own PostgreSQL database). */
  databaseUrl: string;
  /** Creates an account and a client holding its key. */
  account(name?: string): Promise<{ accountId: string; apiKey: string; client: HooklineClient }>;
  /** Polls until `check` returns a value other than undefined (deliveries are asynchronous). */
  eventually<T>(check: () => Promise<T | undefined>, timeoutMs?: number): Promise<T>;
  stop(): Promise<void>;
}

/** Fast retries and timeouts, loopback allowed: the product's rules at test speed. */
export const TEST_ENV: Env = {
  HOOKLINE_PORT: "0",
  HOOKLINE_HOST: "127.0.0.1",
  HOOKLINE_ALLOWED_NETWORKS: "127.0.0.0/8",
  HOOKLINE_RETRY_SCHEDULE: "0.05,0.05,0.05,0.05",
  HOOKLINE_RETRY_JITTER: "0",
  HOOKLINE_REQUEST_TIMEOUT: "1",
  HOOKLINE_LEASE_MARGIN: "1",
  HOOKLINE_LOG_LEVEL: "silent",
  // Limits have their own tests; elsewhere they would only make tests depend on speed.
  HOOKLINE_RATE_LIMIT_INGEST: "0",
  HOOKLINE_RATE_LIMIT_API: "0",
};

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "hookline-test-"));
}

export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The dialect this test run uses: the suite runs once per dialect (vitest.config.ts projects). */
export const DIALECT: "sqlite" | "postgres" = process.env.HOOKLINE_TEST_DIALECT === "postgres" ? "postgres" : "sqlite";

/** The private test server's URL (scripts/ensure-postgres.sh), or undefined when there is none. */
export const postgresUrl = testPostgresUrl;

/** A fresh, empty PostgreSQL database for one test Hookline (or process group); dropped by `drop`. */
export async function freshPostgresDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const base = postgresUrl();
  if (!base) throw new Error("no PostgreSQL test server: run scripts/ensure-postgres.sh");
  return createScratchDatabase(base);
}

/** A fresh database of this run's dialect: a SQLite file in `dataDir`, or an empty PostgreSQL database. */
export async function freshDatabase(dataDir: string): Promise<{ url: string; drop: () => Promise<void> }> {
  if (DIALECT === "postgres") return freshPostgresDatabase();
  return { url: `sqlite:${path.join(dataDir, "hookline.db")}`, drop: async () => {} };
}

/** A store on a fresh database (SQLite, or the test PostgreSQL's scratch database), removed when the test's cleanups run. */
export async function openFreshStore(onCleanup: OnCleanup): Promise<Store> {
  const dataDir = tempDir();
  const database = await freshDatabase(dataDir);
  const store = await openStore(database.url);
  onCleanup(async () => {
    await store.close();
    await database.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  return store;
}

export async function startTestHookline(env: Env = {}, options: Partial<StartOptions> = {}): Promise<TestHookline> {
  const dataDir = env.HOOKLINE_DATA_DIR ?? tempDir();
  const database = DIALECT === "postgres" && !env.HOOKLINE_DATABASE_URL ? await freshPostgresDatabase() : undefined;
  const config = loadConfig({ ...TEST_ENV, HOOKLINE_DATA_DIR: dataDir, ...(database && { HOOKLINE_DATABASE_URL: database.url }), ...env });
  // HOOKLINE_TEST_LOG=<file>: the test servers' debug log, for chasing a failure.
  const logFile = process.env.HOOKLINE_TEST_LOG;
  const logger = logFile ? createLogger("debug", pino.destination(logFile)) : createLogger(config.logLevel);
  // Every response is checked against the OpenAPI document this Hookline publishes (helpers/contract.ts).
  let contract: ApiContract | undefined;
  const mismatches: string[] = [];
  const hookline = await startHookline(config, {
    logger,
    inspectResponse: (response) => {
      const problem = checkResponse(contract, response);
      if (problem) reportMismatch(response, problem, mismatches);
    },
    ...options,
  });
  contract = contractFor((await hookline.app.inject({ method: "GET", url: "/api/v1/openapi.json" })).json<OpenApiDocument>());
  const address = hookline.app.server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    hookline,
    baseUrl,
    dataDir,
    databaseUrl: config.databaseUrl,
    async account(name = "test") {
      const { account_id, api_key } = await createAccount(hookline.store.db, { newId, now: Date.now }, name);
      return { accountId: account_id, apiKey: api_key, client: new HooklineClient({ baseUrl, apiKey: api_key }) };
    },
    eventually,
    async stop() {
      await hookline.stop();
      await database?.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
      if (mismatches.length > 0) throw new Error(`responses outside a test broke the API contract:\n${mismatches.join("\n")}`);
    },
  };
}

/** A port that was free a moment ago, for servers whose own URL must be known before they start. */
export { freePort } from "./free-port.js";

/** Waits until the action's newest instance has finished (succeeded or failed), and returns it in detail. */
export function finishedInstance(client: HooklineClient, actionId: string): Promise<InstanceDetailOut> {
  return eventually(async () => {
    const instance = (await client.log(actionId)).data[0];
    return instance && instance.state !== "pending" && instance.state !== "retrying" ? client.instance(instance.id) : undefined;
  });
}
