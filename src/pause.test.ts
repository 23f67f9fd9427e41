import { expect, it } from "vitest";
import { pause } from "./pause.js";

it("ends early when aborted, and leaves no abort listener behind after many pauses", async () => {
  const controller = new AbortController();
  let added = 0;
  let removed = 0;
  const add = controller.signal.addEventListener.bind(controller.signal);
  const remove = controller.signal.removeEventListener.bind(controller.signal);
  controller.signal.addEventListener = ((...args: Parameters<typeof add>) => {
    added++;
    add(...args);
  }) as typeof add;
  controller.signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
    removed++;
    remove(...args);
  }) as typeof remove;
  for (let i = 0; i < 20; i++) await pause(1, controller.signal);
  expect(added - removed).toBe(0);
  const started = Date.now();
  setTimeout(() => controller.abort(), 20);
  await pause(10_000, controller.signal);
  expect(Date.now() - started).toBeLessThan(2_000);
});
