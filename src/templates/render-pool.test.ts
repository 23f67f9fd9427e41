import { afterEach, expect, it } from "vitest";
import { createLogger } from "../logger.js";
import { createRenderPool, type RenderPool, TOO_LONG, TooManyRendersError } from "./render-pool.js";
import { TemplateError } from "./templates.js";

/** Runs until Liquid's own render limit stops it. */
const RUNAWAY = "{% for i in (1..3000) %}{% for j in (1..3000) %}{% endfor %}{% endfor %}x";
const logger = createLogger("silent");
const message = (source: string, context: Record<string, unknown> = {}) => ({ source, context, kind: "message" as const });

let pool: RenderPool | undefined;
afterEach(async () => {
  await pool?.close();
  pool = undefined;
});

it("a render still running at its deadline is stopped, and the pool goes on rendering", async () => {
  pool = createRenderPool({ logger, deadlineMs: 100 });
  await pool.render("acc_a", message("warm")); // the thread is started and loaded
  const started = Date.now();
  await expect(pool.render("acc_a", message(RUNAWAY))).rejects.toEqual(new TemplateError(TOO_LONG));
  // Well before Liquid's own 500 ms limit would have ended it: stopped from outside.
  expect(Date.now() - started).toBeLessThan(400);
  expect(await pool.render("acc_b", message("Hi {{ name }}", { name: "Jo" }))).toBe("Hi Jo");
});

it("renders take turns by owner: one owner's backlog waits behind itself", async () => {
  pool = createRenderPool({ logger, threads: 1 });
  const order: string[] = [];
  const renders = ["a1", "a2", "a3"].map((n) => pool?.render("acc_a", message(n)).then((out) => order.push(out)));
  renders.push(pool.render("acc_b", message("b1")).then((out) => order.push(out)));
  await Promise.all(renders);
  expect(order).toEqual(["a1", "b1", "a2", "a3"]);
});

it("an owner with maxPending renders in progress is refused with a 429; other owners are not", async () => {
  pool = createRenderPool({ logger });
  const first = [pool.render("acc_a", message("1"), { maxPending: 2 }), pool.render("acc_a", message("2"), { maxPending: 2 })];
  await expect(pool.render("acc_a", message("3"), { maxPending: 2 })).rejects.toEqual(new TooManyRendersError(2));
  expect(await pool.render("acc_b", message("b"), { maxPending: 2 })).toBe("b");
  expect(await Promise.all(first)).toEqual(["1", "2"]);
  // Finished renders no longer count.
  expect(await pool.render("acc_a", message("4"), { maxPending: 2 })).toBe("4");
});

it("a template's own problems come back as TemplateErrors saying what is wrong", async () => {
  pool = createRenderPool({ logger });
  const notJson = pool.render("acc_a", { source: '{"a": {{ x }}', context: {}, kind: "json" });
  await expect(notJson).rejects.toBeInstanceOf(TemplateError);
  await expect(notJson).rejects.toThrow(/^the rendered body is not valid JSON/);
  await expect(pool.render("acc_a", message(RUNAWAY))).rejects.toThrow(/render limit exceeded/);
});

it("a thread that cannot start fails the renders waiting for it, instead of being restarted forever", async () => {
  pool = createRenderPool({ logger, entry: new URL("./no-such-entry.mjs", import.meta.url) });
  await expect(pool.render("acc_a", message("1"))).rejects.toThrow(/the template render thread could not start/);
  // A later render tries a new thread again.
  await expect(pool.render("acc_a", message("2"))).rejects.toThrow(/could not start/);
});
