/** Security by default: SSRF guard, slow receivers, limits, secrets at rest, redaction. */
import type { LookupAddress } from "node:dns";
import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { triggerType } from "../src/catalogue/trigger-types.js";
import { HooklineApiError, HooklineClient, type InstanceDetailOut } from "../src/client/index.js";
import { type Resolve, systemResolve } from "../src/net/guarded-lookup.js";
import { DIALECT, eventually, finishedInstance, freshDatabase, startTestHookline, type TestHookline, tempDir } from "./helpers/hookline.js";
import { type Receiver, startReceiver } from "./helpers/receiver.js";

let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(async () => {
  await receiver.close();
});

const example = triggerType("participant.confirmed").example as Record<string, unknown>;

/** One event, in a fresh account, to one webhook action at `url`; resolves with the finished instance. */
async function deliverOnce(h: TestHookline, url: string): Promise<InstanceDetailOut> {
  const { client } = await h.account();
  const trigger = await client.createTrigger({ name: "t", type: "participant.confirmed" });
  const action = await client.createAction(trigger.id, { name: "a", type: "webhook", url });
  await client.ingest({ type: "participant.confirmed", data: example });
  return eventually(async () => {
    const i = (await client.log(action.id)).data[0];
    return i && i.state !== "pending" && i.state !== "retrying" ? client.instance(i.id) : undefined;
  });
}

/** The save-time DNS: fixed answers for the *.test names, the system's for the rest (localhost). */
const SAVE_TIME_NAMES: Record<string, LookupAddress[]> = {
  "intranet.test": [
    { address: "10.0.0.5", family: 4 },
    { address: "fd00::5", family: 6 },
  ],
  "split.test": [
    { address: "10.0.0.6", family: 4 },
    { address: "93.184.216.34", family: 4 },
  ],
  "hooks.test": [{ address: "93.184.216.34", family: 4 }],
  "metadata.test": [{ address: "169.254.169.254", family: 4 }],
};
const saveTimeDns: Resolve = async (hostname) => SAVE_TIME_NAMES[hostname] ?? systemResolve(hostname);

/** The error answer of a refused save. */
function refusal(error: unknown): { status: number; code: string; message: string } {
  if (!(error instanceof HooklineApiError)) throw new Error(`expected an error answer, got ${JSON.stringify(error)}`);
  const { code, message } = (error.body as { error: { code: string; message: string } }).error;
  return { status: error.status, code, message };
}

/** What saving `url` answers, through POST and through PATCH of an action that has a good URL. */
async function saveBoth(client: HooklineClient, url: string): Promise<{ answers: ReturnType<typeof refusal>[]; kept: string | undefined }> {
  const trigger = await client.createTrigger({ name: "t", type: "participant.confirmed" });
  const created = await client.createAction(trigger.id, { name: "new", type: "webhook", url }).catch((e: unknown) => e);
  const existing = await client.createAction(trigger.id, { name: "existing", type: "webhook", url: "http://hooks.test/ok" });
  const patched = await client.updateAction(existing.id, { url }).catch((e: unknown) => e);
  return { answers: [refusal(created), refusal(patched)], kept: (await client.getAction(existing.id)).url };
}

