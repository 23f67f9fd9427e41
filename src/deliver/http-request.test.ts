import http from "node:http";
import type { AddressInfo } from "node:net";
import { Agent } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withWarnings } from "../../test/helpers/warnings.js";
import { Stop, type StopSignal } from "../abort.js";
import { postOnce } from "./http-request.js";

let server: http.Server;
let base: string;
const agent = new Agent();
const never: StopSignal = new AbortController().signal;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      switch (req.url) {
        case "/ok":
          res.writeHead(201, { "x-answer": "yes" }).end("created");
          return;
        case "/big":
          res.writeHead(200).end("x".repeat(10_000));
          return;
        case "/processing":
          // An informational answer first: the final one is what counts.
          res.writeProcessing();
          setTimeout(() => res.writeHead(503, { "retry-after": "7" }).end("busy"), 20);
          return;
        case "/hang":
          return;
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await agent.close();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const post = (path: string, { signal = never, timeoutMs = 2_000, bodyCap = 1_024, url = `${base}${path}` } = {}) =>
  postOnce(url, { headers: { "content-type": "application/json" }, body: "{}", dispatcher: agent, signal, timeoutMs, bodyCap, now: Date.now });

describe("postOnce", () => {
  it.each([
    ["an Expect header", { expect: "100-continue" }],
    ["a vertical tab in a value", { "x-key": "a\x0bb" }],
    ["a character beyond Latin-1", { "x-key": "caf\u0113" }],
    ["DEL in a value", { "x-key": "a\x7fb" }],
  ])("fails at once, not to be retried, a request the HTTP client refuses to send: %s", async (_name, extra) => {
    const result = await postOnce(`${base}/ok`, {
      headers: { "content-type": "application/json", ...extra },
      body: "{}",
      dispatcher: agent,
      signal: never,
      timeoutMs: 2_000,
      bodyCap: 1_024,
      now: Date.now,
    });
    expect(result).toMatchObject({ outcome: { kind: "permanent" }, sent: false, error: expect.stringMatching(/^request refused by the HTTP client: /) });
  });

  it("returns the answer's status, headers and body, classified", async () => {
    const result = await post("/ok");
    expect(result).toMatchObject({ outcome: { kind: "success" }, sent: true, response: { status: 201, body: "created", truncated: false } });
    expect(result.response?.headers["x-answer"]).toBe("yes");
  });

  it("keeps at most the cap of a large body and says it was cut", async () => {
    const result = await post("/big", { bodyCap: 100 });
    expect(result.response).toMatchObject({ status: 200, truncated: true });
    expect(result.response?.body).toBe("x".repeat(100));
  });

  it("takes the final answer after an informational one", async () => {
    const result = await post("/processing");
    expect(result).toMatchObject({ outcome: { kind: "temporary" }, sent: true, response: { status: 503, body: "busy" } });
  });

  it("gives up at the total timeout: sent, and temporary", async () => {
    const result = await post("/hang", { timeoutMs: 100 });
    expect(result).toMatchObject({ outcome: { kind: "temporary" }, sent: true, error: "timed out waiting for the receiver" });
  });

  it("throws when its signal aborts it (shutdown), before or during the request", async () => {
    const stopped = new AbortController();
    stopped.abort(new Error("shutting down"));
    await expect(post("/ok", { signal: stopped.signal })).rejects.toThrow("shutting down");
    const stop = new AbortController();
    const pending = post("/hang", { signal: stop.signal });
    setTimeout(() => stop.abort(new Error("shutting down")), 50);
    await expect(pending).rejects.toThrow("shutting down");
  });

  it("throws when a Stop (the webhook thread's) aborts it during the request; once answered, a later abort changes nothing", async () => {
    const stop = new Stop();
    const pending = post("/hang", { signal: stop });
    setTimeout(() => stop.abort(new Error("shutting down")), 50);
    await expect(pending).rejects.toThrow("shutting down");
    const done = new Stop();
    const answered = await post("/ok", { signal: done });
    expect(() => done.abort(new Error("too late"))).not.toThrow();
    expect(answered.sent).toBe(true);
  });

  it("takes one signal over many requests in flight (the worker's hard stop, webhook thread off) without Node's listener-leak warning", async () => {
    await withWarnings(async (warnings) => {
      const stop = new AbortController();
      const pending = Array.from({ length: 20 }, () => post("/hang", { signal: stop.signal }));
      await new Promise((r) => setTimeout(r, 50));
      stop.abort(new Error("shutting down"));
      for (const p of pending) await expect(p).rejects.toThrow("shutting down");
      expect(warnings).not.toContain("MaxListenersExceededWarning");
    });
  });

  it("reports a refused connection as not sent", async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const result = await post("/", { url: `http://127.0.0.1:${port}/` });
    expect(result).toMatchObject({ outcome: { kind: "temporary" }, sent: false });
    expect(result.error).toMatch(/ECONNREFUSED/);
  });
});
