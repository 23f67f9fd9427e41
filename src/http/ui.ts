/**
 * The web UI: static assets built into dist/ui (no build step at run time, no CDN), and the
 * sign-in endpoints that turn a one-time login link or a platform's signed embed token into a
 * session cookie. Everything else the UI does goes through the public REST API.
 *
 * A sign-in link's GET only shows a form that POSTs its token back, and only that POST signs in:
 * a mail scanner that fetches the link does not use it up, and a link another site opens in the
 * background does not sign the browser in.
 */
import fs from "node:fs";
import path from "node:path";
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { findAccount } from "../accounts/accounts.js";
import { createSession, deleteSession, EMBED_SESSION_TTL_MS, redeemLoginToken, resolveSession, verifyEmbedToken } from "../accounts/sessions.js";
import type { Db } from "../db/schema.js";
import { HooklineError } from "../errors.js";
import { CSRF_COOKIE, CSRF_HEADER, checkCsrf, readCookie, SESSION_COOKIE } from "./app.js";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".svg": "image/svg+xml",
};

export interface UiDeps {
  db: Db;
  now: () => number;
  /** The platform's shared secret for embed tokens; embedding is off without it. */
  embedSecret: string | undefined;
  /** Origins allowed to frame the UI (CSP frame-ancestors). */
  embedOrigins: readonly string[];
  /** Cookies are marked Secure when the public URL is https. */
  secureCookies: boolean;
}

/** The built assets, read once, by their path under dist/ui (`main.js`, `vendor/lit-html/lit-html.js`): the UI is a few dozen small files. */
function loadAssets(): Map<string, { body: Buffer; type: string }> {
  // <package>/dist/ui, whether this module runs built (dist/http) or from source under test (src/http).
  const dir = new URL("../../dist/ui/", import.meta.url);
  const assets = new Map<string, { body: Buffer; type: string }>();
  if (!fs.existsSync(dir)) return assets;
  for (const name of fs.readdirSync(dir, { recursive: true, encoding: "utf8" })) {
    const type = TYPES[path.extname(name)];
    if (type) assets.set(name.split(path.sep).join("/"), { body: fs.readFileSync(new URL(name, dir)), type });
  }
  return assets;
}

/** A small page of its own; `body` and `head` are HTML. */
function page(reply: FastifyReply, status: number, title: string, body: string, head = "") {
  return reply
    .code(status)
    .type("text/html; charset=utf-8")
    .send(
      `<!doctype html><html lang="en"><meta charset="utf-8"><title>${title}</title><link rel="stylesheet" href="/ui/app.css">${head}<main class="narrow"><h1>${title}</h1>${body}</main></html>`,
    );
}

/** Login and embed tokens are base64url (an embed token two parts of it): anything else names no account, and needs no escaping in a page. */
const TOKEN_SHAPE = /^[\w.-]{1,4096}$/;

/** The one `token` a sign-in request carries (query or form); given twice, it is refused rather than one picked. */
function oneToken(values: string | string[] | undefined): string | undefined {
  const all = Array.isArray(values) ? values : values === undefined ? [] : [values];
  if (all.length > 1) throw new HooklineError(400, "bad_request", "token is given more than once; open the link exactly as it was given");
  return all[0] !== undefined && TOKEN_SHAPE.test(all[0]) ? all[0] : undefined;
}

/** The form that confirms a sign-in: it POSTs the token back to the same path. */
const confirmForm = (path: string, token: string, button: string) =>
  `<form method="post" action="${path}"><input type="hidden" name="token" value="${token}"><button type="submit">${button}</button></form>`;

/**
 * Sign-in POSTs come from Hookline's own confirmation page: another site must not sign a browser in
 * to an account of its choosing (login CSRF). Browsers say where a request comes from in Sec-Fetch-Site.
 */
function refuseCrossSite(request: FastifyRequest) {
  const site = request.headers["sec-fetch-site"];
  if (site !== undefined && site !== "same-origin") {
    throw new HooklineError(403, "cross_site", "a sign-in must be confirmed on Hookline's own page; open the link again");
  }
}

const formToken = (request: FastifyRequest) => oneToken(request.body instanceof URLSearchParams ? request.body.getAll("token") : undefined);

