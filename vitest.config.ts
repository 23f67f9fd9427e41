import fs from "node:fs";
import path from "node:path";
import { configDefaults, defineConfig } from "vitest/config";
import { TEST_POSTGRES_DIR, testPostgresUrl } from "./test/helpers/test-postgres.js";

/**
 * The integration suite runs once per dialect (as Kysely's own tests do): on the embedded SQLite
 * default, and on PostgreSQL (a private server started by scripts/ensure-postgres.sh, which `npm
 * test` runs first). Tests that are about the SQLite file itself or the `hookline` command on its
 * default store (crash, cli, lifecycle) and the unit tests run once.
 */
const POSTGRES_TESTS = [
  "test/api.test.ts",
  "test/conditions.test.ts",
  "test/delivery.test.ts",
  "test/messages.test.ts",
  "test/integrations.test.ts",
  "test/isolation-of-endpoints.test.ts",
  "test/isolation-of-accounts.test.ts",
  "test/logging.test.ts",
  "test/security.test.ts",
  "test/fuzz.test.ts",
  "test/ui.test.ts",
  "test/ui-rules.test.ts",
  "test/retention.test.ts",
  "test/leases.test.ts",
  "test/wakeups.test.ts",
  "test/instance-detail.test.ts",
  "test/prepared.test.ts",
  "test/queue.test.ts",
  "test/per-transaction.test.ts",
  "test/write-behind.test.ts",
  "test/migrations.test.ts",
  "test/http-hardening.test.ts",
  "test/hardening.test.ts",
  "test/scheduling.test.ts",
];
/** About PostgreSQL itself (several processes on one database, a server restart, its named statements): the PostgreSQL project only. */
const POSTGRES_ONLY = ["test/scale-out.test.ts", "test/postgres-statements.test.ts", "test/ensure-postgres.test.ts"];
/**
 * Tests that load the machine themselves (several Hookline processes, kill -9, a browser, a flood of
 * renders measured against a bound) run after the rest, one file at a time: beside the full suite on
 * two cores their timings stretched past their bounds (a browser start over 30 s, a test send
 * answered "pending" after 15 s).
 */
const ALONE = ["test/crash.test.ts", "test/ui.test.ts", "test/ui-rules.test.ts", "test/scale-out.test.ts", "test/template-isolation.test.ts"];

/**
 * Whether the private cluster that wrote the URL still runs: it is started on a new port each time,
 * so after a reboot, or a `pg_ctl stop`, the URL names nothing and every PostgreSQL test would fail
 * with ECONNREFUSED when vitest is run without `npm test` (whose pretest starts the cluster).
 */
function privateClusterUp(): boolean {
  try {
    // postmaster.pid: the server's pid on its first line, its port on the fourth.
    const [pid, , , port] = fs.readFileSync(path.join(TEST_POSTGRES_DIR, "data", "postmaster.pid"), "utf8").split("\n");
    if (port?.trim() !== fs.readFileSync(path.join(TEST_POSTGRES_DIR, "port"), "utf8").trim()) return false;
    process.kill(Number(pid), 0);
    return true;
  } catch (err) {
    // EPERM: alive, run by another user (the cluster runs as postgres when the tests run as root).
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

const hasUrl = testPostgresUrl() !== undefined;
const postgresReady = hasUrl && (process.env.HOOKLINE_TEST_POSTGRES_URL !== undefined || privateClusterUp());
if (!postgresReady) {
  const why = hasUrl ? "the PostgreSQL test server is not running" : "no PostgreSQL test server";
  const fix = "`bash scripts/ensure-postgres.sh` starts it (`npm test` runs it first)";
  if (process.env.CI === "true") throw new Error(`${why}: ${fix}`);
  console.warn(`warning: ${why}; the PostgreSQL project is skipped. ${fix}`);
}

const postgresEnv = { HOOKLINE_TEST_DIALECT: "postgres" };

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: ["default", "./test/helpers/summary-reporter.ts"],
    // The threads, the command and the UI run from dist/: rebuilt first when a source is newer.
    globalSetup: ["./test/helpers/fresh-build.ts"],
    projects: [
      { extends: true, test: { name: "sqlite", include: ["src/**/*.test.ts", "test/**/*.test.ts", "bench/**/*.test.ts"], exclude: [...configDefaults.exclude, ...ALONE, ...POSTGRES_ONLY] } },
      ...(postgresReady ? [{ extends: true, test: { name: "postgres", include: [...POSTGRES_TESTS, ...POSTGRES_ONLY].filter((f) => !ALONE.includes(f)), env: postgresEnv } }] : []),
      { extends: true, test: { name: "sqlite, alone", include: ALONE.filter((f) => !POSTGRES_ONLY.includes(f)), sequence: { groupOrder: 1 }, fileParallelism: false } },
      ...(postgresReady
        ? [{ extends: true, test: { name: "postgres, alone", include: [...POSTGRES_TESTS, ...POSTGRES_ONLY].filter((f) => ALONE.includes(f)), env: postgresEnv, sequence: { groupOrder: 2 }, fileParallelism: false } }]
        : []),
    ],
  },
});
