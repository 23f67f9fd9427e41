/**
 * Sign-in and request hardening: malformed cookies and queries, bodies nested too deep, signing out,
 * sign-in links confirmed by a POST, and embed tokens' lifetime — each a clear 4xx, never a 500.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLoginToken, EMBED_SESSION_TTL_MS, resolveSession, signEmbedToken } from "../src/accounts/sessions.js";
import { triggerType } from "../src/catalogue/trigger-types.js";
import { MAX_JSON_DEPTH, nestsDeeperThan } from "../src/http/app.js";
import { startTestHookline, type TestHookline } from "./helpers/hookline.js";

const EMBED_SECRET = "an-embed-secret-of-at-least-32-characters";
let h: TestHookline;
beforeAll(async () => {
  h = await startTestHookline({ HOOKLINE_EMBED_SECRET: EMBED_SECRET });
});
afterAll(async () => {
  await h?.stop();
});

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** POSTs a sign-in confirmation form, as the page's button (or embed.js) does. */
function confirm(path: "/ui/login" | "/ui/embed", tokens: string[], headers: Record<string, string> = {}): Promise<Response> {
  const body = new URLSearchParams(tokens.map((t): [string, string] => ["token", t]));
  return fetch(`${h.baseUrl}${path}`, { method: "POST", body, headers, redirect: "manual" });
}

/** The Cookie header a sign-in answer sets, and its CSRF token. */
function cookiesOf(response: Response): { cookie: string; csrf: string } {
  const cookie = response.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
  return { cookie, csrf: /hookline_csrf=([^;]*)/.exec(cookie)?.[1] ?? "" };
}

async function signedIn(): Promise<{ cookie: string; csrf: string }> {
  const { accountId } = await h.account("Cookie Clinic");
  const response = await confirm("/ui/login", [await createLoginToken(h.hookline.store.db, accountId, Date.now())]);
  expect(response.status).toBe(303);
  return cookiesOf(response);
}

const errorCode = async (response: Response) => ((await response.json()) as { error: { code: string; message: string } }).error;

describe("malformed cookies and queries", () => {
  it("a session cookie that is not valid percent-encoding counts as no session: 401, not 500", async () => {
    const triggers = await fetch(`${h.baseUrl}/api/v1/triggers`, { headers: { cookie: "hookline_session=%" } });
    expect(triggers.status).toBe(401);
    expect((await errorCode(triggers)).code).toBe("unauthorized");
    const logout = await fetch(`${h.baseUrl}/ui/logout`, { method: "POST", headers: { cookie: "hookline_session=%E0%A4%A" } });
    expect(logout.status).toBe(204);
  });

  it("a sign-in link or embed link carrying its token twice is refused with 400, GET or POST", async () => {
    for (const path of ["/ui/login", "/ui/embed"] as const) {
      const get = await fetch(`${h.baseUrl}${path}?token=a&token=b`, { redirect: "manual" });
      expect(get.status).toBe(400);
      expect(await errorCode(get)).toEqual({ code: "bad_request", message: expect.stringContaining("token is given more than once") });
      const post = await confirm(path, ["a", "b"]);
      expect(post.status).toBe(400);
      expect((await errorCode(post)).code).toBe("bad_request");
    }
  });
});

