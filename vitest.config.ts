import fs from "node:fs";
import path from "node:path";
import { configDefaults, defineConfig } from "vitest/config";

/**
 * The integration suite runs once per dialect (as Kysely's own tests do): on the embedded SQLite
 * default, and on PostgreSQL (a private server started by scripts/ensure-postgres.sh, which `npm
 * test` runs first). Tests that are about the SQLite file itself or the `hookline` command on its
 * default store (crash, cli, lifecycle) and the unit tests run once.
 */
const POSTGRES_TESTS = [
  "test/api.test.ts",
  "test/delivery.test.ts",
  "test/messages.test.ts",
  "test/integrations.test.ts",
  "test/isolation-of-endpoints.test.ts",
  "test/logging.test.ts",
  "test/security.test.ts",
  "test/fuzz.test.ts",
  "test/ui.test.ts",
  "test/retention.test.ts",
  "test/leases.test.ts",
  "test/wakeups.test.ts",
];
/** About PostgreSQL itself (several processes on one database, a server restart): the PostgreSQL project only. */
const POSTGRES_ONLY = ["test/scale-out.test.ts"];

const postgresReady = fs.existsSync(path.join(process.env.TMPDIR ?? "/tmp", "hookline-test-postgres", "url"));
if (!postgresReady) console.warn("warning: no PostgreSQL test server (scripts/ensure-postgres.sh); the PostgreSQL project is skipped");

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: ["default", "./test/helpers/summary-reporter.ts"],
    projects: [
      { extends: true, test: { name: "sqlite", include: ["src/**/*.test.ts", "test/**/*.test.ts"], exclude: [...configDefaults.exclude, ...POSTGRES_ONLY] } },
      ...(postgresReady ? [{ extends: true, test: { name: "postgres", include: [...POSTGRES_TESTS, ...POSTGRES_ONLY], env: { HOOKLINE_TEST_DIALECT: "postgres" } } }] : []),
    ],
  },
});
