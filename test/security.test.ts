/** Security by default: SSRF guard, slow receivers, limits, secrets at rest, redaction. */
import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { triggerType } from "../src/catalogue/trigger-types.js";
import type { InstanceDetailOut } from "../src/client/index.js";
import { DIALECT, eventually, startTestHookline, type TestHookline } from "./helpers/hookline.js";
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

describe("SSRF guard (no HOOKLINE_ALLOWED_NETWORKS)", () => {
  let h: TestHookline;
  beforeAll(async () => {
    h = await startTestHookline({ HOOKLINE_ALLOWED_NETWORKS: "" });
  });
  afterAll(() => h.stop());

  const port = () => new URL(receiver.url()).port;
  it.each([
    ["loopback", (p: string) => `http://127.0.0.1:${p}/ssrf`],
    ["a hostname that resolves to 127.0.0.1", (p: string) => `http://localhost:${p}/ssrf`],
    ["decimal IPv4", (p: string) => `http://2130706433:${p}/ssrf`],
    ["hex IPv4", (p: string) => `http://0x7f.0x0.0x0.0x1:${p}/ssrf`],
    ["octal IPv4", (p: string) => `http://0177.0.0.01:${p}/ssrf`],
    ["short IPv4", (p: string) => `http://127.1:${p}/ssrf`],
    ["0.0.0.0", (p: string) => `http://0.0.0.0:${p}/ssrf`],
    ["IPv6 loopback in brackets", (p: string) => `http://[::1]:${p}/ssrf`],
    ["IPv4-mapped IPv6", (p: string) => `http://[::ffff:127.0.0.1]:${p}/ssrf`],
    ["NAT64 of loopback", (p: string) => `http://[64:ff9b::127.0.0.1]:${p}/ssrf`],
    ["cloud metadata", () => "http://169.254.169.254/latest/meta-data/"],
    ["RFC 1918", () => "http://10.0.0.1/"],
    ["CGNAT", () => "http://100.64.1.1/"],
    ["IPv6 unique local", () => "http://[fd12:3456::1]/"],
    ["IPv6 link-local", () => "http://[fe80::1]/"],
  ])("refuses %s at once, never retried, never sent", async (_name, url) => {
    const before = receiver.received.length;
    const instance = await deliverOnce(h, url(port()));
    expect(instance).toMatchObject({ state: "failed", attempts: 1, sent: false, delivered: false });
    expect(instance.last_error).toMatch(/^blocked: .*(private or reserved|resolves to)/);
    expect(receiver.received.length).toBe(before);
  });
});

describe("with loopback allowed on purpose", () => {
  it("delivers to a hostname that resolves to 127.0.0.1", async () => {
    const h = await startTestHookline({ HOOKLINE_ALLOWED_NETWORKS: "127.0.0.0/8" });
    try {
      const instance = await deliverOnce(h, receiver.url("/allowed").replace("127.0.0.1", "localhost"));
      expect(instance.state).toBe("succeeded");
    } finally {
      await h.stop();
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
    const h = await startTestHookline({ HOOKLINE_RATE_LIMIT_INGEST: "5", HOOKLINE_RATE_LIMIT_API: "1000" });
    try {
      const a = await h.account("a");
      const b = await h.account("b");
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 15; i++) {
        const res = await fetch(`${h.baseUrl}/api/v1/events`, {
          method: "POST",
          headers: { authorization: `Bearer ${a.apiKey}`, "content-type": "application/json" },
          body: JSON.stringify({ type: "participant.confirmed", data: example }),
        });
        statuses.push(res.status);
        if (res.status === 429) {
          retryAfter = res.headers.get("retry-after");
          expect(((await res.json()) as { error: { code: string } }).error.code).toBe("rate_limited");
        } else await res.text();
      }
      expect(statuses.filter((s) => s === 202).length).toBeGreaterThanOrEqual(10);
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
