/**
 * Configuration is parsed once, at startup, into a frozen typed object.
 * Every component receives the values it needs from here; nothing else reads process.env.
 * Tests build a Config with `buildConfig({...})` instead of editing the environment.
 */
import path from "node:path";
import { z } from "zod";
import { type Cidr, parseCidr } from "./net/cidr.js";
import { decodeKey } from "./secrets/cipher.js";

export interface Config {
  readonly port: number;
  readonly host: string;
  /** Where /metrics is served instead of the main listener; undefined: on the main listener. */
  readonly metricsListener: Readonly<{ port: number; host: string }> | undefined;
  /** A scrape must send `Authorization: Bearer <token>`; undefined: /metrics is open. */
  readonly metricsToken: string | undefined;
  /** `sqlite:<path>` or `postgres://…` */
  readonly databaseUrl: string;
  readonly dataDir: string;
  /** PostgreSQL connections per process. */
  readonly databasePool: number;
  /** What this process runs; several `api` and `worker` processes can share one PostgreSQL. */
  readonly role: Role;
  /** Delays between attempts, in ms: attempt n+1 waits retrySchedule[n-1]. Its length + 1 is the attempt cap. */
  readonly retrySchedule: readonly number[];
  /** Fraction of each delay randomised (0.2 = ±20%) so a recovering endpoint is not hit by a thundering herd. */
  readonly retryJitter: number;
  readonly maxAttempts: number;
  /** Upper bound for a receiver's Retry-After on 408/429. */
  readonly maxRetryAfterMs: number;
  readonly allowedNetworks: readonly Cidr[];
  readonly connectTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly responseBodyCapBytes: number;
  readonly maxBodyBytes: number;
  /** Per account and second; 0 = unlimited. */
  readonly rateLimits: Readonly<{ ingest: number; api: number }>;
  readonly maxTriggers: number;
  readonly failingAfterMs: number;
  /** Finished instances older than this are pruned with their attempts and events. */
  readonly retentionMs: number;
  readonly maxActions: number;
  readonly concurrency: number;
  /** Deliveries in flight for one account's actions together: the rest of the slots stay for the others. */
  readonly accountConcurrency: number;
  readonly perEndpointConcurrency: number;
  /** Webhook requests run on a thread of their own (deliver/webhook-thread.ts). */
  readonly webhookThread: boolean;
  /** How long a claimed instance is reserved for one worker: always longer than one attempt can take. */
  readonly leaseMs: number;
  /** Fallback poll interval; new work and due retries wake the worker without waiting for it. */
  readonly pollIntervalMs: number;
  /** On SIGTERM, attempts in flight may finish for this long; then they are aborted and released. */
  readonly shutdownGraceMs: number;
  readonly logLevel: string;
  /** Email actions' SMTP server; undefined when not configured (their instances then fail, saying so). */
  readonly smtp: Readonly<{ url: string; from: string }> | undefined;
  /** SMS actions' Twilio-compatible API; undefined when not configured. */
  readonly twilio: Readonly<{ baseUrl: string; accountSid: string; authToken: string; from: string }> | undefined;
  /** OpenTelemetry collector for traces (OTLP/HTTP); undefined: tracing off. */
  readonly otlpEndpoint: string | undefined;
  /** Where providers reach this server (status callbacks); undefined: no callbacks are requested. */
  readonly publicUrl: string | undefined;
  /** Secret a platform signs web UI embed tokens with; undefined: embedding is off. */
  readonly embedSecret: string | undefined;
  readonly embedOrigins: readonly string[];
  /** Key sealing secrets at rest (32 bytes, base64 or hex); undefined: `<data dir>/secret.key`. */
  readonly secretKey: string | undefined;
}

export const ROLES = ["all", "api", "worker"] as const;
export type Role = (typeof ROLES)[number];

function parseRole(raw: string, databaseUrl: string): Role {
  if (!(ROLES as readonly string[]).includes(raw)) throw refused("HOOKLINE_ROLE", JSON.stringify(raw), `expected one of ${ROLES.join(", ")}`);
  // Two processes on one SQLite file could claim the same instance (no row locks): one process owns it.
  if (raw !== "all" && databaseUrl.startsWith("sqlite:")) {
    throw new ConfigError(`HOOKLINE_ROLE=${raw} needs PostgreSQL (HOOKLINE_DATABASE_URL=postgres://…); on SQLite one process runs everything (all)`);
  }
  return raw as Role;
}

