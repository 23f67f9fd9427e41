/**
 * Tenants cannot hurt each other, nor read what is not theirs (issue 35): what an account saves is
 * refused at once when it could not be sent or would change its own JSON, and the limits hold
 * under concurrent creates.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { triggerType } from "../src/catalogue/trigger-types.js";
import { HooklineApiError, type HooklineClient } from "../src/client/index.js";
import { loadConfig } from "../src/config.js";
import { createLogger } from "../src/logger.js";
import { DIALECT, finishedInstance, startTestHookline, type TestHookline, tempDir } from "./helpers/hookline.js";
import { type Receiver, startReceiver } from "./helpers/receiver.js";

let receiver: Receiver;
let h: TestHookline;
let client: HooklineClient;
beforeAll(async () => {
  receiver = await startReceiver();
  h = await startTestHookline();
  ({ client } = await h.account());
});
afterAll(async () => {
  await h.stop();
  await receiver.close();
});

/** The error answer of a refused call, as status, code and message. */
async function refusal(call: Promise<unknown>): Promise<{ status: number; code: string; message: string }> {
  const error = await call.then(
    (value) => value,
    (e: unknown) => e,
  );
  if (!(error instanceof HooklineApiError)) throw new Error(`expected an error answer, got ${JSON.stringify(error)}`);
  const { message } = (error.body as { error: { message: string } }).error;
  return { status: error.status, code: error.code, message };
}

describe("custom headers are checked when saved as the HTTP client checks them when sending", () => {
  it.each([
    ["Expect, which the HTTP client refuses", { Expect: "100-continue" }, /^headers\.Expect: is not supported by Hookline's HTTP client/],
    ["Content-Type, which Hookline sets", { "Content-Type": "text/plain" }, /^headers\.Content-Type: is set by Hookline/],
    ["user-agent, which Hookline sets", { "user-agent": "x" }, /^headers\.user-agent: is set by Hookline/],
    ["a vertical tab in a value", { "X-Key": "a\x0bb" }, /^headers\.X-Key: header values may hold tabs, printable ASCII and Latin-1 characters only/],
    ["DEL in a value", { "X-Key": "a\x7fb" }, /^headers\.X-Key: header values may hold/],
    ["a character beyond Latin-1", { "X-Key": "caf\u0113" }, /^headers\.X-Key: header values may hold/],
    ["a line break in a value", { "X-Key": "a\r\nX-Other: b" }, /^headers\.X-Key: header values may hold/],
    ["one name twice in different case", { "X-Key": "1", "x-key": "2" }, /^headers\.x-key: is given twice/],
  ])("refuses %s with a 400 naming the header, on POST and on PATCH", async (_name, headers, message) => {
    const trigger = await client.createTrigger({ name: "t", type: "participant.confirmed" });
    const url = receiver.url("/headers");
    const posted = await refusal(client.createAction(trigger.id, { name: "a", type: "webhook", url, headers }));
    const action = await client.createAction(trigger.id, { name: "b", type: "webhook", url });
    const patched = await refusal(client.updateAction(action.id, { headers }));
    for (const answer of [posted, patched]) {
      expect(answer).toMatchObject({ status: 400, code: "validation_error" });
      expect(answer.message).toMatch(message);
    }
  });

  it("saves and sends a tab and Latin-1 characters in a value", async () => {
    const trigger = await client.createTrigger({ name: "t", type: "participant.confirmed" });
    const headers = { "X-Key": "caf\u00e9\tau lait" };
    const action = await client.createAction(trigger.id, { name: "a", type: "webhook", url: receiver.url("/latin-1"), headers });
    await client.ingest({ type: "participant.confirmed", data: triggerType("participant.confirmed").example });
    expect(await finishedInstance(client, action.id)).toMatchObject({ state: "succeeded", attempts: 1 });
    const [request] = await receiver.waitFor(1, "/latin-1");
    expect(Buffer.from(request?.headers["x-key"] as string, "latin1").toString("latin1")).toBe(headers["X-Key"]);
  });
});

describe("webhook body templates keep every value inside its JSON string", () => {
  it("refuses the raw filter with a 400 naming it", async () => {
    const trigger = await client.createTrigger({ name: "t", type: "participant.confirmed" });
    const body = '{"name": "{{ participant.name | raw }}"}';
    const answer = await refusal(client.createAction(trigger.id, { name: "a", type: "webhook", url: receiver.url("/raw"), body }));
    expect(answer).toMatchObject({ status: 400, code: "validation_error" });
    expect(answer.message).toMatch(/^body: .*the raw filter is not available in a webhook body/);
  });

  it("delivers a name holding quotes as that name: it adds no key", async () => {
    const trigger = await client.createTrigger({ name: "t", type: "participant.confirmed" });
    const body = '{"name": "{{ participant.name }}", "admin": false}';
    const action = await client.createAction(trigger.id, { name: "a", type: "webhook", url: receiver.url("/injection"), body });
    const example = triggerType("participant.confirmed").example as { participant: Record<string, unknown> };
    const name = '", "admin": true, "x": "';
    await client.ingest({ type: "participant.confirmed", data: { ...example, participant: { ...example.participant, name } } });
    expect(await finishedInstance(client, action.id)).toMatchObject({ state: "succeeded" });
    const [request] = await receiver.waitFor(1, "/injection");
    expect(JSON.parse(request?.body ?? "")).toEqual({ name, admin: false });
  });
});

describe("per-account limits hold under concurrent creates", () => {
  it("of 20 triggers and 20 actions created at once under limits of 3, exactly 3 of each are made; the rest answer 409", async () => {
    const limited = await startTestHookline({ HOOKLINE_MAX_TRIGGERS: "3", HOOKLINE_MAX_ACTIONS: "3" });
    try {
      const { client: c } = await limited.account();
      const statuses = (results: PromiseSettledResult<unknown>[]) =>
        results.map((r) => (r.status === "fulfilled" ? 201 : r.reason instanceof HooklineApiError ? r.reason.status : String(r.reason))).sort();
      const triggers = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => c.createTrigger({ name: `t${i}`, type: "event.created" })));
      expect(statuses(triggers)).toEqual([...Array(3).fill(201), ...Array(17).fill(409)]);
      expect((await c.listTriggers()).data).toHaveLength(3);

      const [first, second] = (await c.listTriggers()).data;
      const actions = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) =>
          c.createAction((i % 2 === 0 ? first : second)?.id as string, { name: `a${i}`, type: "webhook", url: "https://example.com/" }),
        ),
      );
      expect(statuses(actions)).toEqual([...Array(3).fill(201), ...Array(17).fill(409)]);
      const [onFirst = 0, onSecond = 0] = await Promise.all([first, second].map(async (t) => (await c.listActions(t?.id as string)).data.length));
      expect(onFirst + onSecond).toBe(3);
    } finally {
      await limited.stop();
    }
  });
});

