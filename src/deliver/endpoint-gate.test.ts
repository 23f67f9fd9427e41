import { describe, expect, it } from "vitest";
import { withWarnings } from "../../test/helpers/warnings.js";
import { createEndpointGate } from "./endpoint-gate.js";

/** A task that runs until released, noting when it started. */
function tasks(log: string[]) {
  const open = new Map<string, () => void>();
  return {
    task: (name: string) => () => {
      log.push(name);
      return new Promise<string>((resolve) => open.set(name, () => resolve(name)));
    },
    finish(name: string) {
      open.get(name)?.();
      open.delete(name);
    },
  };
}

/** A task's keys: its endpoint, and its account (one account unless named). */
const at = (endpoint: string, account = "acc") => ({ endpoint, account });
const tick = () => new Promise((r) => setImmediate(r));
const never = new AbortController().signal;

describe("the endpoint gate", () => {
  it("runs up to the limit per endpoint at once, and the rest in order as slots free", async () => {
    const log: string[] = [];
    const t = tasks(log);
    const gate = createEndpointGate({ perEndpoint: 2, perAccount: 100, all: 10 });
    const results = ["a1", "a2", "a3", "a4"].map((n) => gate.run(at("a"), t.task(n), never));
    expect(log).toEqual(["a1", "a2"]);
    expect(gate.inFlight()).toBe(2);
    t.finish("a2");
    await tick();
    expect(log).toEqual(["a1", "a2", "a3"]);
    t.finish("a1");
    t.finish("a3");
    await tick();
    t.finish("a4");
    expect(await Promise.all(results)).toEqual(["a1", "a2", "a3", "a4"]);
    expect(gate.inFlight()).toBe(0);
  });

  it("starts another endpoint's work past a full endpoint's queue", async () => {
    const log: string[] = [];
    const t = tasks(log);
    const gate = createEndpointGate({ perEndpoint: 1, perAccount: 100, all: 2 });
    void gate.run(at("slow"), t.task("s1"), never);
    void gate.run(at("slow"), t.task("s2"), never);
    void gate.run(at("fast"), t.task("f1"), never);
    void gate.run(at("fast"), t.task("f2"), never);
    expect(log).toEqual(["s1", "f1"]);
    t.finish("f1");
    await tick();
    // s2 came first, but its endpoint is still full: f2 takes the freed slot.
    expect(log).toEqual(["s1", "f1", "f2"]);
  });

  it("holds an account to its limit across its endpoints, and starts another account's work past its queue", async () => {
    const log: string[] = [];
    const t = tasks(log);
    const gate = createEndpointGate({ perEndpoint: 2, perAccount: 3, all: 10 });
    for (const n of ["a1", "a2", "b1", "b2", "c1"]) void gate.run(at(n[0] as string, "noisy"), t.task(n), never);
    void gate.run(at("d", "quiet"), t.task("d1"), never);
    // The noisy account's fourth and fifth wait though their endpoints have room; the quiet one's goes.
    expect(log).toEqual(["a1", "a2", "b1", "d1"]);
    expect(gate.inFlight()).toBe(4);
    t.finish("a1");
    await tick();
    expect(log).toEqual(["a1", "a2", "b1", "d1", "b2"]);
  });

  it("holds the limit in all, and gives a freed slot to the oldest waiter that fits", async () => {
    const log: string[] = [];
    const t = tasks(log);
    const gate = createEndpointGate({ perEndpoint: 5, perAccount: 100, all: 2 });
    for (const n of ["a1", "b1", "c1", "a2"]) void gate.run(at(n[0] as string), t.task(n), never);
    expect(log).toEqual(["a1", "b1"]);
    t.finish("b1");
    await tick();
    expect(log).toEqual(["a1", "b1", "c1"]);
    expect(gate.inFlight()).toBe(2);
  });

  it("never runs a waiting task whose signal aborts, and rejects it with the signal's reason", async () => {
    const log: string[] = [];
    const t = tasks(log);
    const gate = createEndpointGate({ perEndpoint: 1, perAccount: 100, all: 10 });
    const stop = new AbortController();
    void gate.run(at("a"), t.task("a1"), stop.signal);
    const waiting = gate.run(at("a"), t.task("a2"), stop.signal);
    const later = gate.run(at("a"), t.task("a3"), never);
    stop.abort(new Error("shutting down"));
    await expect(waiting).rejects.toThrow("shutting down");
    t.finish("a1");
    await tick();
    expect(log).toEqual(["a1", "a3"]);
    t.finish("a3");
    expect(await later).toBe("a3");
  });

  it("keeps any number of tasks waiting under one signal without Node's listener-leak warning, and drops them all when it aborts", async () => {
    const log: string[] = [];
    const t = tasks(log);
    const gate = createEndpointGate({ perEndpoint: 1, perAccount: 100, all: 10 });
    await withWarnings(async (warnings) => {
      const stop = new AbortController();
      void gate.run(at("a"), t.task("a0"), stop.signal);
      const waiting = Array.from({ length: 20 }, (_, i) => gate.run(at("a"), t.task(`a${i + 1}`), stop.signal));
      // One that starts (a slot freed) leaves the rest still waiting, and still dropped on abort.
      t.finish("a0");
      await tick();
      await new Promise((r) => setImmediate(r));
      expect(warnings).not.toContain("MaxListenersExceededWarning");
      stop.abort(new Error("shutting down"));
      const outcomes = await Promise.allSettled(waiting.slice(1));
      expect(outcomes.every((o) => o.status === "rejected" && String(o.reason) === "Error: shutting down")).toBe(true);
      expect(log).toEqual(["a0", "a1"]);
    });
  });

  it("frees the slot of a task that throws", async () => {
    const gate = createEndpointGate({ perEndpoint: 1, perAccount: 100, all: 1 });
    await expect(
      gate.run(
        at("a"),
        () => {
          throw new Error("broken");
        },
        never,
      ),
    ).rejects.toThrow("broken");
    expect(gate.inFlight()).toBe(0);
    expect(await gate.run(at("a"), async () => "ok", never)).toBe("ok");
  });
});
