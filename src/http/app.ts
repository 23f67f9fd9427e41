/**
 * The HTTP server: the route table, bearer-key authentication, /health, /ready, the OpenAPI
 * document, and one error translator to `{"error": {"code", "message"}}`.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import Fastify, {
  errorCodes,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyPluginAsync,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from "fastify";
import type { Logger } from "pino";
import type { Session } from "../accounts/sessions.js";
import { createOutageLog } from "../db/outage-log.js";
import { isDatabaseUnavailable } from "../db/unavailable.js";
import { HooklineError, RateLimitedError, UnauthorizedError } from "../errors.js";
import { parseInput } from "../validation.js";
import { openApiDocument } from "./openapi.js";
import type { RateLimiter } from "./rate-limit.js";
import { lazyRequestLogger } from "./request-logger.js";
import { NO_PARAMS, NO_QUERY, type Route } from "./route.js";

export interface AppDeps {
  routes: Route[];
  /** A web UI session from its cookie (the UI is a client of this same API). */
  resolveSession: (id: string) => Promise<Session | undefined>;
  /** Endpoints outside the JSON API (provider callbacks), each in its own encapsulated plugin. */
  plugins?: FastifyPluginAsync[];
  resolveKey: (key: string) => Promise<string | undefined>;
  /** True when the database answers. */
  ready: () => Promise<boolean>;
  logger: Logger;
  rateLimiter: RateLimiter;
  /** Served here as /metrics; absent when it has a listener of its own (HOOKLINE_METRICS_PORT): 404 here. */
  metrics?: MetricsEndpoint;
  maxBodyBytes: number;
  version: string;
  /** Sees every response as sent (tests check each against the OpenAPI document). */
  inspectResponse?: ResponseInspector;
}

/** A response as sent: `route` is the matched route's path pattern, undefined when no route matched. */
export type ResponseInspector = (response: { method: string; url: string; route: string | undefined; status: number; body: string | undefined }) => void;

/** Fastify's own errors, translated to the API's codes. */
const FRAMEWORK_ERRORS: Record<string, { status: number; code: string; message?: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: "malformed_json" },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: "payload_too_large" },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: "unsupported_media_type", message: "send Content-Type: application/json" },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: "bad_request" },
};

export const SESSION_COOKIE = "hookline_session";
export const CSRF_COOKIE = "hookline_csrf";
export const CSRF_HEADER = "x-hookline-csrf";
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k !== name) continue;
    // A value that is not valid percent-encoding names no session: it counts as absent, not as a server error.
    try {
      return decodeURIComponent(v.join("="));
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * A cookie-authenticated write must echo the session's CSRF token in a header, which another site
 * can neither read nor send (SameSite cookies are the first line; this is the second).
 */
export function checkCsrf(session: Session, given: string | string[] | undefined): void {
  if (given !== session.csrf) throw new HooklineError(403, "csrf_failed", `a signed-in browser must send the ${CSRF_HEADER} header; reload the page`);
}

/**
 * How deeply a JSON body may nest objects and arrays (the body itself is the first level). Validation
 * recurses once per level, so a body thousands of levels deep would overflow the stack.
 */
export const MAX_JSON_DEPTH = 64;

/** Whether JSON text nests objects and arrays deeper than `limit`: one pass, no recursion, brackets in strings not counted. */
export function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // Strings are most of a body: jump over each with indexOf rather than reading it character by character.
    if (c === 0x22) i = closingQuote(text, i);
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/** The index of the quote that closes the string opened at `open` (one not escaped by an odd run of backslashes), or the text's end. */
function closingQuote(text: string, open: number): number {
  let quote = text.indexOf('"', open + 1);
  while (quote !== -1) {
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return quote;
    quote = text.indexOf('"', quote + 1);
  }
  return text.length;
}

function bearerKey(header: string | undefined): string | undefined {
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match?.[1];
}

const noRoute = (request: FastifyRequest, reply: FastifyReply) =>
  reply.code(404).send({ error: { code: "not_found", message: `no route ${request.method} ${request.url.split("?")[0]}` } });

export interface MetricsEndpoint {
  /** The Prometheus exposition, measured now. */
  render: () => Promise<string>;
  /** When set (HOOKLINE_METRICS_TOKEN), a scrape must send `Authorization: Bearer <token>`. */
  token?: string;
}

/**
 * GET /metrics: counts and queue figures only, no account data, for a scraper on the operator's
 * network; kept from others by a listener of its own or by a token.
 */
function serveMetrics(app: FastifyInstance, { render, token }: MetricsEndpoint): void {
  // Digests compare in constant time whatever the lengths.
  const digest = (text: string) => createHash("sha256").update(text).digest();
  const expected = token === undefined ? undefined : digest(token);
  app.get("/metrics", async (request, reply) => {
    if (expected && !timingSafeEqual(digest(bearerKey(request.headers.authorization) ?? ""), expected)) {
      return reply
        .code(401)
        .header("www-authenticate", "Bearer")
        .send({ error: { code: "unauthorized", message: "missing or wrong metrics token (Authorization: Bearer <HOOKLINE_METRICS_TOKEN>)" } });
    }
    return reply.type("text/plain; version=0.0.4").send(await render());
  });
}

/** The listener of HOOKLINE_METRICS_PORT: /metrics alone. */
export function buildMetricsApp(endpoint: MetricsEndpoint, logger: Logger): FastifyInstance {
  const app = Fastify({ loggerInstance: logger as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }) });
  app.setNotFoundHandler(noRoute);
  serveMetrics(app, endpoint);
  return app;
}