describe("the data folder is private to the user running Hookline", () => {
  const modeOf = (file: string) => (fs.statSync(file).mode & 0o777).toString(8);

  it("creates the folder 0700 and the database, its WAL and shared memory, and the key file 0600, whatever the umask", async () => {
    const dataDir = path.join(tempDir(), "data");
    const umask = process.umask(0);
    let started: TestHookline;
    try {
      started = await startTestHookline({ HOOKLINE_DATA_DIR: dataDir });
    } finally {
      process.umask(umask);
    }
    try {
      const { client: c } = await started.account();
      const trigger = await c.createTrigger({ name: "t", type: "participant.confirmed" });
      const action = await c.createAction(trigger.id, { name: "a", type: "webhook", url: receiver.url("/private") });
      await c.ingest({ type: "participant.confirmed", data: triggerType("participant.confirmed").example });
      await finishedInstance(c, action.id);
      const files = DIALECT === "sqlite" ? ["secret.key", "hookline.db", "hookline.db-wal", "hookline.db-shm"] : ["secret.key"];
      expect(Object.fromEntries([".", ...files].map((f) => [f, modeOf(path.join(dataDir, f))]))).toEqual(
        Object.fromEntries([[".", "700"], ...files.map((f) => [f, "600"])]),
      );
    } finally {
      await started.stop();
    }
  });

  it("tightens existing files to 0600, and warns that an existing folder others can enter stays as it is", async () => {
    const dataDir = tempDir();
    fs.chmodSync(dataDir, 0o755);
    const files = DIALECT === "sqlite" ? ["secret.key", "hookline.db"] : ["secret.key"];
    // Left by an earlier start: a key, and an empty database SQLite initialises.
    fs.writeFileSync(path.join(dataDir, "secret.key"), `${Buffer.alloc(32, 7).toString("base64")}\n`, { mode: 0o644 });
    if (DIALECT === "sqlite") fs.writeFileSync(path.join(dataDir, "hookline.db"), "", { mode: 0o644 });
    const lines: string[] = [];
    const logger = createLogger("warn", { write: (line: string) => lines.push(line) });
    const started = await startTestHookline({ HOOKLINE_DATA_DIR: dataDir }, { logger });
    try {
      for (const f of files) expect([f, modeOf(path.join(dataDir, f))]).toEqual([f, "600"]);
      expect(modeOf(dataDir)).toBe("755");
      expect(lines.map((l) => JSON.parse(l) as { level: number; msg: string; dataDir?: string })).toContainEqual(
        expect.objectContaining({ level: 40, dataDir, msg: expect.stringMatching(/^other users can enter the data folder/) }),
      );
    } finally {
      await started.stop();
    }
  });
});

