/**
 * The web UI: static assets built into dist/ui (no build step at run time, no CDN), and the
 * sign-in endpoints that turn a one-time login link or a platform's signed embed token into a
 * session cookie. Everything else the UI does goes through the public REST API.
 */
import fs from "node:fs";
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { createSession, deleteSession, redeemLoginToken, verifyEmbedToken } from "../accounts/sessions.js";
import type { Db } from "../db/schema.js";
import { CSRF_COOKIE, CSRF_HEADER, readCookie, SESSION_COOKIE } from "./app.js";

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

/** The built assets, read once: the UI is a handful of small files. */
function loadAssets(): Map<string, { body: Buffer; type: string }> {
  // <package>/dist/ui, whether this module runs built (dist/http) or from source under test (src/http).
  const dir = new URL("../../dist/ui/", import.meta.url);
  const assets = new Map<string, { body: Buffer; type: string }>();
  if (!fs.existsSync(dir)) return assets;
  for (const name of fs.readdirSync(dir)) {
    const ext = name.slice(name.lastIndexOf("."));
    const type = TYPES[ext];
    if (type) assets.set(name, { body: fs.readFileSync(new URL(name, dir)), type });
  }
  return assets;
}

function page(reply: FastifyReply, status: number, title: string, text: string) {
  return reply
    .code(status)
    .type("text/html; charset=utf-8")
    .send(
      `<!doctype html><html lang="en"><meta charset="utf-8"><title>${title}</title><link rel="stylesheet" href="/ui/app.css"><main class="narrow"><h1>${title}</h1><p>${text}</p></main></html>`,
    );
}

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
    const session = await createSession(deps.db, accountId, deps.now());
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
    app.get<{ Params: { file: string } }>("/ui/:file", async (request, reply) => serve(request.params.file)(request, reply));

    app.get<{ Querystring: { token?: string } }>("/ui/login", async (request, reply) => {
      const accountId = request.query.token ? await redeemLoginToken(deps.db, request.query.token, deps.now()) : undefined;
      if (!accountId)
        return page(
          reply,
          400,
          "Sign-in link not valid",
          "This sign-in link is unknown, expired (links last 15 minutes) or already used. Ask for a new one: <code>hookline login-link &lt;account_id&gt;</code>.",
        );
      return signIn(reply, accountId, false);
    });

    app.get<{ Querystring: { token?: string } }>("/ui/embed", async (request, reply) => {
      const accountId = deps.embedSecret && request.query.token ? verifyEmbedToken(deps.embedSecret, request.query.token, deps.now()) : undefined;
      const account = accountId ? await deps.db.selectFrom("accounts").select("id").where("id", "=", accountId).executeTakeFirst() : undefined;
      if (!account) return page(reply, 403, "Cannot open Hookline", "This embed link is not valid or has expired.");
      return signIn(reply, account.id, true);
    });

    app.post("/ui/logout", async (request, reply) => {
      const sessionId = readCookie(request.headers.cookie, SESSION_COOKIE);
      // Signing out needs the CSRF token too: another site must not be able to sign a user out.
      if (sessionId && request.headers[CSRF_HEADER] === readCookie(request.headers.cookie, CSRF_COOKIE)) await deleteSession(deps.db, sessionId);
      reply.header("set-cookie", [`${SESSION_COOKIE}=; Path=/; Max-Age=0`, `${CSRF_COOKIE}=; Path=/; Max-Age=0`]);
      return reply.code(204).send();
    });
  };
}
