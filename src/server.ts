/**
 * Composition root: opens the store, builds the ingest path, the API and the delivery worker from
 * the configuration, and runs them until stopped. Dependencies are passed as plain arguments; this
 * is the only place that wires them.
 */
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { createKeyResolver } from "./accounts/accounts.js";
import { resolveSession } from "./accounts/sessions.js";
import type { ProviderProblems } from "./actions/actions.js";
import { createAttemptRecorder } from "./attempts/attempts.js";
import type { Config } from "./config.js";
import { committerOptions, createCommitter } from "./db/committer.js";
import { ping, type Store } from "./db/connect.js";
import { isDatabaseUnavailable } from "./db/unavailable.js";
import { createAnnouncer, listenForWork } from "./db/wakeups.js";
import { scheduledBackoff } from "./deliver/backoff.js";
import { createEmailSender, createMailer } from "./deliver/email.js";
import { createFailingNotifier } from "./deliver/failing-notice.js";
import type { StopListLookup } from "./deliver/message.js";
import { notConfiguredSender } from "./deliver/sender.js";
import { createSmsSender, smsNotConfiguredSender } from "./deliver/sms.js";
import { webhookSenderFor } from "./deliver/webhook.js";
import { createWebhookThread } from "./deliver/webhook-thread.js";
import { createWorker, type Worker } from "./deliver/worker.js";
import { buildApp, buildMetricsApp, type MetricsEndpoint, type ResponseInspector } from "./http/app.js";
import { providerCallbacks, recordWaitFor } from "./http/provider-callbacks.js";
import { createRateLimiter } from "./http/rate-limit.js";
import { apiRoutes } from "./http/routes.js";
import { uiPlugin } from "./http/ui.js";
import { newId as defaultNewId, type IdGenerator } from "./ids.js";
import { createIngest } from "./ingest/ingest.js";
import { createRetention } from "./log/retention.js";
import { createMetrics, renderMetrics } from "./metrics/metrics.js";
import { createAddressPolicy } from "./net/address-policy.js";
import type { Resolve } from "./net/guarded-lookup.js";
import { createHostCheck } from "./net/host-check.js";
import { openToOthers } from "./private-files.js";
import { dueQueue } from "./queue/claim.js";
import { createQueue } from "./queue/queue.js";
import { createCipher } from "./secrets/cipher.js";
import { listenFailure, loadConfiguredKey, openConfiguredStore } from "./startup.js";
import { stoppedAmong } from "./stoplist/stop-list.js";
import { createRenderPool } from "./templates/render-pool.js";
import { createTracing } from "./tracing.js";
import { VERSION } from "./version.js";

export interface Hookline {
  app: FastifyInstance;
  store: Store;
  /** The delivery worker; undefined in an `api` process. */
  worker: Worker | undefined;
  /** The listener of HOOKLINE_METRICS_PORT, when set. */
  metricsApp: FastifyInstance | undefined;
  /** Stops accepting requests, stops claiming, finishes or releases work in flight, closes the database. */
  stop(): Promise<void>;
}

export interface StartOptions {
  logger: Logger;
  now?: () => number;
  newId?: IdGenerator;
  random?: () => number;
  /** The DNS lookup of webhook URLs' host names when they are saved (deliveries use the system's). */
  resolve?: Resolve;
  /** Sees every HTTP response as sent (tests check each against the OpenAPI document). */
  inspectResponse?: ResponseInspector;
}

