import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.js";

describe("config", () => {
  it("has working defaults: port 8080, SQLite under ./hookline-data, 5 attempts", () => {
    const config = loadConfig({});
    expect(config.port).toBe(8080);
    expect(config.databaseUrl).toMatch(/^sqlite:.*hookline-data[/\\]hookline\.db$/);
    expect(config.retrySchedule).toEqual([30_000, 120_000, 600_000, 3_600_000]);
    expect(config.maxAttempts).toBe(5);
    expect(config.allowedNetworks).toEqual([]);
  });

  it("is frozen", () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.retrySchedule)).toBe(true);
  });

  it("reads the retry schedule in seconds, fractions allowed", () => {
    const config = loadConfig({ HOOKLINE_RETRY_SCHEDULE: "1, 2.5" });
    expect(config.retrySchedule).toEqual([1000, 2500]);
    expect(config.maxAttempts).toBe(3);
  });

  it("runs everything in one process by default; api and worker roles on PostgreSQL", () => {
    expect(loadConfig({}).role).toBe("all");
    expect(loadConfig({ HOOKLINE_ROLE: "worker", HOOKLINE_DATABASE_URL: "postgres://h@db/hookline" }).role).toBe("worker");
  });

  it("makes webhook requests on a thread of their own unless HOOKLINE_WEBHOOK_THREAD=off", () => {
    expect(loadConfig({}).webhookThread).toBe(true);
    expect(loadConfig({ HOOKLINE_WEBHOOK_THREAD: "off" }).webhookThread).toBe(false);
    expect(() => loadConfig({ HOOKLINE_WEBHOOK_THREAD: "maybe" })).toThrow(/HOOKLINE_WEBHOOK_THREAD="maybe": expected on or off/);
  });

  it("keeps a lease longer than the longest attempt", () => {
    const config = loadConfig({ HOOKLINE_REQUEST_TIMEOUT: "15", HOOKLINE_LEASE_MARGIN: "10" });
    expect(config.leaseMs).toBe(25_000);
  });

  it.each([
    [{ HOOKLINE_PORT: "eighty" }, /HOOKLINE_PORT/],
    [{ HOOKLINE_PORT: "70000" }, /HOOKLINE_PORT="70000": a port is a whole number from 0 to 65535/],
    [{ HOOKLINE_RETRY_SCHEDULE: "30,,60" }, /HOOKLINE_RETRY_SCHEDULE/],
    [{ HOOKLINE_RETRY_SCHEDULE: "1,2,3,4,5" }, /at most 4 delays/],
    [{ HOOKLINE_RETRY_SCHEDULE: "-1" }, /negative/],
    [{ HOOKLINE_ALLOWED_NETWORKS: "localhost" }, /HOOKLINE_ALLOWED_NETWORKS.*not an IP range/],
    [{ HOOKLINE_ALLOWED_NETWORKS: "10.0.0.0/33" }, /prefix/],
    [{ HOOKLINE_DATABASE_URL: "mysql://x" }, /HOOKLINE_DATABASE_URL.*expected sqlite:<path> or postgres/],
    [{ HOOKLINE_LOG_LEVEL: "loud" }, /HOOKLINE_LOG_LEVEL/],
    [{ HOOKLINE_ROLE: "scheduler" }, /HOOKLINE_ROLE.*all, api, worker/],
    [{ HOOKLINE_ROLE: "worker" }, /HOOKLINE_ROLE=worker needs PostgreSQL/],
    [{ HOOKLINE_REQUEST_TIMEOUT: "0" }, /HOOKLINE_REQUEST_TIMEOUT/],
    [{ HOOKLINE_SMTP_URL: "http://mail" }, /HOOKLINE_SMTP_URL: expected a smtp: or smtps: URL/],
    [{ HOOKLINE_TWILIO_BASE_URL: "http://127.0.0.1:1" }, /SMS provider half configured: .*HOOKLINE_TWILIO_ACCOUNT_SID/],
    [{ HOOKLINE_PUBLIC_URL: "hooks.example.com" }, /HOOKLINE_PUBLIC_URL.*not a URL/],
    // Each says what its number counts (these three had said "a number of seconds").
    [{ HOOKLINE_RETRY_JITTER: "some" }, /HOOKLINE_RETRY_JITTER="some": HOOKLINE_RETRY_JITTER must be a fraction from 0 to 1/],
    [{ HOOKLINE_RATE_LIMIT_INGEST: "lots" }, /HOOKLINE_RATE_LIMIT_INGEST="lots": HOOKLINE_RATE_LIMIT_INGEST must be a number per second/],
    [{ HOOKLINE_RETENTION_DAYS: "a month" }, /HOOKLINE_RETENTION_DAYS="a month": HOOKLINE_RETENTION_DAYS must be a number of days/],
  ])("rejects %o with a clear message", (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it("configures providers only when asked, all Twilio settings together", () => {
    expect(loadConfig({}).smtp).toBeUndefined();
    expect(loadConfig({}).twilio).toBeUndefined();
    expect(loadConfig({ HOOKLINE_SMTP_URL: "smtp://127.0.0.1:2525" }).smtp).toEqual({ url: "smtp://127.0.0.1:2525", from: "Hookline <hookline@localhost>" });
    const twilio = {
      HOOKLINE_TWILIO_BASE_URL: "https://api.twilio.com/",
      HOOKLINE_TWILIO_ACCOUNT_SID: "AC1",
      HOOKLINE_TWILIO_AUTH_TOKEN: "t",
      HOOKLINE_TWILIO_FROM: "+15550001111",
    };
    expect(loadConfig(twilio).twilio).toEqual({ baseUrl: "https://api.twilio.com", accountSid: "AC1", authToken: "t", from: "+15550001111" });
  });

  it("parses allowed networks", () => {
    const config = loadConfig({ HOOKLINE_ALLOWED_NETWORKS: "127.0.0.0/8, ::1/128" });
    expect(config.allowedNetworks.map((c) => c.text)).toEqual(["127.0.0.0/8", "::1/128"]);
  });
});