describe("SSRF guard when a URL is saved (no HOOKLINE_ALLOWED_NETWORKS)", () => {
  let h: TestHookline;
  let client: HooklineClient;
  beforeAll(async () => {
    h = await startTestHookline({ HOOKLINE_ALLOWED_NETWORKS: "" }, { resolve: saveTimeDns });
    ({ client } = await h.account());
  });
  afterAll(() => h.stop());

  const port = () => new URL(receiver.url()).port;
  it.each([
    ["loopback", (p: string) => `http://127.0.0.1:${p}/ssrf`, /^127\.0\.0\.1 is a loopback address \(RFC 1122\)/],
    ["decimal IPv4", (p: string) => `http://2130706433:${p}/ssrf`, /^127\.0\.0\.1 is a loopback address/],
    ["hex IPv4", (p: string) => `http://0x7f.0x0.0x0.0x1:${p}/ssrf`, /^127\.0\.0\.1 is a loopback address/],
    ["octal IPv4", (p: string) => `http://0177.0.0.01:${p}/ssrf`, /^127\.0\.0\.1 is a loopback address/],
    ["short IPv4", (p: string) => `http://127.1:${p}/ssrf`, /^127\.0\.0\.1 is a loopback address/],
    ["0.0.0.0", (p: string) => `http://0.0.0.0:${p}/ssrf`, /^0\.0\.0\.0 is a this-network address, not a host \(RFC 1122\)/],
    ["IPv6 loopback in brackets", (p: string) => `http://[::1]:${p}/ssrf`, /^::1 is the loopback address \(RFC 4291\)/],
    ["IPv4-mapped IPv6", (p: string) => `http://[::ffff:127.0.0.1]:${p}/ssrf`, /^::ffff:7f00:1 \(127\.0\.0\.1\) is a loopback address/],
    ["NAT64 of loopback", (p: string) => `http://[64:ff9b::127.0.0.1]:${p}/ssrf`, /^64:ff9b::7f00:1 \(127\.0\.0\.1\) is a loopback address/],
    ["RFC 1918", () => "http://10.0.0.5/hook", /^10\.0\.0\.5 is a private address \(RFC 1918\)/],
    ["CGNAT", () => "http://100.64.1.1/", /^100\.64\.1\.1 is a shared CGNAT address \(RFC 6598\)/],
    ["IPv6 unique local", () => "http://[fd00::1]/", /^fd00::1 is a unique local address \(RFC 4193\)/],
  ])("refuses %s with a 400 naming the rule and the setting, on POST and on PATCH", async (_name, url, rule) => {
    const before = receiver.received.length;
    const { answers, kept } = await saveBoth(client, url(port()));
    for (const { status, code, message } of answers) {
      expect({ status, code }).toEqual({ status: 400, code: "validation_error" });
      expect(message).toMatch(/^url: .*; outbound requests cannot reach it unless HOOKLINE_ALLOWED_NETWORKS allows it$/);
      expect(message.slice("url: ".length)).toMatch(rule);
    }
    expect(kept).toBe("http://hooks.test/ok");
    expect(receiver.received.length).toBe(before);
  });

  it.each([
    ["localhost (the system resolver)", (p: string) => `http://localhost:${p}/ssrf`, "localhost"],
    ["a name resolving only to private addresses", () => "http://intranet.test/hook", "intranet.test"],
    ["a name resolving to the cloud metadata address", () => "http://metadata.test/", "metadata.test"],
  ])("refuses %s with a 400 that says neither what it resolved to nor which rule refused it", async (_name, url, host) => {
    const { answers } = await saveBoth(client, url(port()));
    for (const { status, code, message } of answers) {
      expect({ status, code, message }).toEqual({
        status: 400,
        code: "validation_error",
        message: `url: ${host} resolves to a private or reserved address; outbound requests cannot reach it`,
      });
    }
  });

  it.each([
    ["cloud metadata", "http://169.254.169.254/latest/meta-data/", /^url: 169\.254\.169\.254 is the cloud metadata address/],
    ["IPv4 link-local", "http://169.254.10.10/", /^url: 169\.254\.10\.10 is a link-local address, where cloud metadata services answer/],
    ["AWS metadata over IPv6", "http://[fd00:ec2::254]/latest/meta-data/", /^url: fd00:ec2::254 is the cloud metadata address of AWS over IPv6/],
    ["IPv6 link-local", "http://[fe80::1]/", /^url: fe80::1 is a link-local address, where cloud metadata services answer/],
  ])("refuses %s with a 400 that never suggests opening it", async (_name, url, rule) => {
    const { answers } = await saveBoth(client, url);
    for (const { status, message } of answers) {
      expect(status).toBe(400);
      expect(message).toMatch(rule);
      expect(message).not.toMatch(/HOOKLINE_ALLOWED_NETWORKS|allow/i);
    }
  });

  it("saves a name that does not resolve yet, and a name with a public address among private ones", async () => {
    const trigger = await client.createTrigger({ name: "t", type: "participant.confirmed" });
    for (const url of ["http://not-yet.invalid/hook", "http://split.test/hook", "http://hooks.test/hook"]) {
      expect((await client.createAction(trigger.id, { name: "a", type: "webhook", url })).url).toBe(url);
    }
  });

  it("judges a stored URL again only when a PATCH gives it", async () => {
    const trigger = await client.createTrigger({ name: "t", type: "participant.confirmed" });
    SAVE_TIME_NAMES["moving.test"] = [{ address: "93.184.216.34", family: 4 }];
    const action = await client.createAction(trigger.id, { name: "a", type: "webhook", url: "http://moving.test/hook" });
    // Its DNS record now points into a private network: a rename still saves, the URL does not.
    SAVE_TIME_NAMES["moving.test"] = [{ address: "192.168.1.20", family: 4 }];
    expect(await client.updateAction(action.id, { name: "renamed", enabled: false })).toMatchObject({ name: "renamed", enabled: false });
    const { status, message } = refusal(await client.updateAction(action.id, { url: "http://moving.test/hook" }).catch((e: unknown) => e));
    expect(status).toBe(400);
    expect(message).toBe("url: moving.test resolves to a private or reserved address; outbound requests cannot reach it");
  });
});

