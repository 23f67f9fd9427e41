/**
 * Composition root: opens the store, builds the ingest path, the API and the delivery worker from
 * the configuration, and runs them until stopped. Dependencies are passed as plain arguments; this
 * is the only place that wires them.
 */
import type { FastifyInstance } from "fastify";
import { sql } from "kysely";
import type { Logger } from "pino";
import { createKeyResolver } from "./accounts/accounts.js";
import { createAttemptRecorder } from "./attempts/attempts.js";
import type { Config } from "./config.js";
import { createCommitter } from "./db/committer.js";
import { openStore, type Store } from "./db/connect.js";
import { scheduledBackoff } from "./deliver/backoff.js";
import { notConfiguredSender } from "./deliver/sender.js";
import { createWebhookSender } from "./deliver/webhook.js";
import { createWorker, type Worker } from "./deliver/worker.js";
import { buildApp } from "./http/app.js";
import { apiRoutes } from "./http/routes.js";
import { newId as defaultNewId, type IdGenerator } from "./ids.js";
import { createIngest } from "./ingest/ingest.js";
import { createAddressPolicy } from "./net/address-policy.js";

export const VERSION = "0.1.0";

export interface Hookline {
  app: FastifyInstance;
  store: Store;
  worker: Worker;
  /** Stops accepting requests, stops claiming, finishes or releases work in flight, closes the database. */
  stop(): Promise<void>;
}

export interface StartOptions {
  logger: Logger;
  now?: () => number;
  newId?: IdGenerator;
  random?: () => number;
}

export async function startHookline(config: Config, options: StartOptions): Promise<Hookline> {
  const { logger } = options;
  const now = options.now ?? Date.now;
  const newId = options.newId ?? defaultNewId;
  const store = await openStore(config.databaseUrl);
  const { db } = store;
  const committer = createCommitter(db);

  const webhook = createWebhookSender(config, createAddressPolicy(config.allowedNetworks), { now });
  const worker = createWorker({
    db,
    committer,
    senders: {
      webhook,
      sms: notConfiguredSender("SMS provider not configured: set HOOKLINE_TWILIO_BASE_URL, _ACCOUNT_SID, _AUTH_TOKEN and _FROM", { now }),
      email: notConfiguredSender("email provider not configured: set HOOKLINE_SMTP_URL", { now }),
    },
    recorder: createAttemptRecorder(committer, { newId }),
    policy: {
      maxAttempts: config.maxAttempts,
      backoff: scheduledBackoff(config.retrySchedule, config.retryJitter, options.random),
      maxRetryAfterMs: config.maxRetryAfterMs,
    },
    logger,
    now,
    concurrency: config.concurrency,
    perEndpointConcurrency: config.perEndpointConcurrency,
    leaseMs: config.leaseMs,
    pollIntervalMs: config.pollIntervalMs,
    shutdownGraceMs: config.shutdownGraceMs,
  });
  const onInstances = () => worker.notify();
  const ingest = createIngest(committer, { newId, now, onInstances });

  const app = buildApp({
    routes: apiRoutes({ db, ingest, newId, now, onInstances }),
    resolveKey: createKeyResolver(db, { now }),
    ready: async () => {
      await sql`select 1`.execute(db);
      return true;
    },
    logger,
    maxBodyBytes: config.maxBodyBytes,
    version: VERSION,
  });
  await app.listen({ port: config.port, host: config.host });

  const stopWorker = new AbortController();
  const workerDone = worker.run(stopWorker.signal);

  let stopping: Promise<void> | undefined;
  return {
    app,
    store,
    worker,
    stop() {
      stopping ??= (async () => {
        await app.close();
        stopWorker.abort();
        await workerDone;
        await webhook.close();
        await store.close();
      })();
      return stopping;
    },
  };
}
