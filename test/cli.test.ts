/** The `hookline` command as a newcomer and an operator use it. */
import fs from "node:fs";
import net, { type AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { HooklineClient } from "../src/client/index.js";
import { ENV_VARS } from "../src/config.js";
import { tempDir } from "./helpers/hookline.js";
import { runCli, startServer } from "./helpers/process.js";

const dirs: string[] = [];
const freshDir = () => {
  const dir = tempDir();
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** Runs a command expected to fail at start: it must say why in one line, without a stack. */
async function failedStart(args: string[], env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  const error = (await runCli(args, env).then(
    () => expect.unreachable(`hookline ${args.join(" ")} started`),
    (e: unknown) => e,
  )) as { code: number; stderr: string };
  expect(error.code).not.toBe(0);
  expect(error.stderr).toMatch(/^[^\n]+\n$/);
  expect(error.stderr).not.toMatch(/^\s+at /m);
  return error;
}

/** A folder that cannot be made, even by root: its parent is a regular file. */
function uncreatableDir(): string {
  const file = path.join(freshDir(), "a-file");
  fs.writeFileSync(file, "");
  return path.join(file, "data");
}

describe("hookline CLI", () => {
  it("`accounts create <name> --json` prints {account_id, api_key}, and the key works", async () => {
    const dataDir = freshDir();
    const { stdout } = await runCli(["accounts", "create", "Clinic", "--json"], { HOOKLINE_DATA_DIR: dataDir });
    const created = JSON.parse(stdout) as { account_id: string; api_key: string };
    expect(Object.keys(created)).toEqual(["account_id", "api_key"]);
    expect(created.account_id).toMatch(/^acc_/);
    const server = await startServer({ HOOKLINE_DATA_DIR: dataDir });
    try {
      const client = new HooklineClient({ baseUrl: `http://127.0.0.1:${server.port}`, apiKey: created.api_key });
      expect((await client.listTriggers()).data).toEqual([]);
      // Keys are stored hashed: the database file never contains the key itself.
      expect(fs.readFileSync(`${dataDir}/hookline.db`).includes(created.api_key)).toBe(false);
    } finally {
      server.child.kill("SIGTERM");
      await server.exited;
    }
  });

  it("`serve` on an empty database creates a default account and prints its key once, on stderr, never in the JSON log on stdout", async () => {
    const dataDir = freshDir();
    const first = await startServer({ HOOKLINE_DATA_DIR: dataDir });
    await new Promise((r) => setTimeout(r, 200));
    first.child.kill("SIGTERM");
    expect(await first.exited).toBe(0);
    const key = /api_key:\s+(hl_\S+)/.exec(first.output())?.[1];
    expect(key).toBeDefined();
    expect(first.output()).toMatch(/web UI:\s+http:\/\/localhost:\d+\/ui\/login\?token=[\w-]+/);
    // The command it suggests for another link gives one to this server's port, not the default's.
    expect(first.output()).toMatch(new RegExp(`another: npx hookline login-link acc_\\w+ --port ${first.port}\\n`));
    expect(first.stdout()).toMatch(/"msg":"Hookline .* listening/);
    expect(first.stdout()).not.toContain(key);
    expect(first.stdout()).not.toMatch(/api_key|login\?token/);

    const second = await startServer({ HOOKLINE_DATA_DIR: dataDir });
    try {
      await new Promise((r) => setTimeout(r, 200));
      expect(second.output()).not.toMatch(/api_key/);
      const client = new HooklineClient({ baseUrl: `http://127.0.0.1:${second.port}`, apiKey: key as string });
      expect((await client.listTriggers()).data).toEqual([]);
      // The key is shown to the person starting the server, never written into the structured log.
      expect(second.output()).not.toContain(key);
    } finally {
      second.child.kill("SIGTERM");
      await second.exited;
    }
  });

  it("`accounts list`, `keys`, `add-key` and `revoke-key` manage an account's API keys: a revoked key is refused, the others work", async () => {
    const dataDir = freshDir();
    const env = { HOOKLINE_DATA_DIR: dataDir };
    const cli = async <T>(...args: string[]) => JSON.parse((await runCli(args, env)).stdout) as T;
    const first = await cli<{ account_id: string; api_key: string }>("accounts", "create", "Clinic", "--json");
    const added = await cli<{ account_id: string; key_id: string; api_key: string }>("accounts", "add-key", first.account_id, "--json");
    expect(added.account_id).toBe(first.account_id);
    expect(added.api_key).not.toBe(first.api_key);

    const keys = await cli<{ id: string; prefix: string }[]>("accounts", "keys", first.account_id, "--json");
    // Listed by their first characters only: a key itself is shown once, when it is made.
    expect(keys.map((k) => k.prefix)).toEqual([first.api_key.slice(0, 8), added.api_key.slice(0, 8)]);
    expect(JSON.stringify(keys)).not.toContain(first.api_key);
    expect(await cli("accounts", "list", "--json")).toEqual([{ id: first.account_id, name: "Clinic", created_at: expect.any(String), keys: 2 }]);
    expect((await runCli(["accounts", "list"], env)).stdout).toMatch(new RegExp(`^ACCOUNT +NAME +KEYS +CREATED\n${first.account_id} +Clinic +2 +`));

    const firstKeyId = keys[0]?.id as string;
    expect((await runCli(["accounts", "revoke-key", firstKeyId], env)).stdout).toMatch(/revoked key_\w+ \(hl_.{5}…\) of acc_\w+; 1 key left/);
    const server = await startServer(env);
    try {
      const client = (apiKey: string) => new HooklineClient({ baseUrl: `http://127.0.0.1:${server.port}`, apiKey });
      expect(
        await client(first.api_key)
          .listTriggers()
          .catch((e: unknown) => e),
      ).toMatchObject({ status: 401 });
      expect((await client(added.api_key).listTriggers()).data).toEqual([]);
    } finally {
      server.child.kill("SIGTERM");
      await server.exited;
    }
    for (const args of [
      ["accounts", "revoke-key", firstKeyId],
      ["accounts", "keys", "acc_nope"],
      ["accounts", "add-key", "acc_nope"],
    ]) {
      const error = (await runCli(args, env).catch((e: unknown) => e)) as { code: number; stderr: string };
      expect(error.code).toBe(2);
      expect(error.stderr).toMatch(/^hookline: no (API key|account) "\w+"; hookline accounts (keys|list)/);
    }
  });

  it("`--version` prints the version package.json gives (the command run is package.json's `bin`)", async () => {
    const pkg = JSON.parse(fs.readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
    expect((await runCli(["--version"])).stdout.trim()).toBe(pkg.version);
  });

  it("`--help` documents every command and every environment variable", async () => {
    const { stdout } = await runCli(["--help"]);
    for (const command of ["serve", "accounts"]) expect(stdout).toContain(command);
    for (const name of Object.keys(ENV_VARS)) expect(stdout).toContain(name);
    // ENV_VARS' help texts are Markdown for docs/CONFIGURATION.md; the terminal gets them without backticks.
    expect(stdout).toContain("/metrics answers only to Authorization: Bearer <token>");
    expect(stdout).not.toContain("`");
    const serveHelp = (await runCli(["serve", "--help"])).stdout;
    expect(serveHelp).toContain("--port");
  });

  it("`login-link <account_id>` prints a one-time sign-in URL, and refuses an unknown account", async () => {
    const dataDir = freshDir();
    const { stdout } = await runCli(["accounts", "create", "Clinic", "--json"], { HOOKLINE_DATA_DIR: dataDir });
    const { account_id } = JSON.parse(stdout) as { account_id: string };
    const server = await startServer({ HOOKLINE_DATA_DIR: dataDir });
    try {
      const link = (await runCli(["login-link", account_id, "--port", String(server.port)], { HOOKLINE_DATA_DIR: dataDir })).stdout.trim();
      expect(link).toMatch(new RegExp(`^http://localhost:${server.port}/ui/login\\?token=[\\w-]+$`));
      const url = new URL(link.replace("localhost", "127.0.0.1"));
      const signIn = await fetch(url.origin + url.pathname, { method: "POST", body: url.searchParams, redirect: "manual" });
      expect(signIn.status).toBe(303);
      expect(signIn.headers.getSetCookie().some((c) => c.startsWith("hookline_session="))).toBe(true);
    } finally {
      server.child.kill("SIGTERM");
      await server.exited;
    }
    const error = (await runCli(["login-link", "acc_nope"], { HOOKLINE_DATA_DIR: dataDir }).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(error.code).toBe(2);
    expect(error.stderr).toMatch(/no account "acc_nope"/);
  });

  it("refuses a bad configuration value at startup with a clear message and exit code 2", async () => {
    const error = (await runCli(["serve"], { HOOKLINE_RETRY_SCHEDULE: "soon", HOOKLINE_DATA_DIR: freshDir() }).catch((e: unknown) => e)) as {
      code: number;
      stderr: string;
    };
    expect(error.code).toBe(2);
    expect(error.stderr).toMatch(/^hookline: HOOKLINE_RETRY_SCHEDULE="soon": /);
    expect(error.stderr).not.toMatch(/\n\s+at /);
  });

  it("names a bad flag as the flag typed, not as the variable it overrides", async () => {
    const error = (await runCli(["serve", "--port", "abc"], { HOOKLINE_DATA_DIR: freshDir() }).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(error.code).toBe(2);
    // It had said: HOOKLINE_PORT="abc": Invalid input: expected number, received NaN
    expect(error.stderr).toBe('hookline: --port "abc": a port is a whole number from 0 to 65535\n');
  });

  it("a port in use stops `serve` with one line naming --port and HOOKLINE_PORT", async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      const { code, stderr } = await failedStart(["serve", "--port", String(port)], { HOOKLINE_HOST: "127.0.0.1", HOOKLINE_DATA_DIR: freshDir() });
      expect(code).toBe(1);
      // It had printed Node's stack: Error: listen EADDRINUSE … at Server.setupListenHandle …
      expect(stderr).toBe(`hookline: port ${port} is in use: choose another with --port or HOOKLINE_PORT\n`);
    } finally {
      taken.close();
    }
  });

  it("a data folder that cannot be written stops `serve`, `accounts` and `login-link` with one line naming --data-dir and HOOKLINE_DATA_DIR", async () => {
    const dataDir = uncreatableDir();
    const remedy = ": choose another folder with --data-dir or HOOKLINE_DATA_DIR\n";
    // serve writes the secret key first; the other commands only open the database.
    const keyFile = `hookline: the data folder ${dataDir} cannot be written (not a directory)${remedy}`;
    const database = `hookline: the SQLite database ${dataDir}/hookline.db cannot be opened (not a directory)${remedy}`;
    for (const [args, env, expected] of [
      [["serve", "--port", "0"], { HOOKLINE_DATA_DIR: dataDir }, keyFile],
      [["accounts", "list"], { HOOKLINE_DATA_DIR: dataDir }, database],
      [["login-link", "acc_x"], { HOOKLINE_DATA_DIR: dataDir }, database],
      [["accounts", "list", "--data-dir", dataDir], {}, database],
    ] as const) {
      expect((await failedStart([...args], env)).stderr).toBe(expected);
    }
  });

  it("a sqlite: database in a folder that cannot be made stops the start with one line naming --database-url and HOOKLINE_DATABASE_URL", async () => {
    const file = path.join(uncreatableDir(), "hookline.db");
    for (const args of [
      ["serve", "--port", "0"],
      ["accounts", "create", "Clinic"],
    ]) {
      const { stderr } = await failedStart([...args, "--database-url", `sqlite:${file}`], { HOOKLINE_DATA_DIR: freshDir() });
      expect(stderr).toBe(
        `hookline: the SQLite database ${file} cannot be opened (not a directory): choose another path with --database-url or HOOKLINE_DATABASE_URL\n`,
      );
    }
  });

  it("a PostgreSQL that cannot be reached stops every role and the store commands with one line naming --database-url and HOOKLINE_DATABASE_URL", async () => {
    const env = { HOOKLINE_DATABASE_URL: "postgres://hookline:hunter2@127.0.0.1:1/hookline", HOOKLINE_DATA_DIR: freshDir() };
    for (const args of [
      ["serve", "--port", "0"],
      ["serve", "--port", "0", "--role", "api"],
      ["serve", "--port", "0", "--role", "worker"],
      ["accounts", "list"],
      ["login-link", "acc_x"],
    ]) {
      const { stderr } = await failedStart(args, env);
      // The URL's password is not repeated.
      expect(stderr).toBe(
        "hookline: cannot connect to PostgreSQL at 127.0.0.1:1/hookline (connection refused): check the server, or the URL given with --database-url or HOOKLINE_DATABASE_URL\n",
      );
    }
  });
});