describe("bodies nested too deep", () => {
  /** JSON text of `levels` objects, one inside the next (built as text: JSON.stringify itself recurses). */
  const nestedText = (levels: number) => `${'{"a":'.repeat(levels)}0${"}".repeat(levels)}`;
  const { participant } = triggerType("participant.confirmed").example as { participant: Record<string, unknown> };
  const event = (customData: unknown) => ({ type: "participant.confirmed", data: { participant: { ...participant, custom_data: customData } } });
  /** An event whose custom_data makes the whole body `depth` levels deep (the body, data and participant are the first three). */
  const eventOfDepth = (depth: number) => JSON.stringify(event("NESTED")).replace('"NESTED"', nestedText(depth - 3));

  it(`a body nested more than ${MAX_JSON_DEPTH} levels deep is refused with 400 naming the limit, on every JSON route; an event at the limit is stored`, async () => {
    const { apiKey } = await h.account();
    const post = (path: string, text: string) =>
      fetch(`${h.baseUrl}${path}`, { method: "POST", headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" }, body: text });

    for (const [path, text] of [
      ["/api/v1/events", eventOfDepth(10_000)],
      ["/api/v1/events", eventOfDepth(MAX_JSON_DEPTH + 1)],
      ["/api/v1/events/batch", `{"events":[${eventOfDepth(10_000)}]}`],
      ["/api/v1/triggers", `{"name":"deep","type":"event.created","conditions":${nestedText(10_000)}}`],
      ["/api/v1/templates/preview", `{"type":"participant.confirmed","template":"{{ x }}","data":${nestedText(10_000)}}`],
    ] as const) {
      const response = await post(path, text);
      expect(response.status, path).toBe(400);
      expect(await errorCode(response)).toEqual({ code: "too_deeply_nested", message: expect.stringContaining(`at most ${MAX_JSON_DEPTH}`) });
    }
    expect((await post("/api/v1/events", eventOfDepth(MAX_JSON_DEPTH))).status).toBe(202);
    // Brackets inside strings are text, not nesting (an escaped quote does not end the string).
    expect((await post("/api/v1/events", JSON.stringify(event({ note: `\\"${"[{".repeat(200)}` })))).status).toBe(202);
  });

  it("the depth read from the text is the parsed value's, for any JSON (quotes and backslashes in strings included)", () => {
    const depthOf = (value: unknown): number => (value !== null && typeof value === "object" ? 1 + Math.max(0, ...Object.values(value).map(depthOf)) : 0);
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), fc.integer({ min: 0, max: 7 }), (value, limit) => {
        expect(nestsDeeperThan(JSON.stringify(value), limit)).toBe(depthOf(value) > limit);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("signing out", () => {
  it("signing out needs the session's CSRF token: without it or with a wrong one it is refused with 403 and the session lives on", async () => {
    const { cookie, csrf } = await signedIn();
    const logout = (headers: Record<string, string>) => fetch(`${h.baseUrl}/ui/logout`, { method: "POST", headers: { cookie, ...headers } });
    const sessionWorks = async () => (await fetch(`${h.baseUrl}/api/v1/session`, { headers: { cookie } })).status === 200;

    // Another site's form sends the cookie (SameSite=None when embedded) but cannot send the header.
    for (const headers of [{}, { "x-hookline-csrf": "forged" }] as Record<string, string>[]) {
      const refused = await logout(headers);
      expect(refused.status).toBe(403);
      expect((await errorCode(refused)).code).toBe("csrf_failed");
      expect(refused.headers.getSetCookie()).toEqual([]);
      expect(await sessionWorks()).toBe(true);
    }
    const done = await logout({ "x-hookline-csrf": csrf });
    expect(done.status).toBe(204);
    expect(done.headers.getSetCookie().some((c) => c.startsWith("hookline_session=;"))).toBe(true);
    expect(await sessionWorks()).toBe(false);
  });
});

describe("sign-in confirmed by a POST", () => {
  it("opening a login link shows a Sign in button and keeps the link unused; the POST signs in, once", async () => {
    const { accountId } = await h.account("Link Clinic");
    const token = await createLoginToken(h.hookline.store.db, accountId, Date.now());
    for (let i = 0; i < 2; i++) {
      // A mail scanner fetching the link, twice.
      const get = await fetch(`${h.baseUrl}/ui/login?token=${token}`, { redirect: "manual" });
      expect(get.status).toBe(200);
      expect(get.headers.getSetCookie()).toEqual([]);
      const html = await get.text();
      expect(html).toContain('<form method="post" action="/ui/login">');
      expect(html).toContain(`name="token" value="${token}"`);
      expect(html).toContain("Sign in</button>");
      expect(html).not.toContain("<script");
    }
    const first = await confirm("/ui/login", [token]);
    expect(first.status).toBe(303);
    expect(first.headers.get("location")).toBe("/ui/");
    expect(cookiesOf(first).csrf).not.toBe("");
    expect((await confirm("/ui/login", [token])).status).toBe(400);
  });

  it("a sign-in POST from another site is refused with 403 and does not use the link up", async () => {
    const { accountId } = await h.account("Cross Clinic");
    const token = await createLoginToken(h.hookline.store.db, accountId, Date.now());
    const crossSite = await confirm("/ui/login", [token], { "sec-fetch-site": "cross-site" });
    expect(crossSite.status).toBe(403);
    expect((await errorCode(crossSite)).code).toBe("cross_site");
    expect(crossSite.headers.getSetCookie()).toEqual([]);
    expect((await confirm("/ui/login", [token], { "sec-fetch-site": "same-origin" })).status).toBe(303);
  });

  it("an embed link's GET starts no session: its page submits a form to POST /ui/embed with a script file, no inline script", async () => {
    const { accountId } = await h.account("Embedded Clinic");
    const token = signEmbedToken(EMBED_SECRET, { account_id: accountId, exp: nowSeconds() + 300 });
    const get = await fetch(`${h.baseUrl}/ui/embed?token=${token}`, { redirect: "manual" });
    expect(get.status).toBe(200);
    expect(get.headers.getSetCookie()).toEqual([]);
    expect(get.headers.get("content-security-policy")).toContain("script-src 'self'");
    const html = await get.text();
    expect(html).toContain('<form method="post" action="/ui/embed">');
    expect(html).toContain('<script type="module" src="/ui/embed.js"></script>');
    const script = await fetch(`${h.baseUrl}/ui/embed.js`);
    expect(script.status).toBe(200);
    expect(await script.text()).toContain("requestSubmit()");
    expect((await confirm("/ui/embed", [token], { "sec-fetch-site": "cross-site" })).status).toBe(403);
    expect((await confirm("/ui/embed", [token])).status).toBe(303);
  });
});

describe("embed tokens", () => {
  it("an embed token valid for more than 10 minutes, or with a part after its signature, is refused", async () => {
    const { accountId } = await h.account("Embed Limits");
    const farAhead = signEmbedToken(EMBED_SECRET, { account_id: accountId, exp: nowSeconds() + 11 * 60 });
    const refused = await confirm("/ui/embed", [farAhead]);
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain("more than 10 minutes ahead");
    expect(refused.headers.getSetCookie()).toEqual([]);

    const good = signEmbedToken(EMBED_SECRET, { account_id: accountId, exp: nowSeconds() + 9 * 60 });
    const trailing = await confirm("/ui/embed", [`${good}.extra`]);
    expect(trailing.status).toBe(403);
    expect(await trailing.text()).toContain("it is not two parts, payload.signature");
    expect((await confirm("/ui/embed", [good])).status).toBe(303);
  });

  it("the session an embed token starts lasts one hour, a login link's twelve", async () => {
    const { accountId } = await h.account("Embed Session");
    const embedded = await confirm("/ui/embed", [signEmbedToken(EMBED_SECRET, { account_id: accountId, exp: nowSeconds() + 300 })]);
    const maxAge = (response: Response) => response.headers.getSetCookie().map((c) => Number(/Max-Age=(\d+)/.exec(c)?.[1]));
    for (const age of maxAge(embedded)) expect(age).toBeGreaterThan(EMBED_SESSION_TTL_MS / 1000 - 5);
    for (const age of maxAge(embedded)) expect(age).toBeLessThanOrEqual(EMBED_SESSION_TTL_MS / 1000);
    const loggedIn = await confirm("/ui/login", [await createLoginToken(h.hookline.store.db, accountId, Date.now())]);
    for (const age of maxAge(loggedIn)) expect(age).toBeGreaterThan(11 * 3600);

    // The session's row expires with its cookie: an hour on, it signs in no more.
    const { cookie } = cookiesOf(embedded);
    const sessionId = /hookline_session=([^;]*)/.exec(cookie)?.[1] ?? "";
    expect(await resolveSession(h.hookline.store.db, sessionId, Date.now() + EMBED_SESSION_TTL_MS - 60_000)).toBeDefined();
    expect(await resolveSession(h.hookline.store.db, sessionId, Date.now() + EMBED_SESSION_TTL_MS + 1)).toBeUndefined();
  });
});

describe("the UI's files", () => {
  it("serves a built file of a subfolder (the vendored lit-html) as JavaScript, and nothing outside dist/ui", async () => {
    const lit = await fetch(`${h.baseUrl}/ui/vendor/lit-html/directives/live.js`);
    expect(lit.status).toBe(200);
    expect(lit.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(await lit.text()).toContain("../lit-html.js");
    for (const path of ["/ui/..%2Fpackage.json", "/ui/vendor/..%2F..%2Fhttp%2Fui.js", "/ui/vendor/lit-html/package.json"]) {
      expect((await fetch(`${h.baseUrl}${path}`)).status, path).toBe(404);
    }
  });
});
