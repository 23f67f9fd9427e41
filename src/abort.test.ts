import { describe, expect, it } from "vitest";
import { withWarnings } from "../test/helpers/warnings.js";
import { Stop, whenAborted } from "./abort.js";

describe("whenAborted", () => {
  it("calls every subscriber still subscribed when the signal aborts, without Node's listener-leak warning", async () => {
    await withWarnings(async (warnings) => {
      const abort = new AbortController();
      const called: number[] = [];
      const offs = Array.from({ length: 20 }, (_, i) => whenAborted(abort.signal, () => called.push(i)));
      offs[3]?.();
      await new Promise((r) => setImmediate(r));
      expect(warnings).not.toContain("MaxListenersExceededWarning");
      abort.abort();
      expect(called).toEqual(Array.from({ length: 20 }, (_, i) => i).filter((i) => i !== 3));
    });
  });

  it("keeps the subscribers of different signals apart", () => {
    const a = new AbortController();
    const b = new AbortController();
    const called: string[] = [];
    whenAborted(a.signal, () => called.push("a"));
    whenAborted(b.signal, () => called.push("b"));
    b.abort();
    expect(called).toEqual(["b"]);
  });
});

describe("Stop", () => {
  it("aborts once: its listeners run once with the reason set, a removed one not at all, and a second abort does nothing", () => {
    const stop = new Stop();
    const heard: unknown[] = [];
    const kept = () => heard.push(stop.reason);
    const removed = () => heard.push("removed");
    stop.addEventListener("abort", kept);
    stop.addEventListener("abort", removed);
    stop.removeEventListener("abort", removed);
    expect(stop.aborted).toBe(false);
    const reason = new Error("shutting down");
    stop.abort(reason);
    stop.abort(new Error("again"));
    expect(stop.aborted).toBe(true);
    expect(heard).toEqual([reason]);
  });

  it("says AbortError when aborted without a reason, as an AbortSignal does", () => {
    const stop = new Stop();
    stop.abort();
    expect(stop.reason).toMatchObject({ name: "AbortError" });
  });

  it("works with whenAborted, as an AbortSignal does", () => {
    const stop = new Stop();
    const called: number[] = [];
    whenAborted(stop, () => called.push(1));
    stop.abort();
    expect(called).toEqual([1]);
  });
});