describe("with loopback allowed on purpose", () => {
  it("saves and delivers to loopback and to a hostname that resolves to it, and still refuses other private addresses", async () => {
    const h = await startTestHookline({ HOOKLINE_ALLOWED_NETWORKS: "127.0.0.0/8" });
    try {
      const instance = await deliverOnce(h, receiver.url("/allowed").replace("127.0.0.1", "localhost"));
      expect(instance.state).toBe("succeeded");
      const { client } = await h.account();
      const trigger = await client.createTrigger({ name: "t", type: "participant.confirmed" });
      const action = await client.createAction(trigger.id, { name: "a", type: "webhook", url: receiver.url("/allowed-post") });
      expect((await client.updateAction(action.id, { url: receiver.url("/allowed-patch") })).url).toBe(receiver.url("/allowed-patch"));
      const refused = refusal(await client.updateAction(action.id, { url: "http://10.0.0.5/" }).catch((e: unknown) => e));
      expect(refused).toMatchObject({ status: 400, message: expect.stringMatching(/^url: 10\.0\.0\.5 is a private address \(RFC 1918\)/) });
    } finally {
      await h.stop();
    }
  });
});

describe("SSRF guard at delivery", () => {
  // DNS records and HOOKLINE_ALLOWED_NETWORKS can change after a URL was saved: here the operator
  // closes ranges that were open when the actions were saved, and restarts.
  it("refuses at once, never sent and never retried, a URL that was allowed when saved; never suggests opening metadata", async () => {
    const dataDir = tempDir();
    const database = await freshDatabase(dataDir);
    const env = { HOOKLINE_DATA_DIR: dataDir, HOOKLINE_DATABASE_URL: database.url };
    const opened = await startTestHookline({ ...env, HOOKLINE_ALLOWED_NETWORKS: "127.0.0.0/8,::1/128,169.254.169.254/32" });
    const { apiKey, client } = await opened.account();
    const trigger = await client.createTrigger({ name: "t", type: "participant.confirmed" });
    const urls = {
      loopback: receiver.url("/closed-later"),
      localhost: receiver.url("/closed-later").replace("127.0.0.1", "localhost"),
      ipv6: receiver.url("/closed-later").replace("127.0.0.1", "[::1]"),
      metadata: "http://169.254.169.254/latest/meta-data/",
    };
    const ids: Record<string, string> = {};
    for (const [name, url] of Object.entries(urls)) ids[name] = (await client.createAction(trigger.id, { name, type: "webhook", url })).id;
    await opened.hookline.stop(); // the same data folder and database serve the restart

    const closed = await startTestHookline({ ...env, HOOKLINE_ALLOWED_NETWORKS: "" });
    try {
      const after = new HooklineClient({ baseUrl: closed.baseUrl, apiKey });
      await after.ingest({ type: "participant.confirmed", data: example });
      const errors: Record<string, string | null> = {};
      for (const [name, id] of Object.entries(ids)) {
        const instance = await finishedInstance(after, id);
        expect(instance).toMatchObject({ state: "failed", attempts: 1, sent: false, delivered: false });
        errors[name] = instance.last_error;
      }
      expect(errors.loopback).toMatch(/^blocked: 127\.0\.0\.1 is a loopback address \(RFC 1122\); .* unless HOOKLINE_ALLOWED_NETWORKS allows it$/);
      expect(errors.localhost).toBe("blocked: localhost resolves to a private or reserved address; outbound requests cannot reach it");
      expect(errors.ipv6).toMatch(/^blocked: ::1 is the loopback address \(RFC 4291\)/);
      expect(errors.metadata).toMatch(/^blocked: 169\.254\.169\.254 is the cloud metadata address/);
      expect(errors.metadata).not.toMatch(/HOOKLINE_ALLOWED_NETWORKS|allow/i);
      expect(receiver.received.filter((r) => r.path === "/closed-later")).toHaveLength(0);
    } finally {
      await closed.stop();
      await database.drop();
    }
  });
});

