import pino from "pino";
import { describe, expect, it } from "vitest";
import type { AttemptRecord } from "../attempts/attempts.js";
import { createHeldRecords } from "./recorder.js";

const record = {} as AttemptRecord;
const away = () => Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
const logger = pino({ level: "silent" });

describe("held records", () => {
  it("a record the database does not take at first is written once it answers again", async () => {
    let calls = 0;
    const records = createHeldRecords({
      recorder: async () => {
        if (++calls < 3) throw away();
        return true;
      },
      logger,
      stop: new AbortController().signal,
    });
    expect(await records.write(record, { instance: "ins_1" })).toBe(true);
    expect(calls).toBe(3);
    records.stop();
  });

  it("another query answering after the outage sends a waiting record at once, not after its back-off", async () => {
    let calls = 0;
    let t = 0;
    const records = createHeldRecords({
      recorder: async () => {
        if (++calls === 1) throw away();
        return true;
      },
      logger,
      stop: new AbortController().signal,
      now: () => t,
    });
    const written = records.write(record, { instance: "ins_1" });
    await new Promise((r) => setImmediate(r));
    t = 10;
    const started = Date.now();
    records.answered(5);
    expect(await written).toBe(true);
    expect(Date.now() - started).toBeLessThan(200);
    records.stop();
  });

  it("a record still failing when shutdown gives up is left (false), its lease to run out", async () => {
    const stop = new AbortController();
    stop.abort();
    const records = createHeldRecords({ recorder: () => Promise.reject(away()), logger, stop: stop.signal });
    expect(await records.write(record, { instance: "ins_1" })).toBe(false);
    records.stop();
  });
});