export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(
    message: string,
    /** The refused value of one variable, when that is what went wrong (the CLI names its flag instead). */
    readonly refused?: { variable: EnvName; shown: string; problem: string },
  ) {
    super(message);
  }
}

/** `variable`'s value refused: `NAME=<shown>: problem`, where `shown` is the value as it may be printed. */
function refused(variable: EnvName, shown: string, problem: string): ConfigError {
  return new ConfigError(`${variable}=${shown}: ${problem}`, { variable, shown, problem });
}

/** A number not below zero; `what` says in the error what it counts ("a number of seconds"). */
const nonNegative = (name: string, what: string) =>
  z.coerce
    .number({ error: `${name} must be ${what}` })
    .finite(`${name} must be ${what}`)
    .nonnegative(`${name} must not be negative`);
const seconds = (name: string) => nonNegative(name, "a number of seconds");

const PORT_RANGE = "a port is a whole number from 0 to 65535";
const portNumber = z.coerce.number({ error: PORT_RANGE }).int(PORT_RANGE).min(0, PORT_RANGE).max(65535, PORT_RANGE);

const positiveInt = (name: string) =>
  z.coerce
    .number({ error: `${name} must be a whole number` })
    .int(`${name} must be a whole number`)
    .positive(`${name} must be positive`);

/**
 * The environment variables Hookline reads, with their defaults: the one list behind `--help` and
 * docs/CONFIGURATION.md's table (`npm run docs:config` writes it; a test fails when it is stale).
 * Help texts are Markdown: code in backticks, which `--help` prints without them.
 */
