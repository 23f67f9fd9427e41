import { Writable } from "node:stream";
import Fastify, { type FastifyBaseLogger } from "fastify";
import { expect, it, vi } from "vitest";
import { createLogger } from "../logger.js";
import { lazyRequestLogger } from "./request-logger.js";

function sink() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of chunk.toString().split("\n")) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, stream };
}

it("makes a request's child logger on its first log line, once, with the request's bindings", () => {
  const { lines, stream } = sink();
  const parent = createLogger("info", stream) as unknown as FastifyBaseLogger;
  const child = vi.spyOn(parent, "child");
  const log = lazyRequestLogger(parent, { reqId: "req-7" }, {});
  expect(child).not.toHaveBeenCalled();
  log.warn({ n: 1 }, "first");
  log.error("second");
  expect(child).toHaveBeenCalledTimes(1);
  expect(lines).toMatchObject([
    { reqId: "req-7", n: 1, msg: "first", level: 40 },
    { reqId: "req-7", msg: "second", level: 50 },
  ]);
  expect(log.level).toBe("info");
});

it("serves as Fastify's request logger: a route's log line carries its request id, and secrets stay redacted", async () => {
  const { lines, stream } = sink();
  const app = Fastify({ loggerInstance: createLogger("info", stream) as unknown as FastifyBaseLogger, childLoggerFactory: lazyRequestLogger });
  app.get("/quiet", async () => ({ ok: true }));
  app.get("/loud", async (request) => {
    request.log.info({ secret: "s3cret" }, "handled");
    return { ok: true };
  });
  expect((await app.inject({ url: "/quiet" })).statusCode).toBe(200);
  expect((await app.inject({ url: "/loud" })).statusCode).toBe(200);
  await app.close();
  const handled = lines.filter((l) => l.msg === "handled");
  expect(handled).toHaveLength(1);
  expect(handled[0]).toMatchObject({ reqId: expect.any(String), secret: "[redacted]" });
});