export function buildApp(deps: AppDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: deps.maxBodyBytes,
    // Request lines are not logged per request (hot path); errors are, without headers or bodies.
    logController: new LogController({ disableRequestLogging: true }),
    // Made when a request first logs (request-logger.ts), not for every request.
    childLoggerFactory: lazyRequestLogger,
    return503OnClosing: true,
    // Inbound slow-loris: a client must send its whole request within 30 s.
    requestTimeout: 30_000,
    connectionTimeout: 60_000,
  });
  // The API speaks JSON only. Fastify also parses text/plain by default, and JSON sent as text then
  // failed validation as a string instead of being refused for its type (415, as any other type).
  // An empty text/plain body is no body: what fetch sends for `body: ""`, to an endpoint that takes none.
  app.removeContentTypeParser("text/plain");
  app.addContentTypeParser("text/plain", { parseAs: "string" }, (_request, body, done) => {
    if (body.length === 0) done(null, undefined);
    else done(new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE("text/plain"), undefined);
  });

  if (deps.inspectResponse) {
    const inspect = deps.inspectResponse;
    app.addHook("onSend", async (request, reply, payload) => {
      inspect({
        method: request.method,
        url: request.url,
        route: request.routeOptions.url,
        status: reply.statusCode,
        body: typeof payload === "string" ? payload : undefined,
      });
      return payload;
    });
  }
  // Before any route is added, so it sees them all.
  const allowed = routeMethods(app);
  // Refusals while the database is away are one outage, not a line (and a stack) each.
  const outage = createOutageLog(deps.logger, { counting: "requests refused", meanwhile: "answering 503 until it is back", probe: deps.ready });
  app.addHook("onClose", async () => outage.stop());

  // Fastify's own JSON parser (prototype poisoning refused), behind a depth bound checked first. An
  // empty JSON body is no body, whatever the content type says (a client may send the header on every call).
  const parseJson = app.getDefaultJsonParser("error", "error");
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser<string>("application/json", { parseAs: "string" }, (request, body, done) => {
    if (body.length === 0) done(null, undefined);
    else if (nestsDeeperThan(body, MAX_JSON_DEPTH)) {
      done(
        new HooklineError(
          400,
          "too_deeply_nested",
          `body nests objects and arrays more than ${MAX_JSON_DEPTH} levels deep; at most ${MAX_JSON_DEPTH} are accepted`,
        ),
        undefined,
      );
    } else parseJson(request, body, done);
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof HooklineError) {
      if (error.headers) reply.headers(error.headers);
      return reply
        .code(error.status)
        .send({ error: { code: error.code, message: error.message, ...(error.details !== undefined && { details: error.details }) } });
    }
    // The database is away (restart, network blip): the client should try again shortly. A retried
    // ingest with the same idempotency key is stored once even if the first commit did land.
    if (isDatabaseUnavailable(error)) {
      outage.failed(error);
      return reply
        .code(503)
        .header("retry-after", "1")
        .send({ error: { code: "database_unavailable", message: "the database is unavailable; try again shortly" } });
    }
    const known = error.code ? FRAMEWORK_ERRORS[error.code] : undefined;
    if (known) return reply.code(known.status).send({ error: { code: known.code, message: known.message ?? error.message } });
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      return reply.code(error.statusCode).send({ error: { code: "bad_request", message: error.message } });
    }
    request.log.error({ err: error, method: request.method, url: request.routeOptions.url }, "unhandled error");
    return reply.code(500).send({ error: { code: "internal_error", message: "internal error; the server log has details" } });
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split("?")[0] ?? "";
    const methods = allowed(path);
    // RFC 9110 §15.5.6: a known resource called with another method is a 405 naming the methods it takes.
    if (methods.length > 0) {
      return reply
        .code(405)
        .header("allow", methods.join(", "))
        .send({ error: { code: "method_not_allowed", message: `${request.method} ${path} is not allowed; use ${methods.join(", ")}` } });
    }
    return reply.code(404).send({ error: { code: "not_found", message: `no route ${request.method} ${path}` } });
  });

  app.get("/health", async () => ({ status: "ok" }));
  app.get("/ready", async (_request, reply) => {
    const ok = await deps.ready().catch(() => false);
    return reply.code(ok ? 200 : 503).send({ status: ok ? "ready" : "database unavailable" });
  });
  if (deps.metrics) serveMetrics(app, deps.metrics);
  // Public: it describes the API and holds no data.
  const openapi = openApiDocument(deps.routes, deps.version);
  app.get("/api/v1/openapi.json", async () => openapi);

  for (const plugin of deps.plugins ?? []) app.register(plugin);

  /** The account a request acts for: by its Bearer key, or by the UI's session cookie (writes checked by checkCsrf). */
  async function authenticate(headers: FastifyRequest["headers"], method: string): Promise<string | undefined> {
    const key = bearerKey(headers.authorization);
    if (key) return deps.resolveKey(key);
    const sessionId = readCookie(headers.cookie, SESSION_COOKIE);
    const session = sessionId ? await deps.resolveSession(sessionId) : undefined;
    if (!session) return undefined;
    if (!SAFE_METHODS.has(method)) checkCsrf(session, headers[CSRF_HEADER]);
    return session.accountId;
  }

  const limit = (accountId: string, r: Route, cost: number) => {
    const verdict = deps.rateLimiter.take(accountId, r.rate?.class ?? "api", cost);
    if (!verdict.ok) throw new RateLimitedError(verdict.retryAfterSeconds);
  };

  // Authentication and rate limiting run before the body is read, so an unauthenticated caller cannot make us parse it.
  const accounts = new WeakMap<object, string>();
  for (const r of deps.routes) {
    app.route({
      method: r.method,
      url: r.path,
      ...(r.auth && {
        onRequest: async (request) => {
          const accountId = await authenticate(request.headers, request.method);
          if (!accountId) throw new UnauthorizedError();
          // Checked before the body is read; a call priced by its body pays once it is parsed.
          limit(accountId, r, r.rate?.cost ? 0 : 1);
          accounts.set(request, accountId);
        },
      }),
      handler: async (request, reply) => {
        const accountId = accounts.get(request) ?? "";
        // No body is an empty object (every field optional); a JSON `null` is a body, and refused.
        const body = r.parseBody ? r.parseBody(request.body) : r.body ? parseInput(r.body, request.body === undefined ? {} : request.body) : undefined;
        // The route keeps what it validated; the parsed JSON (a batch's 500 events) need not live
        // on through the commit it waits for: held that long, it outlives young-generation GCs and
        // is copied and promoted, and the old generation grows with it while a backlog fills.
        if (r.parseBody) request.body = undefined;
        const query = parseInput(r.query ?? NO_QUERY, request.query, "query");
        const params = parseInput(r.params ?? NO_PARAMS, request.params, "params");
        // A batch is charged one token per event, once its size is known.
        if (r.auth && r.rate?.cost) limit(accountId, r, r.rate.cost(body));
        const result = await r.handler({ accountId, params, body, query });
        return reply.code(r.status).send(r.status === 204 ? undefined : result);
      },
    });
  }
  return app;
}

/**
 * The methods each registered path takes, to answer a known path called with another method. Fed
 * by every route as it is added (the API, the UI, provider callbacks).
 */
function routeMethods(app: FastifyInstance): (path: string) => string[] {
  const routes: { pattern: RegExp; methods: string[] }[] = [];
  app.addHook("onRoute", (options) => {
    // A Fastify path as a regular expression: `:param` is one segment, `*` anything.
    const source = options.url
      .split(/(:\w+|\*)/)
      .map((part) => (part === "*" ? ".*" : part.startsWith(":") ? "[^/]+" : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
      .join("");
    routes.push({ pattern: new RegExp(`^${source}$`), methods: [options.method].flat() });
  });
  return (path) => [...new Set(routes.filter((r) => r.pattern.test(path)).flatMap((r) => r.methods))];
}
