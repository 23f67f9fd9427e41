/**
 * A PostgreSQL cluster of a test's own, for tests that stop and start the server: the shared test
 * server (scripts/ensure-postgres.sh) serves other tests running at the same time. Uses the same
 * Debian binaries; as root, the server runs as the package's postgres user (it refuses root).
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { freePort } from "./hookline.js";

const run = promisify(execFile);

function binDir(): string {
  const versions = fs.existsSync("/usr/lib/postgresql") ? fs.readdirSync("/usr/lib/postgresql").sort((a, b) => Number(b) - Number(a)) : [];
  const bin = versions.map((v) => `/usr/lib/postgresql/${v}/bin`).find((d) => fs.existsSync(path.join(d, "pg_ctl")));
  if (!bin) throw new Error("PostgreSQL binaries not found (scripts/ensure-postgres.sh installs them)");
  return bin;
}

export interface Cluster {
  url: string;
  /** Fast shutdown: open connections are cut, as in a restart or a crash of the server. */
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

export async function startCluster(): Promise<Cluster> {
  const bin = binDir();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hookline-pg-"));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) await run("chown", ["postgres", dir]);
  const as = (cmd: string, args: string[]) => (asRoot ? run("runuser", ["-u", "postgres", "--", cmd, ...args]) : run(cmd, args));
  const data = path.join(dir, "data");
  await as(path.join(bin, "initdb"), ["-D", data, "-U", "hookline", "-A", "trust", "--no-sync"]);
  const port = await freePort();
  const start = () =>
    as(path.join(bin, "pg_ctl"), [
      "-D",
      data,
      "-l",
      path.join(dir, "server.log"),
      "-w",
      "-t",
      "30",
      "-o",
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
      "start",
    ]).then(() => {});
  const stop = () => as(path.join(bin, "pg_ctl"), ["-D", data, "-m", "fast", "-w", "stop"]).then(() => {});
  await start();
  return {
    url: `postgres://hookline@127.0.0.1:${port}/postgres`,
    start,
    stop,
    async destroy() {
      await stop().catch(() => {});
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