export const ENV_VARS = {
  HOOKLINE_PORT: { default: "8080", help: "HTTP port for the API and UI (`--port`)" },
  HOOKLINE_HOST: { default: "0.0.0.0", help: "interface to listen on" },
  HOOKLINE_METRICS_PORT: { default: "", help: "serve `/metrics` on this port instead of the main one, which then answers 404 for it" },
  HOOKLINE_METRICS_HOST: { default: "127.0.0.1", help: "interface the metrics port listens on" },
  HOOKLINE_METRICS_TOKEN: {
    default: "",
    help: "`/metrics` answers only to `Authorization: Bearer <token>` (at least 16 characters), else 401",
  },
  HOOKLINE_DATA_DIR: { default: "./hookline-data", help: "folder of the embedded database and generated files (`--data-dir`)" },
  HOOKLINE_DATABASE_URL: {
    default: "sqlite:<data dir>/hookline.db",
    help: "`sqlite:<path>`, or `postgres://user:pass@host:5432/db` (`--database-url`)",
  },
  HOOKLINE_DATABASE_POOL: { default: "10", help: "PostgreSQL connections per process" },
  HOOKLINE_ROLE: {
    default: "all",
    help: "what this process runs (`--role`): `all` (API, UI and delivery); `api` (API and UI); `worker` (delivery and background jobs; serves only `/health`, `/ready`, `/metrics`). `api` and `worker` need PostgreSQL",
  },
  HOOKLINE_RETRY_SCHEDULE: { default: "30,120,600,3600", help: "seconds between attempts, comma-separated; attempts = entries + 1, at most 5" },
  HOOKLINE_RETRY_JITTER: { default: "0.2", help: "random ± fraction applied to each retry delay" },
  HOOKLINE_MAX_RETRY_AFTER: { default: "3600", help: "cap, in seconds, on a receiver's `Retry-After` (408 and 429)" },
  HOOKLINE_ALLOWED_NETWORKS: {
    default: "",
    help: "comma-separated CIDRs outbound requests may reach despite the private-network block, e.g. `127.0.0.0/8`",
  },
  HOOKLINE_CONNECT_TIMEOUT: { default: "5", help: "seconds to connect to a receiver" },
  HOOKLINE_REQUEST_TIMEOUT: { default: "15", help: "seconds one attempt may take in all, response included" },
  HOOKLINE_RESPONSE_BODY_CAP: { default: "65536", help: "bytes of a receiver's response body kept in the log" },
  HOOKLINE_MAX_BODY_BYTES: {
    default: "1048576",
    help: "largest API request body (413 above); a JSON body nesting objects and arrays more than 64 levels deep is refused with 400, whatever its size",
  },
  HOOKLINE_RATE_LIMIT_INGEST: { default: "1000", help: "events per second one account may ingest (bursts of 2 s pass; 429 beyond); `0` = unlimited" },
  HOOKLINE_RATE_LIMIT_API: { default: "50", help: "management calls per second per account (bursts of 2 s pass); `0` = unlimited" },
  HOOKLINE_MAX_TRIGGERS: { default: "1000", help: "triggers one account may have (409 beyond)" },
  HOOKLINE_MAX_ACTIONS: { default: "5000", help: "actions one account may have, over all its triggers" },
  HOOKLINE_FAILING_AFTER: {
    default: "86400",
    help: "seconds an action's deliveries must fail, with no success, before it is flagged `failing` (and its account emailed, when SMTP is configured)",
  },
  HOOKLINE_RETENTION_DAYS: {
    default: "30",
    help: "days finished deliveries (instances and their attempts) and their events are kept; pruned in small batches in the background; unfinished ones are never pruned",
  },
  HOOKLINE_CONCURRENCY: { default: "256", help: "deliveries in flight at once, in all (a worker holds as many again queued for a slot)" },
  HOOKLINE_ACCOUNT_CONCURRENCY: {
    default: "64",
    help: "deliveries in flight at once for one account's actions together (as many again queued), so one account's dead endpoints leave the other slots to the other accounts",
  },
  HOOKLINE_ENDPOINT_CONCURRENCY: {
    default: "16",
    help: "deliveries in flight at once to one action, so a slow endpoint cannot starve the others (as many again queued)",
  },
  HOOKLINE_WEBHOOK_THREAD: {
    default: "on",
    help: "`on`: webhook requests (opening the action's secrets, signing, the HTTP exchange) run on a thread of their own, beside the thread with the database, so a server uses a second core; `off`: everything on one thread",
  },
  HOOKLINE_LEASE_MARGIN: { default: "15", help: "seconds a claim outlives the longest attempt before another worker may take it" },
  HOOKLINE_SHUTDOWN_GRACE: { default: "10", help: "seconds attempts in flight may finish after SIGTERM; the rest are released untouched for the next start" },
  HOOKLINE_POLL_INTERVAL: { default: "1", help: "fallback seconds between checks for due work" },
  HOOKLINE_LOG_LEVEL: { default: "info", help: "`fatal`, `error`, `warn`, `info`, `debug`, `trace`, or `silent`" },
  HOOKLINE_SMTP_URL: {
    default: "",
    help: "SMTP server for email actions: `smtp://user:pass@host:587` (STARTTLS when offered) or `smtps://…:465`",
  },
  HOOKLINE_SMTP_FROM: { default: "Hookline <hookline@localhost>", help: "From address of email actions" },
  HOOKLINE_TWILIO_BASE_URL: {
    default: "",
    help: "Twilio-compatible API for SMS actions (`https://api.twilio.com`, or any service speaking its Messages API); the four `HOOKLINE_TWILIO_*` variables are set all together, or none",
  },
  HOOKLINE_TWILIO_ACCOUNT_SID: { default: "", help: "Twilio account SID" },
  HOOKLINE_TWILIO_AUTH_TOKEN: { default: "", help: "Twilio auth token" },
  HOOKLINE_TWILIO_FROM: { default: "", help: "SMS sender: a number (E.164) or a messaging service SID (`MG…`)" },
  HOOKLINE_SECRET_KEY: {
    default: "",
    help: "32-byte key (base64 or hex) sealing stored signing secrets; default: generated into `<data dir>/secret.key`. Back it up with the database",
  },
  HOOKLINE_EMBED_SECRET: {
    default: "",
    help: "shared secret (at least 32 characters) with which a platform signs embed tokens for the web UI; embedding is off without it",
  },
  HOOKLINE_EMBED_ORIGINS: {
    default: "",
    help: "space-separated origins allowed to show the web UI in an iframe (CSP `frame-ancestors`), e.g. `https://app.example.com`",
  },
  HOOKLINE_OTLP_ENDPOINT: {
    default: "",
    help: "OpenTelemetry collector (OTLP/HTTP), e.g. `http://otel-collector:4318`: ingest and delivery spans go to `<endpoint>/v1/traces`; tracing is off without it",
  },
  HOOKLINE_PUBLIC_URL: {
    default: "",
    help: "this server's URL as browsers and providers reach it, e.g. `https://hooks.example.com`: used in sign-in links, for SMS delivery status callbacks, and (when `https://`) to mark cookies Secure",
  },
} as const;