describe("hostile receivers", () => {
  let h: TestHookline;
  beforeAll(async () => {
    h = await startTestHookline();
  });
  afterAll(() => h.stop());

  it("cuts a receiver that trickles its response at the total timeout, and retries", async () => {
    const timers = new Set<NodeJS.Timeout>();
    receiver.respond("/trickle", (_r, res, nth) => {
      if (nth > 1) return { status: 200 };
      res.writeHead(200, { "content-type": "text/plain" });
      const timer = setInterval(() => res.write("."), 100); // a byte every 100 ms, forever
      timers.add(timer);
      res.on("close", () => clearInterval(timer));
      return undefined;
    });
    const instance = await deliverOnce(h, receiver.url("/trickle"));
    for (const t of timers) clearInterval(t);
    expect(instance).toMatchObject({ state: "succeeded", attempts: 2 });
    expect(instance.attempt_log[0]?.error).toMatch(/timed out/);
    expect(instance.attempt_log[0]?.duration_ms).toBeGreaterThanOrEqual(950);
    expect(instance.attempt_log[0]?.duration_ms).toBeLessThan(3000);
  });

  it("stores a receiver's headers redacted and capped", async () => {
    receiver.respond("/headers", () => ({
      status: 200,
      // Within undici's 16 KiB header limit (beyond it the attempt fails as a network error).
      headers: {
        "set-cookie": "session=s3cr3t",
        "x-api-key": "k3y",
        "x-long": "v".repeat(3000),
        ...Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`x-h${i}`, "v"])),
      },
    }));
    const instance = await deliverOnce(h, receiver.url("/headers"));
    const headers = instance.attempt_log[0]?.response?.headers as Record<string, string>;
    expect(headers["set-cookie"]).toBe("[redacted]");
    expect(headers["x-api-key"]).toBe("[redacted]");
    expect(Object.keys(headers).length).toBeLessThanOrEqual(100);
    expect(JSON.stringify(instance)).not.toContain("s3cr3t");
    expect(Math.max(...Object.values(headers).map((v) => String(v).length))).toBeLessThanOrEqual(1025);
  });
});

describe("limits", () => {
  it("answers 429 with Retry-After past an account's ingest rate, without touching other accounts", async () => {
    // One event a second, bursts of two: fifteen requests sent together overrun it however slow the machine.
    const h = await startTestHookline({ HOOKLINE_RATE_LIMIT_INGEST: "1", HOOKLINE_RATE_LIMIT_API: "1000" });
    try {
      const a = await h.account("a");
      const b = await h.account("b");
      let retryAfter: string | null = null;
      const send = async () => {
        const res = await fetch(`${h.baseUrl}/api/v1/events`, {
          method: "POST",
          headers: { authorization: `Bearer ${a.apiKey}`, "content-type": "application/json" },
          body: JSON.stringify({ type: "participant.confirmed", data: example }),
        });
        if (res.status === 429) {
          retryAfter = res.headers.get("retry-after");
          expect(((await res.json()) as { error: { code: string } }).error.code).toBe("rate_limited");
        } else await res.text();
        return res.status;
      };
      const statuses = await Promise.all(Array.from({ length: 15 }, send));
      expect(statuses.filter((s) => s === 202).length).toBeGreaterThanOrEqual(2);
      expect(statuses).toContain(429);
      expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
      expect((await b.client.ingest({ type: "participant.confirmed", data: example })).id).toMatch(/^evt_/);
      // A batch is admitted, and costs one token per event: the account then waits off the debt.
      await expect(b.client.ingestBatch(Array.from({ length: 30 }, () => ({ type: "participant.confirmed" as const, data: example })))).resolves.toBeDefined();
      await expect(b.client.ingest({ type: "participant.confirmed", data: example })).rejects.toMatchObject({ status: 429 });
    } finally {
      await h.stop();
    }
  });

  it("answers 429 past an account's management rate", async () => {
    const h = await startTestHookline({ HOOKLINE_RATE_LIMIT_API: "2" });
    try {
      const { client } = await h.account();
      const results = await Promise.allSettled(Array.from({ length: 8 }, () => client.listTriggers()));
      expect(results.filter((r) => r.status === "rejected").map((r) => (r as PromiseRejectedResult).reason.status)).toContain(429);
    } finally {
      await h.stop();
    }
  });

  it("caps the number of triggers and actions per account with 409 limit_reached", async () => {
    const h = await startTestHookline({ HOOKLINE_MAX_TRIGGERS: "2", HOOKLINE_MAX_ACTIONS: "1" });
    try {
      const { client } = await h.account();
      const t1 = await client.createTrigger({ name: "1", type: "event.created" });
      await client.createTrigger({ name: "2", type: "event.created" });
      await expect(client.createTrigger({ name: "3", type: "event.created" })).rejects.toMatchObject({ status: 409, code: "limit_reached" });
      await client.createAction(t1.id, { name: "a", type: "webhook", url: "https://example.com/" });
      await expect(client.createAction(t1.id, { name: "b", type: "webhook", url: "https://example.com/" })).rejects.toMatchObject({
        status: 409,
        code: "limit_reached",
      });
      await client.deleteTrigger(t1.id);
      await expect(client.createTrigger({ name: "3", type: "event.created" })).resolves.toMatchObject({ name: "3" });
    } finally {
      await h.stop();
    }
  });
});

