import { randomBytes } from "node:crypto";
import { pino } from "pino";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Receiver, startReceiver } from "../../test/helpers/receiver.js";
import { withWarnings } from "../../test/helpers/warnings.js";
import { parseCidr } from "../net/cidr.js";
import type { ClaimedInstance } from "../queue/claim.js";
import { createCipher } from "../secrets/cipher.js";
import type { WebhookSetup } from "./webhook.js";
import { createWebhookThread } from "./webhook-thread.js";

const key = randomBytes(32);
const cipher = createCipher(key);
const secret = `whsec_${randomBytes(24).toString("base64")}`;
const logger = pino({ level: "silent" });
const config = { connectTimeoutMs: 1_000, requestTimeoutMs: 2_000, responseBodyCapBytes: 1_024, concurrency: 8 };
const data = (allowed: string[]): WebhookSetup => ({ config, allowedNetworks: allowed.map(parseCidr), key });

let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(() => receiver.close());

function instance(id: string, url: string, headers?: Record<string, string>): ClaimedInstance {
  return {
    id,
    accountId: "acc_1",
    actionId: "act_1",
    actionType: "webhook",
    settings: JSON.stringify({ url, ...(headers && { headers: cipher.seal(JSON.stringify(headers)) }) }),
    secret: cipher.seal(secret),
    previousSecrets: "[]",
    objectKey: "appointment",
    object: JSON.stringify({ id: 7 }),
    series: 1,
    seriesAttempts: 0,
    attempts: 0,
    createdAt: Date.now(),
    test: 0,
    leaseToken: "token",
    quiet: null,
  };
}

describe("the webhook thread", () => {
  it("opens the sealed settings, signs and posts on its own thread, and returns the answer", async () => {
    const thread = createWebhookThread(data(["127.0.0.0/8"]), { logger });
    try {
      receiver.respond("/ok", () => ({ status: 201, body: "created", headers: { "x-answer": "yes" } }));
      const results = await Promise.all(
        ["ins_1", "ins_2", "ins_3"].map((id) => thread.send(instance(id, receiver.url("/ok"), { authorization: "Bearer t" }), new AbortController().signal)),
      );
      expect(results.map((r) => r.response?.status)).toEqual([201, 201, 201]);
      expect(results[0]).toMatchObject({ outcome: { kind: "success" }, sent: true, response: { body: "created", headers: { "x-answer": "yes" } } });
      // The request log keeps the custom header's name only.
      expect(results[0]?.request).toMatchObject({ method: "POST", headers: { authorization: "[redacted]" } });
      const got = receiver.received.filter((r) => r.path === "/ok");
      expect(got).toHaveLength(3);
      const first = got.find((r) => r.headers["webhook-id"] === "ins_1");
      expect(first?.headers.authorization).toBe("Bearer t");
      expect(() => new Webhook(secret).verify(first?.body ?? "", first?.headers as Record<string, string>)).not.toThrow();
    } finally {
      await thread.close();
    }
  });

  it("keeps the private-network guard: a loopback receiver not allowed is refused", async () => {
    const thread = createWebhookThread(data([]), { logger });
    try {
      const result = await thread.send(instance("ins_4", receiver.url("/ok")), new AbortController().signal);
      expect(result).toMatchObject({ outcome: { kind: "permanent" }, sent: false });
      expect(result.error).toMatch(/^blocked/);
    } finally {
      await thread.close();
    }
  });

  it("follows an action's changed settings, and refuses a literal private IP on every attempt, not only the first", async () => {
    const thread = createWebhookThread(data(["127.0.0.1/32"]), { logger });
    const signal = new AbortController().signal;
    try {
      receiver.respond("/before", () => ({ status: 200 }));
      receiver.respond("/after", () => ({ status: 200 }));
      await thread.send(instance("ins_10", receiver.url("/before"), { "x-key": "one" }), signal);
      await thread.send(instance("ins_11", receiver.url("/after"), { "x-key": "two" }), signal);
      expect(receiver.received.find((r) => r.headers["webhook-id"] === "ins_10")).toMatchObject({ path: "/before", headers: { "x-key": "one" } });
      expect(receiver.received.find((r) => r.headers["webhook-id"] === "ins_11")).toMatchObject({ path: "/after", headers: { "x-key": "two" } });
      // 127.0.0.2 is loopback but outside the one address allowed: refused, the second time too.
      const blocked = receiver.url("/ok").replace("127.0.0.1", "127.0.0.2");
      for (const id of ["ins_12", "ins_13"]) {
        const result = await thread.send(instance(id, blocked), signal);
        expect(result).toMatchObject({ outcome: { kind: "permanent" }, sent: false });
        expect(result.error).toMatch(/^blocked: 127\.0\.0\.2/);
      }
    } finally {
      await thread.close();
    }
  });

  it("aborts a request in flight on the thread when the signal aborts (shutdown)", async () => {
    const thread = createWebhookThread(data(["127.0.0.0/8"]), { logger });
    try {
      receiver.respond("/hang", () => undefined);
      const abort = new AbortController();
      const sent = thread.send(instance("ins_5", receiver.url("/hang")), abort.signal);
      await receiver.waitFor(1, "/hang");
      abort.abort(new Error("shutting down"));
      await expect(sent).rejects.toThrow("shutting down");
    } finally {
      await thread.close();
    }
  });

  it("takes one signal over many attempts in flight without Node's listener-leak warning, and its abort ends every one of them", async () => {
    const thread = createWebhookThread(data(["127.0.0.0/8"]), { logger });
    try {
      await withWarnings(async (warnings) => {
        receiver.respond("/hang-many", () => undefined);
        receiver.respond("/ok", () => ({ status: 200 }));
        const abort = new AbortController();
        // One that finishes first leaves the others still watched.
        expect((await thread.send(instance("ins_20", receiver.url("/ok")), abort.signal)).response?.status).toBe(200);
        const sent = Array.from({ length: 20 }, (_, i) => thread.send(instance(`ins_${30 + i}`, receiver.url("/hang-many")), abort.signal));
        await receiver.waitFor(config.concurrency, "/hang-many");
        await new Promise((r) => setImmediate(r));
        expect(warnings).not.toContain("MaxListenersExceededWarning");
        abort.abort(new Error("shutting down"));
        const outcomes = await Promise.allSettled(sent);
        expect(outcomes.map((o) => (o.status === "rejected" ? String(o.reason) : "fulfilled"))).toEqual(Array(20).fill("Error: shutting down"));
      });
    } finally {
      await thread.close();
    }
  });

  it("ends the attempts of a thread that dies as temporary failures, and starts a new thread", async () => {
    const entry = new URL("../../test/helpers/crashing-thread.mjs", import.meta.url);
    const thread = createWebhookThread(data(["127.0.0.0/8"]), { logger, entry });
    try {
      const first = await thread.send(instance("ins_6", receiver.url("/ok")), new AbortController().signal);
      expect(first).toMatchObject({ outcome: { kind: "temporary", message: "webhook thread stopped (exit code 3)" }, sent: false });
      // The new thread takes the next attempt (and, being the same stand-in, dies on it too).
      const second = await thread.send(instance("ins_7", receiver.url("/ok")), new AbortController().signal);
      expect(second.outcome.kind).toBe("temporary");
    } finally {
      await thread.close();
    }
  });
});