export type EnvName = keyof typeof ENV_VARS;
export type Env = Partial<Record<EnvName, string | undefined>>;

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

function parseValue<T>(name: EnvName, schema: z.ZodType<T>, raw: string): T {
  const result = schema.safeParse(raw);
  if (!result.success) {
    throw refused(name, JSON.stringify(raw), result.error.issues[0]?.message ?? "invalid");
  }
  return result.data;
}

function parseSchedule(raw: string): number[] {
  const parts = raw.split(",").map((p) => p.trim());
  if (parts.length === 0 || parts.some((p) => p === "")) {
    throw refused("HOOKLINE_RETRY_SCHEDULE", JSON.stringify(raw), "expected comma-separated seconds, e.g. 30,120,600,3600");
  }
  // The product promises at most 5 attempts in all: 4 delays.
  if (parts.length > 4) {
    throw refused("HOOKLINE_RETRY_SCHEDULE", JSON.stringify(raw), "at most 4 delays (5 attempts in all)");
  }
  return parts.map((p) => Math.round(parseValue("HOOKLINE_RETRY_SCHEDULE", seconds("HOOKLINE_RETRY_SCHEDULE"), p) * 1000));
}

function parseNetworks(raw: string): Cidr[] {
  return raw
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "")
    .map((p) => {
      try {
        return parseCidr(p);
      } catch (error) {
        throw new ConfigError(`HOOKLINE_ALLOWED_NETWORKS: ${(error as Error).message}`);
      }
    });
}

function parseUrl(name: EnvName, raw: string, protocols: readonly string[]): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refused(name, JSON.stringify(raw), "not a URL");
  }
  if (!protocols.includes(url.protocol)) throw new ConfigError(`${name}: expected a ${protocols.join(" or ")} URL`);
  return raw.replace(/\/$/, "");
}

/** The SMS provider is configured by four variables: all of them, or none. */
function parseTwilio(env: Env): Config["twilio"] {
  const names = ["HOOKLINE_TWILIO_BASE_URL", "HOOKLINE_TWILIO_ACCOUNT_SID", "HOOKLINE_TWILIO_AUTH_TOKEN", "HOOKLINE_TWILIO_FROM"] as const;
  const given = names.filter((n) => env[n]);
  if (given.length === 0) return undefined;
  const missing = names.filter((n) => !env[n]);
  if (missing.length > 0) throw new ConfigError(`SMS provider half configured: ${given.join(", ")} set but ${missing.join(", ")} missing`);
  return Object.freeze({
    baseUrl: parseUrl("HOOKLINE_TWILIO_BASE_URL", env.HOOKLINE_TWILIO_BASE_URL as string, ["http:", "https:"]),
    accountSid: env.HOOKLINE_TWILIO_ACCOUNT_SID as string,
    authToken: env.HOOKLINE_TWILIO_AUTH_TOKEN as string,
    from: env.HOOKLINE_TWILIO_FROM as string,
  });
}

function parseEmbedSecret(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  if (raw.length < 32) throw new ConfigError("HOOKLINE_EMBED_SECRET must be at least 32 characters (e.g. `openssl rand -base64 32`)");
  return raw;
}

function parseMetricsToken(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  if (raw.length < 16) throw new ConfigError("HOOKLINE_METRICS_TOKEN must be at least 16 characters (e.g. `openssl rand -base64 24`)");
  return raw;
}