export function uiPlugin(deps: UiDeps): FastifyPluginAsync {
  const assets = loadAssets();
  const csp = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    `frame-ancestors ${["'self'", ...deps.embedOrigins].join(" ")}`,
  ].join("; ");

  /** Starts a session: HttpOnly session cookie, and the CSRF token in a cookie the UI's script reads. */
  async function signIn(reply: FastifyReply, accountId: string, embedded: boolean) {
    const session = await createSession(deps.db, accountId, deps.now(), embedded ? EMBED_SESSION_TTL_MS : undefined);
    const maxAge = Math.floor((session.expiresAt - deps.now()) / 1000);
    // Inside another site's iframe the cookie must be SameSite=None, which browsers accept only with Secure.
    const sameSite = embedded && deps.secureCookies ? "None" : "Lax";
    const secure = deps.secureCookies ? "; Secure" : "";
    reply.header("set-cookie", [
      `${SESSION_COOKIE}=${session.id}; Path=/; HttpOnly; SameSite=${sameSite}; Max-Age=${maxAge}${secure}`,
      `${CSRF_COOKIE}=${session.csrf}; Path=/; SameSite=${sameSite}; Max-Age=${maxAge}${secure}`,
    ]);
    return reply.code(303).header("location", "/ui/").send();
  }

  return async (app) => {
    app.addHook("onSend", async (request, reply) => {
      if (request.url.startsWith("/ui")) {
        reply.header("content-security-policy", csp);
        reply.header("x-content-type-options", "nosniff");
        reply.header("referrer-policy", "no-referrer");
      }
    });

    app.get("/", async (_request, reply) => reply.code(302).header("location", "/ui/").send());
    app.get("/ui", async (_request, reply) => reply.code(302).header("location", "/ui/").send());

    const serve = (name: string) => async (_request: FastifyRequest, reply: FastifyReply) => {
      const asset = assets.get(name);
      if (!asset) return page(reply, 404, "Not found", "No such page.");
      return reply
        .type(asset.type)
        .header("cache-control", name === "index.html" ? "no-cache" : "public, max-age=300")
        .send(asset.body);
    };
    app.get("/ui/", serve("index.html"));
    // Only names of built files answer: the map is the whole of what can be served.
    app.get<{ Params: { "*": string } }>("/ui/*", async (request, reply) => serve(request.params["*"])(request, reply));

    // The confirmation forms post application/x-www-form-urlencoded; only these routes read it.
    app.addContentTypeParser<string>("application/x-www-form-urlencoded", { parseAs: "string" }, (_request, body, done) =>
      done(null, new URLSearchParams(body)),
    );

    const invalidLink = (reply: FastifyReply) =>
      page(
        reply,
        400,
        "Sign-in link not valid",
        "<p>This sign-in link is unknown, expired (links last 15 minutes) or already used. Ask for a new one: <code>hookline login-link &lt;account_id&gt;</code>.</p>",
      );
    app.get<{ Querystring: { token?: string | string[] } }>("/ui/login", async (request, reply) => {
      const token = oneToken(request.query.token);
      if (!token) return invalidLink(reply);
      return page(reply, 200, "Sign in to Hookline", confirmForm("/ui/login", token, "Sign in"));
    });
    app.post("/ui/login", async (request, reply) => {
      refuseCrossSite(request);
      const token = formToken(request);
      const accountId = token ? await redeemLoginToken(deps.db, token, deps.now()) : undefined;
      if (!accountId) return invalidLink(reply);
      return signIn(reply, accountId, false);
    });

    const cannotEmbed = (reply: FastifyReply, why: string) => page(reply, 403, "Cannot open Hookline", `<p>This embed link is not valid: ${why}.</p>`);
    // Opened in the platform's iframe: embed.js submits the form at once; the button is for a browser without scripts.
    app.get<{ Querystring: { token?: string | string[] } }>("/ui/embed", async (request, reply) => {
      const token = oneToken(request.query.token);
      if (!token) return cannotEmbed(reply, "it has no token");
      return page(reply, 200, "Opening Hookline", confirmForm("/ui/embed", token, "Open Hookline"), '<script type="module" src="/ui/embed.js"></script>');
    });
    app.post("/ui/embed", async (request, reply) => {
      refuseCrossSite(request);
      const token = formToken(request);
      if (!deps.embedSecret) return cannotEmbed(reply, "embedding is off on this server (no HOOKLINE_EMBED_SECRET)");
      if (!token) return cannotEmbed(reply, "it has no token");
      const verdict = verifyEmbedToken(deps.embedSecret, token, deps.now());
      if ("refused" in verdict) return cannotEmbed(reply, verdict.refused);
      const account = await findAccount(deps.db, verdict.accountId);
      if (!account) return cannotEmbed(reply, "its account does not exist");
      return signIn(reply, account.id, true);
    });

    app.post("/ui/logout", async (request, reply) => {
      const sessionId = readCookie(request.headers.cookie, SESSION_COOKIE);
      const session = sessionId ? await resolveSession(deps.db, sessionId, deps.now()) : undefined;
      // Signing out needs the session's CSRF token too: another site must not be able to sign a user
      // out. Cookies that name no live session are cleared without it: they sign no one in.
      if (sessionId && session) {
        checkCsrf(session, request.headers[CSRF_HEADER]);
        await deleteSession(deps.db, sessionId);
      }
      reply.header("set-cookie", [`${SESSION_COOKIE}=; Path=/; Max-Age=0`, `${CSRF_COOKIE}=; Path=/; Max-Age=0`]);
      return reply.code(204).send();
    });
  };
}
