/** The `hookline` command as a newcomer and an operator use it. */
import fs from "node:fs";
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

  it("`serve` on an empty database creates a default account and prints its key once", async () => {
    const dataDir = freshDir();
    const first = await startServer({ HOOKLINE_DATA_DIR: dataDir });
    await new Promise((r) => setTimeout(r, 200));
    first.child.kill("SIGTERM");
    expect(await first.exited).toBe(0);
    const key = /api_key:\s+(hl_\S+)/.exec(first.output())?.[1];
    expect(key).toBeDefined();
    expect(first.output()).toMatch(/web UI:\s+http:\/\/localhost:\d+\/ui\/login\?token=[\w-]+/);

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
      const signIn = await fetch(link.replace("localhost", "127.0.0.1"), { redirect: "manual" });
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

  it("the README documents every environment variable", () => {
    const readme = fs.readFileSync(new URL("../README.md", import.meta.url), "utf8");
    for (const name of Object.keys(ENV_VARS)) expect(readme).toContain(`\`${name}\``);
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
});