describe("secrets at rest", () => {
  it("stores signing secrets sealed: the stored data never contains them, the API still reveals them", async () => {
    const h = await startTestHookline();
    const { client } = await h.account();
    const trigger = await client.createTrigger({ name: "t", type: "event.created" });
    const action = await client.createAction(trigger.id, { name: "a", type: "webhook", url: "https://example.com/" });
    const rotated = await client.rotateSecret(action.id);
    expect((await client.revealSecret(action.id)).secret).toBe(rotated.secret);
    // Every stored column of the action, whatever the database…
    const row = JSON.stringify(await h.hookline.store.db.selectFrom("actions").selectAll().where("id", "=", action.id).executeTakeFirst());
    for (const secret of [action.secret, rotated.secret]) expect(row).not.toContain(secret.slice("whsec_".length));
    // …and, on the embedded default, the database files themselves (WAL included).
    const files = DIALECT === "sqlite" ? fs.readdirSync(h.dataDir).filter((f) => f.startsWith("hookline.db")) : [];
    if (DIALECT === "sqlite") expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const bytes = fs.readFileSync(`${h.dataDir}/${file}`);
      for (const secret of [action.secret, rotated.secret]) {
        expect(bytes.includes(secret)).toBe(false);
        expect(bytes.includes(secret.slice("whsec_".length))).toBe(false);
      }
    }
    expect(fs.statSync(`${h.dataDir}/secret.key`).mode & 0o777).toBe(0o600);
    await h.stop();
  });
});

describe("the secret key", () => {
  it("with the wrong key, an attempt fails once, naming the setting, instead of looping", async () => {
    const dir = (await import("./helpers/hookline.js")).tempDir();
    const first = await startTestHookline({ HOOKLINE_DATA_DIR: dir, HOOKLINE_SECRET_KEY: Buffer.alloc(32, 1).toString("base64") });
    const { apiKey } = await first.account();
    const c1 = new (await import("../src/client/index.js")).HooklineClient({ baseUrl: first.baseUrl, apiKey });
    const trigger = await c1.createTrigger({ name: "t", type: "participant.confirmed" });
    const action = await c1.createAction(trigger.id, { name: "a", type: "webhook", url: receiver.url("/wrong-key") });
    await first.hookline.stop();

    const second = await startTestHookline({
      HOOKLINE_DATA_DIR: dir,
      HOOKLINE_DATABASE_URL: first.databaseUrl,
      HOOKLINE_SECRET_KEY: Buffer.alloc(32, 2).toString("base64"),
    });
    try {
      const c2 = new (await import("../src/client/index.js")).HooklineClient({ baseUrl: second.baseUrl, apiKey });
      await c2.ingest({ type: "participant.confirmed", data: example });
      const instance = await eventually(async () => {
        const i = (await c2.log(action.id)).data[0];
        return i?.state === "failed" ? i : undefined;
      });
      expect(instance.attempts).toBe(1);
      expect(instance.last_error).toMatch(/^internal error: .*HOOKLINE_SECRET_KEY/);
      expect(receiver.received.filter((r) => r.path === "/wrong-key")).toHaveLength(0);
    } finally {
      await second.stop();
    }
  });
});