function parseSecretKey(raw: string): string {
  try {
    decodeKey(raw);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  return raw;
}

function parseDatabaseUrl(raw: string): string {
  if (raw.startsWith("sqlite:") && raw.length > "sqlite:".length) return raw;
  if (raw.startsWith("postgres://") || raw.startsWith("postgresql://")) return parseUrl("HOOKLINE_DATABASE_URL", raw, ["postgres:", "postgresql:"]);
  throw refused("HOOKLINE_DATABASE_URL", JSON.stringify(raw.replace(/\/\/[^@/]*@/, "//…@")), "expected sqlite:<path> or postgres://…");
}

/** The embedded database in the data folder: the database when HOOKLINE_DATABASE_URL names none. */
export const defaultDatabaseUrl = (dataDir: string) => `sqlite:${path.join(dataDir, "hookline.db")}`;

/** Builds the frozen configuration from environment-style strings; unknown/empty values take defaults. */
export function loadConfig(env: Env): Config {
  const get = (name: EnvName): string => {
    const value = env[name];
    return value === undefined || value === "" ? ENV_VARS[name].default : value;
  };

  const dataDir = path.resolve(get("HOOKLINE_DATA_DIR"));
  const databaseUrl = parseDatabaseUrl(env.HOOKLINE_DATABASE_URL || defaultDatabaseUrl(dataDir));
  const retrySchedule = parseSchedule(get("HOOKLINE_RETRY_SCHEDULE"));
  const requestTimeoutMs = Math.round(
    parseValue("HOOKLINE_REQUEST_TIMEOUT", seconds("HOOKLINE_REQUEST_TIMEOUT").positive(), get("HOOKLINE_REQUEST_TIMEOUT")) * 1000,
  );
  const leaseMarginMs = Math.round(parseValue("HOOKLINE_LEASE_MARGIN", seconds("HOOKLINE_LEASE_MARGIN"), get("HOOKLINE_LEASE_MARGIN")) * 1000);
  const logLevel = get("HOOKLINE_LOG_LEVEL");
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw refused("HOOKLINE_LOG_LEVEL", JSON.stringify(logLevel), `expected one of ${LOG_LEVELS.join(", ")}`);
  }
  const jitter = parseValue(
    "HOOKLINE_RETRY_JITTER",
    nonNegative("HOOKLINE_RETRY_JITTER", "a fraction from 0 to 1").max(1, "HOOKLINE_RETRY_JITTER must be a fraction from 0 to 1"),
    get("HOOKLINE_RETRY_JITTER"),
  );

  const config: Config = {
    port: parseValue("HOOKLINE_PORT", portNumber, get("HOOKLINE_PORT")),
    host: get("HOOKLINE_HOST"),
    metricsListener: env.HOOKLINE_METRICS_PORT
      ? Object.freeze({ port: parseValue("HOOKLINE_METRICS_PORT", portNumber, env.HOOKLINE_METRICS_PORT), host: get("HOOKLINE_METRICS_HOST") })
      : undefined,
    metricsToken: parseMetricsToken(env.HOOKLINE_METRICS_TOKEN),
    databaseUrl,
    dataDir,
    databasePool: parseValue("HOOKLINE_DATABASE_POOL", positiveInt("HOOKLINE_DATABASE_POOL"), get("HOOKLINE_DATABASE_POOL")),
    role: parseRole(get("HOOKLINE_ROLE"), databaseUrl),
    retrySchedule,
    retryJitter: jitter,
    maxAttempts: retrySchedule.length + 1,
    maxRetryAfterMs: Math.round(parseValue("HOOKLINE_MAX_RETRY_AFTER", seconds("HOOKLINE_MAX_RETRY_AFTER"), get("HOOKLINE_MAX_RETRY_AFTER")) * 1000),
    allowedNetworks: parseNetworks(get("HOOKLINE_ALLOWED_NETWORKS")),
    connectTimeoutMs: Math.round(
      parseValue("HOOKLINE_CONNECT_TIMEOUT", seconds("HOOKLINE_CONNECT_TIMEOUT").positive(), get("HOOKLINE_CONNECT_TIMEOUT")) * 1000,
    ),
    requestTimeoutMs,
    responseBodyCapBytes: parseValue("HOOKLINE_RESPONSE_BODY_CAP", positiveInt("HOOKLINE_RESPONSE_BODY_CAP"), get("HOOKLINE_RESPONSE_BODY_CAP")),
    maxBodyBytes: parseValue("HOOKLINE_MAX_BODY_BYTES", positiveInt("HOOKLINE_MAX_BODY_BYTES"), get("HOOKLINE_MAX_BODY_BYTES")),
    rateLimits: Object.freeze({
      ingest: parseValue("HOOKLINE_RATE_LIMIT_INGEST", nonNegative("HOOKLINE_RATE_LIMIT_INGEST", "a number per second"), get("HOOKLINE_RATE_LIMIT_INGEST")),
      api: parseValue("HOOKLINE_RATE_LIMIT_API", nonNegative("HOOKLINE_RATE_LIMIT_API", "a number per second"), get("HOOKLINE_RATE_LIMIT_API")),
    }),
    retentionMs: Math.round(
      parseValue(
        "HOOKLINE_RETENTION_DAYS",
        nonNegative("HOOKLINE_RETENTION_DAYS", "a number of days").positive("HOOKLINE_RETENTION_DAYS must be positive"),
        get("HOOKLINE_RETENTION_DAYS"),
      ) * 86_400_000,
    ),
    failingAfterMs: Math.round(parseValue("HOOKLINE_FAILING_AFTER", seconds("HOOKLINE_FAILING_AFTER").positive(), get("HOOKLINE_FAILING_AFTER")) * 1000),
    maxTriggers: parseValue("HOOKLINE_MAX_TRIGGERS", positiveInt("HOOKLINE_MAX_TRIGGERS"), get("HOOKLINE_MAX_TRIGGERS")),
    maxActions: parseValue("HOOKLINE_MAX_ACTIONS", positiveInt("HOOKLINE_MAX_ACTIONS"), get("HOOKLINE_MAX_ACTIONS")),
    concurrency: parseValue("HOOKLINE_CONCURRENCY", positiveInt("HOOKLINE_CONCURRENCY"), get("HOOKLINE_CONCURRENCY")),
    accountConcurrency: parseValue("HOOKLINE_ACCOUNT_CONCURRENCY", positiveInt("HOOKLINE_ACCOUNT_CONCURRENCY"), get("HOOKLINE_ACCOUNT_CONCURRENCY")),
    perEndpointConcurrency: parseValue("HOOKLINE_ENDPOINT_CONCURRENCY", positiveInt("HOOKLINE_ENDPOINT_CONCURRENCY"), get("HOOKLINE_ENDPOINT_CONCURRENCY")),
    webhookThread: parseValue("HOOKLINE_WEBHOOK_THREAD", z.enum(["on", "off"], "expected on or off"), get("HOOKLINE_WEBHOOK_THREAD")) === "on",
    leaseMs: requestTimeoutMs + leaseMarginMs,
    pollIntervalMs: Math.round(parseValue("HOOKLINE_POLL_INTERVAL", seconds("HOOKLINE_POLL_INTERVAL").positive(), get("HOOKLINE_POLL_INTERVAL")) * 1000),
    shutdownGraceMs: Math.round(parseValue("HOOKLINE_SHUTDOWN_GRACE", seconds("HOOKLINE_SHUTDOWN_GRACE"), get("HOOKLINE_SHUTDOWN_GRACE")) * 1000),
    logLevel,
    smtp: env.HOOKLINE_SMTP_URL
      ? Object.freeze({ url: parseUrl("HOOKLINE_SMTP_URL", env.HOOKLINE_SMTP_URL, ["smtp:", "smtps:"]), from: get("HOOKLINE_SMTP_FROM") })
      : undefined,
    twilio: parseTwilio(env),
    embedSecret: parseEmbedSecret(env.HOOKLINE_EMBED_SECRET),
    embedOrigins: Object.freeze(
      (env.HOOKLINE_EMBED_ORIGINS ?? "")
        .split(/\s+/)
        .filter(Boolean)
        .map((o) => new URL(parseUrl("HOOKLINE_EMBED_ORIGINS", o, ["https:", "http:"])).origin),
    ),
    secretKey: env.HOOKLINE_SECRET_KEY ? parseSecretKey(env.HOOKLINE_SECRET_KEY) : undefined,
    otlpEndpoint: env.HOOKLINE_OTLP_ENDPOINT ? parseUrl("HOOKLINE_OTLP_ENDPOINT", env.HOOKLINE_OTLP_ENDPOINT, ["http:", "https:"]) : undefined,
    publicUrl: env.HOOKLINE_PUBLIC_URL ? parseUrl("HOOKLINE_PUBLIC_URL", env.HOOKLINE_PUBLIC_URL, ["http:", "https:"]) : undefined,
  };
  return Object.freeze({ ...config, retrySchedule: Object.freeze([...retrySchedule]), allowedNetworks: Object.freeze([...config.allowedNetworks]) });
}