describe("/metrics can be kept from the public listener", () => {
  it("with HOOKLINE_METRICS_PORT, is served on its own address, and the main listener answers 404 for it", async () => {
    const split = await startTestHookline({ HOOKLINE_METRICS_PORT: "0", HOOKLINE_METRICS_HOST: "127.0.0.1" });
    try {
      const address = split.hookline.metricsApp?.server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      expect(port).toBeGreaterThan(0);
      expect(port).not.toBe(Number(new URL(split.baseUrl).port));
      const own = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(own.status).toBe(200);
      expect(await own.text()).toMatch(/^hookline_database_up 1$/m);
      const main = await fetch(`${split.baseUrl}/metrics`);
      expect(main.status).toBe(404);
      expect(await main.json()).toEqual({ error: { code: "not_found", message: "no route GET /metrics" } });
      // The metrics listener serves nothing else.
      expect((await fetch(`http://127.0.0.1:${port}/api/v1/triggers`)).status).toBe(404);
      // The OpenAPI document stays public: it describes the API and holds no data.
      expect((await fetch(`${split.baseUrl}/api/v1/openapi.json`)).status).toBe(200);
    } finally {
      await split.stop();
    }
  });

  it("with HOOKLINE_METRICS_TOKEN, answers 401 to a scrape without the token or with another, and the figures to one with it", async () => {
    const token = "metrics-token-0123456789";
    const guarded = await startTestHookline({ HOOKLINE_METRICS_TOKEN: token });
    try {
      const scrape = (authorization?: string) => fetch(`${guarded.baseUrl}/metrics`, { headers: authorization ? { authorization } : {} });
      for (const refused of [await scrape(), await scrape(`Bearer ${token}x`), await scrape("Bearer short")]) {
        expect(refused.status).toBe(401);
        expect(refused.headers.get("www-authenticate")).toBe("Bearer");
        expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
      }
      const allowed = await scrape(`Bearer ${token}`);
      expect(allowed.status).toBe(200);
      expect(await allowed.text()).toMatch(/^hookline_database_up 1$/m);
    } finally {
      await guarded.stop();
    }
  });

  it("names HOOKLINE_METRICS_PORT when the metrics port is in use", async () => {
    const dataDir = tempDir();
    const taken = new URL(receiver.url()).port;
    // SQLite in both runs: a start that fails leaves no scratch PostgreSQL database behind.
    const start = startTestHookline({ HOOKLINE_DATA_DIR: dataDir, HOOKLINE_DATABASE_URL: `sqlite:${dataDir}/hookline.db`, HOOKLINE_METRICS_PORT: taken });
    await expect(start).rejects.toMatchObject({ name: "StartupError", setting: "HOOKLINE_METRICS_PORT", message: `port ${taken} is in use` });
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("refuses a metrics token shorter than 16 characters, and a metrics port that is not a port", () => {
    expect(() => loadConfig({ HOOKLINE_METRICS_TOKEN: "short" })).toThrow(/^HOOKLINE_METRICS_TOKEN must be at least 16 characters/);
    expect(() => loadConfig({ HOOKLINE_METRICS_PORT: "abc" })).toThrow(/^HOOKLINE_METRICS_PORT="abc": a port is a whole number/);
    expect(loadConfig({ HOOKLINE_METRICS_PORT: "9464" }).metricsListener).toEqual({ port: 9464, host: "127.0.0.1" });
  });
});
