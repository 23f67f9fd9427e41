/**
 * scripts/ensure-postgres.sh runs before every `npm test` and every benchmark with PostgreSQL: with its
 * cluster already up it must reuse it quietly. Its readiness probe once connected as the calling
 * user (root here), and the server logged `FATAL: role "root" does not exist` on every run.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { TEST_POSTGRES_DIR } from "./helpers/test-postgres.js";

const run = promisify(execFile);
const dir = TEST_POSTGRES_DIR;

it("run again while its cluster is up, the script reuses the cluster and the server logs no error", async () => {
  const url = fs.readFileSync(path.join(dir, "url"), "utf8").trim();
  const log = path.join(dir, "server.log");
  const given = process.env.HOOKLINE_TEST_POSTGRES_URL;
  const before = given ? 0 : fs.statSync(log).size;

  await run("bash", ["scripts/ensure-postgres.sh"]);

  expect(fs.readFileSync(path.join(dir, "url"), "utf8").trim()).toBe(url);
  // A server named by HOOKLINE_TEST_POSTGRES_URL is someone else's: its log is not ours to read.
  if (given) return;
  // The server writes its log line a moment after it refuses a connection.
  await new Promise((r) => setTimeout(r, 300));
  // Only what the probe causes: tests running beside this one share the server and its log.
  const added = fs.readFileSync(log, "utf8").slice(before);
  expect(added).not.toMatch(/FATAL: +role ".*" does not exist/);
});
