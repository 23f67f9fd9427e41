import { Writable } from "node:stream";
import { expect, it } from "vitest";
import { createLogger } from "../logger.js";
import { createOutageLog, type OutageLogOptions } from "./outage-log.js";

const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
async function until(check: () => boolean): Promise<void> {
  while (!check()) await wait(5);
}

/** An outage log writing to a list of parsed lines. */
function capture(options: Partial<OutageLogOptions> = {}) {
  const lines: { level: number; msg: string; count?: number; reason?: string; code?: string; err?: unknown }[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  const log = createOutageLog(createLogger("info", sink), { counting: "requests refused", meanwhile: "answering 503 until it is back", ...options });
  return { lines, log };
}

it("an outage is one line as it starts, without a stack, a count per interval while it lasts, and one line as it ends", async () => {
  const { lines, log } = capture({ intervalMs: 100 });
  for (let i = 0; i < 500; i++) log.failed(refused);
  await until(() => lines.length === 2);
  log.failed(refused);
  log.failed(refused);
  await until(() => lines.length === 3);
  // An interval without a failure writes nothing.
  await wait(250);
  expect(lines).toHaveLength(3);
  expect(log.answered(Date.now())).toBe(true);
  log.stop();
  expect(lines.map((l) => l.msg)).toEqual([
    "database unavailable: connect ECONNREFUSED 127.0.0.1:5432; answering 503 until it is back",
    expect.stringMatching(/^database still unavailable: 500 requests refused in the last \d+\.\d s$/),
    expect.stringMatching(/^database still unavailable: 2 requests refused in the last \d+\.\d s$/),
    expect.stringMatching(/^database available again after \d+\.\d s: 502 requests refused in all$/),
  ]);
  expect(lines[0]).toMatchObject({ level: 40, reason: "connect ECONNREFUSED 127.0.0.1:5432", code: "ECONNREFUSED" });
  expect(lines[0]?.err).toBeUndefined();
  expect(lines.at(-1)).toMatchObject({ level: 30, count: 502 });
});

it("an answer to a call made before the last failure does not end the outage", () => {
  const { lines, log } = capture();
  const before = Date.now() - 1;
  log.failed(refused);
  expect(log.answered(before)).toBe(false);
  expect(log.answered(Date.now() + 1)).toBe(true);
  // Nothing to end any more.
  expect(log.answered(Date.now() + 2)).toBe(false);
  expect(lines.map((l) => l.level)).toEqual([40, 30]);
});

it("with a probe, the outage ends when the database answers it, without another failure or success seen", async () => {
  let up = false;
  const { lines, log } = capture({ probeMs: 20, probe: async () => up });
  log.failed(refused);
  await wait(60);
  expect(lines).toHaveLength(1);
  up = true;
  await until(() => lines.length === 2);
  log.stop();
  expect(lines.map((l) => l.msg)).toEqual([
    expect.stringMatching(/^database unavailable/),
    expect.stringMatching(/^database available again after .* 1 requests refused in all$/),
  ]);
});