export async function startHookline(config: Config, options: StartOptions): Promise<Hookline> {
  const { logger } = options;
  const now = options.now ?? Date.now;
  const newId = options.newId ?? defaultNewId;
  // The key first: it needs nothing opened, and a data folder that cannot be written stops the start here.
  const key = loadConfiguredKey(config);
  const store = await openConfiguredStore(config);
  if (openToOthers(config.dataDir)) {
    logger.warn({ dataDir: config.dataDir }, "other users can enter the data folder: its files are owner-only, but `chmod 700` it to keep others out entirely");
  }
  const { db } = store;
  const committer = createCommitter(db, committerOptions(store, config.databasePool));
  const metrics = createMetrics();
  const tracing = await createTracing({ endpoint: config.otlpEndpoint, version: VERSION, role: config.role });

  const cipher = createCipher(key);
  const runsApi = config.role !== "worker";
  const runsWorker = config.role !== "api";
  // Previews, save-time checks, sms/email messages (and webhook bodies sent from this thread) render
  // accounts' templates off this thread.
  const templates = createRenderPool({ logger });
  const webhookSetup = { config, allowedNetworks: config.allowedNetworks, key };
  const webhook = !runsWorker
    ? undefined
    : config.webhookThread
      ? createWebhookThread(webhookSetup, { logger })
      : webhookSenderFor(webhookSetup, { now, templates });
  const stopList: StopListLookup = (accountId, kind, values) => stoppedAmong(db, accountId, kind, values);
  const sms = config.twilio ? createSmsSender({ ...config, twilio: config.twilio }, { templates, stopList, now }) : undefined;
  const mailer = config.smtp ? await createMailer({ ...config, smtp: config.smtp }) : undefined;
  const email = mailer && config.smtp ? createEmailSender(mailer, { smtp: config.smtp }, { templates, stopList, now }) : undefined;
  // Saving an sms/email action works without its provider; its instances fail, and the API says why.
  const providers: ProviderProblems = {
    ...(!sms && {
      sms: "SMS provider not configured: set HOOKLINE_TWILIO_BASE_URL, HOOKLINE_TWILIO_ACCOUNT_SID, HOOKLINE_TWILIO_AUTH_TOKEN and HOOKLINE_TWILIO_FROM",
    }),
    ...(!email && { email: "email provider not configured: set HOOKLINE_SMTP_URL" }),
  };
  const worker = webhook
    ? createWorker({
        // With several workers on one PostgreSQL, claimed rows are locked so two workers never take the same one.
        queue: createQueue({ db, committer, lockClaims: store.dialect === "postgres" }),
        committer,
        senders: {
          webhook,
          sms: sms ?? smsNotConfiguredSender(providers.sms as string, { templates, now }),
          email: email ?? notConfiguredSender(providers.email as string, { now }),
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
        accountConcurrency: config.accountConcurrency,
        perEndpointConcurrency: config.perEndpointConcurrency,
        leaseMs: config.leaseMs,
        pollIntervalMs: config.pollIntervalMs,
        shutdownGraceMs: config.shutdownGraceMs,
        metrics,
        tracer: tracing.tracer,
      })
    : undefined;
  // New instances wake this process's worker at once, and (PostgreSQL) every other process's too.
  const announce = store.dialect === "postgres" ? createAnnouncer(db, logger) : undefined;
  const onInstances = (actionIds?: readonly string[]) => {
    worker?.notify(actionIds);
    announce?.();
  };
  const ingest = createIngest(committer, { newId, now, onInstances, metrics, tracer: tracing.tracer, ...(worker && { reserve: worker.reserve }) });

  const metricsEndpoint: MetricsEndpoint = {
    ...(config.metricsToken && { token: config.metricsToken }),
    render: async () => {
      const t = now();
      // Without the database the process still reports what it knows, and says the database is away
      // (a scrape that fails would hide the counters just when they matter).
      const due = await dueQueue(db, t).catch((err: unknown) => {
        if (!isDatabaseUnavailable(err)) throw err;
        return undefined;
      });
      return renderMetrics(metrics, [
        { name: "hookline_database_up", help: "1 when the database answered this scrape, 0 when it is unavailable", value: due ? 1 : 0 },
        ...(due
          ? [
              { name: "hookline_queue_due", help: "Unfinished instances whose next attempt is due now", value: due.count },
              {
                name: "hookline_queue_oldest_due_age_seconds",
                help: "How long the oldest due instance has waited",
                value: due.oldestDueAt === undefined ? 0 : (t - due.oldestDueAt) / 1000,
              },
            ]
          : []),
        { name: "hookline_attempts_in_flight", help: "Attempts waiting for their receiver in this process", value: worker?.inFlight() ?? 0 },
      ]);
    },
  };
  const app = buildApp({
    // A worker process serves only /health, /ready and /metrics.
    routes: !runsApi
      ? []
      : apiRoutes({
          db,
          committer,
          ingest,
          newId,
          now,
          onInstances,
          providers,
          cipher,
          limits: { maxTriggers: config.maxTriggers, maxActions: config.maxActions },
          // Long enough for one attempt even on a busy machine; the answer says "pending" past it.
          testWaitMs: Math.max(config.requestTimeoutMs + 5_000, 15_000),
          failingAfterMs: config.failingAfterMs,
          templates,
          hostCheck: createHostCheck(createAddressPolicy(config.allowedNetworks), { ...(options.resolve && { resolve: options.resolve }) }),
        }),
    plugins: !runsApi
      ? []
      : [
          providerCallbacks({ committer, twilio: config.twilio, publicUrl: config.publicUrl, now, recordWaitMs: recordWaitFor(config.requestTimeoutMs) }),
          uiPlugin({
            db,
            now,
            embedSecret: config.embedSecret,
            embedOrigins: config.embedOrigins,
            secureCookies: config.publicUrl?.startsWith("https:") ?? false,
          }),
        ],
    resolveKey: createKeyResolver(db, { now }),
    resolveSession: (id) => resolveSession(db, id, now()),
    ready: async () => {
      await ping(db);
      return true;
    },
    logger,
    rateLimiter: createRateLimiter(config.rateLimits, now),
    // With a listener of its own, /metrics is not on this one.
    ...(!config.metricsListener && { metrics: metricsEndpoint }),
    maxBodyBytes: config.maxBodyBytes,
    version: VERSION,
    ...(options.inspectResponse && { inspectResponse: options.inspectResponse }),
  });
  const metricsApp = config.metricsListener && buildMetricsApp(metricsEndpoint, logger);
  // What the process opened, closed last when it stops, and at once when it cannot listen.
  const release = async () => {
    await Promise.all([webhook?.close(), sms?.close(), templates.close()]);
    mailer?.close();
    await tracing.close();
    await store.close();
  };
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    await app.close();
    await release();
    throw listenFailure(error, config);
  }
  if (metricsApp && config.metricsListener) {
    try {
      await metricsApp.listen({ ...config.metricsListener }); // a copy: listen adds to its options
    } catch (error) {
      await Promise.all([app.close(), metricsApp.close()]);
      await release();
      throw listenFailure(error, config.metricsListener, ["HOOKLINE_METRICS_PORT", "HOOKLINE_METRICS_HOST"]);
    }
  }

  // Delivery and the background jobs run where the worker runs; an `api` process only answers.
  const stopWorker = new AbortController();
  const background: Promise<void>[] = [];
  if (worker) {
    background.push(worker.run(stopWorker.signal));
    if (store.dialect === "postgres") {
      background.push(listenForWork(config.databaseUrl, () => worker.notify(), { logger, signal: stopWorker.signal }));
    }
    background.push(createRetention({ committer, retentionMs: config.retentionMs, logger, now }).run(stopWorker.signal));
    // Notices need a mail server; without one, failing actions are still flagged in the API and UI.
    if (mailer && config.smtp) {
      background.push(
        createFailingNotifier({ db, mailer, from: config.smtp.from, failingAfterMs: config.failingAfterMs, publicUrl: config.publicUrl, logger, now }).run(
          stopWorker.signal,
        ),
      );
    }
  }

  let stopping: Promise<void> | undefined;
  return {
    app,
    store,
    worker,
    metricsApp,
    stop() {
      stopping ??= (async () => {
        await Promise.all([app.close(), metricsApp?.close()]);
        stopWorker.abort();
        await Promise.all(background);
        await release();
      })();
      return stopping;
    },
  };
}
