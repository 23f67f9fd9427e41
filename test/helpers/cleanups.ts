import { afterEach } from "vitest";

export type OnCleanup = (cleanup: () => Promise<void>) => void;

/**
 * Cleanups a test registers as it goes (stores, databases, servers), run after it, newest first:
 * what was opened last is closed first (a store before its database). Call once at a test file's
 * top level. `ignoreErrors`: a cleanup that fails (a process already gone) does not fail the test.
 */
export function cleanupsAfterEach({ ignoreErrors = false } = {}): OnCleanup {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await (ignoreErrors ? cleanup().catch(() => {}) : cleanup());
  });
  return (cleanup) => void cleanups.push(cleanup);
}
