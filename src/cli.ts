#!/usr/bin/env node
/** The `hookline` command: serve, and account administration. */
import { Command } from "commander";
import { countAccounts, createAccount, createApiKey, findAccount, KEY_CACHE_TTL_MS, listAccounts, listApiKeys, revokeApiKey } from "./accounts/accounts.js";
import { createLoginToken } from "./accounts/sessions.js";
import { type Config, ConfigError, ENV_VARS, type Env, type EnvName, loadConfig } from "./config.js";
import type { Db } from "./db/schema.js";
import { tuneHeapGrowth } from "./heap.js";
import { newId } from "./ids.js";
import { createLogger } from "./logger.js";
import { openConfiguredStore, StartupError } from "./startup.js";
import { VERSION } from "./version.js";

const envHelp = `\nEnvironment variables (flags, where given, take precedence):\n${Object.entries(ENV_VARS)
  .map(([name, v]) => `  ${name.padEnd(30)} ${v.help.replaceAll("`", "")}${v.default ? ` (default: ${v.default})` : ""}`)
  .join("\n")}\n`;

type Flags = { port?: string; databaseUrl?: string; dataDir?: string; role?: string };

/** Each flag and the variable it overrides. */
const FLAG_VARS: [keyof Flags, string, EnvName][] = [
  ["role", "--role", "HOOKLINE_ROLE"],
  ["port", "--port", "HOOKLINE_PORT"],
  ["databaseUrl", "--database-url", "HOOKLINE_DATABASE_URL"],
  ["dataDir", "--data-dir", "HOOKLINE_DATA_DIR"],
];

function configFrom(flags: Flags) {
  const env: Env = { ...(process.env as Env) };
  const given = FLAG_VARS.filter(([key]) => flags[key] !== undefined);
  for (const [key, , name] of given) env[name] = flags[key];
  try {
    return loadConfig(env);
  } catch (error) {
    // A bad value given as a flag is named as the flag the user typed, not as its variable.
    const refused = error instanceof ConfigError ? error.refused : undefined;
    const flag = refused && given.find(([, , name]) => name === refused.variable);
    if (refused && flag) throw new ConfigError(`${flag[1]} ${refused.shown}: ${refused.problem}`);
    throw error;
  }
}

async function loginLink(db: Db, accountId: string, base: string): Promise<string> {
  return `${base}/ui/login?token=${await createLoginToken(db, accountId, Date.now())}`;
}

const program = new Command()
  .name("hookline")
  .description("Self-hostable webhook trigger/action engine for appointment and scheduling platforms")
  .version(VERSION)
  .addHelpText("after", envHelp);

const storeOptions = (cmd: Command) =>
  cmd
    .option("--database-url <url>", "database: sqlite:<path> (overrides HOOKLINE_DATABASE_URL)")
    .option("--data-dir <dir>", "folder for the embedded database (overrides HOOKLINE_DATA_DIR)");

storeOptions(
  program
    .command("serve")
    .description("run the API and the delivery worker (embedded SQLite by default)")
    .option("-p, --port <port>", "HTTP port (overrides HOOKLINE_PORT)")
    .option("--role <role>", "all | api | worker: split the API and delivery over several processes on one PostgreSQL (overrides HOOKLINE_ROLE)"),
)
  .addHelpText("after", envHelp)
  .action(async (flags: Flags) => {
    tuneHeapGrowth();
    const config = configFrom(flags);
    const logger = createLogger(config.logLevel);
    // Loaded here, not at the top: the other commands need none of the server (its HTTP stack,
    // worker and templates take most of a second to load), and run in a fraction of the time.
    const { startHookline } = await import("./server.js");
    const hookline = await startHookline(config, { logger });
    const { db } = hookline.store;
    // First run: an empty database gets a default account, and its key is shown this once, on
    // stderr: stdout is the JSON log, which is often shipped to a log store the key must not reach.
    const address = hookline.app.server.address();
    const port = typeof address === "object" && address ? address.port : config.port;
    // Not in a worker: it has no API to use the key with.
    if (config.role !== "worker" && (await countAccounts(db)) === 0) {
      const created = await createAccount(db, { newId, now: Date.now }, "default");
      const link = await loginLink(db, created.account_id, config.publicUrl ?? `http://localhost:${port}`);
      // The commands it suggests reach this server's store, and link to its port.
      const store = flags.dataDir ? ` --data-dir ${flags.dataDir}` : "";
      const linkPort = config.publicUrl ? "" : ` --port ${port}`;
      process.stderr.write(
        `\nHookline created a default account on first start.\n  account_id: ${created.account_id}\n  api_key:    ${created.api_key}\n  web UI:     ${link}\nThe key is shown only now; keep it. The sign-in link works once, for 15 minutes;\nanother: npx hookline login-link ${created.account_id}${linkPort}${store}\nMore accounts: npx hookline accounts create <name>${store}\n\n`,
      );
    }
    logger.info(
      { port, role: config.role, database: config.databaseUrl.startsWith("sqlite:") ? config.databaseUrl : "postgres" },
      `Hookline ${VERSION} listening on http://localhost:${port}`,
    );
    const shutdown = (signal: string) => {
      logger.info({ signal }, "shutting down");
      hookline.stop().then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error({ err }, "shutdown failed");
          process.exit(1);
        },
      );
    };
    process.once("SIGTERM", () => shutdown("SIGTERM"));
    process.once("SIGINT", () => shutdown("SIGINT"));
  });

/** Runs `work` on the store the flags and environment name, and closes it whatever happens. */
async function withStore<T>(flags: Flags, work: (db: Db, config: Config) => Promise<T>): Promise<T> {
  const config = configFrom(flags);
  const store = await openConfiguredStore(config);
  try {
    return await work(store.db, config);
  } finally {
    await store.close();
  }
}

async function requireAccount(db: Db, accountId: string): Promise<void> {
  if (!(await findAccount(db, accountId))) throw new ConfigError(`no account ${JSON.stringify(accountId)}; hookline accounts list shows them`);
}

/** `--json`: the value as one line of JSON; otherwise `text`, for a person. */
const print = (json: boolean | undefined, value: unknown, text: string) => process.stdout.write(json ? `${JSON.stringify(value)}\n` : text);

/** Rows as aligned columns under a header line. */
function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) =>
    r
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return `${[header, ...rows].map(line).join("\n")}\n`;
}

type JsonFlags = Flags & { json?: boolean };

const accounts = program.command("accounts").description("manage accounts (tenants) and their API keys");
storeOptions(accounts.command("create").description("create an account and print its API key (shown once)").argument("<name>", "account name"))
  .option("--json", 'print {"account_id", "api_key"} as JSON')
  .action((name: string, flags: JsonFlags) =>
    withStore(flags, async (db) => {
      const created = await createAccount(db, { newId, now: Date.now }, name);
      print(flags.json, created, `account_id: ${created.account_id}\napi_key:    ${created.api_key}\n`);
    }),
  );

storeOptions(accounts.command("list").description("list the accounts, with how many API keys each has"))
  .option("--json", "print them as a JSON array")
  .action((flags: JsonFlags) =>
    withStore(flags, async (db) => {
      const all = await listAccounts(db);
      print(
        flags.json,
        all,
        table(
          ["ACCOUNT", "NAME", "KEYS", "CREATED"],
          all.map((a) => [a.id, a.name, String(a.keys), a.created_at]),
        ),
      );
    }),
  );

storeOptions(accounts.command("keys").description("list an account's API keys (their first characters; a key itself is shown only at its creation)"))
  .argument("<account_id>", "the account")
  .option("--json", "print them as a JSON array")
  .action((accountId: string, flags: JsonFlags) =>
    withStore(flags, async (db) => {
      await requireAccount(db, accountId);
      const keys = await listApiKeys(db, accountId);
      print(
        flags.json,
        keys,
        table(
          ["KEY", "STARTS WITH", "CREATED"],
          keys.map((k) => [k.id, `${k.prefix}…`, k.created_at]),
        ),
      );
    }),
  );

storeOptions(
  accounts
    .command("add-key")
    .description("create another API key for an account and print it (shown once): to rotate a key, add one, move the clients, revoke the old"),
)
  .argument("<account_id>", "the account")
  .option("--json", 'print {"account_id", "key_id", "api_key"} as JSON')
  .action((accountId: string, flags: JsonFlags) =>
    withStore(flags, async (db) => {
      await requireAccount(db, accountId);
      const { key_id, api_key } = await createApiKey(db, { newId, now: Date.now }, accountId);
      print(flags.json, { account_id: accountId, key_id, api_key }, `key_id:  ${key_id}\napi_key: ${api_key}\n`);
    }),
  );

storeOptions(
  accounts
    .command("revoke-key")
    .description(`delete an API key: running servers refuse it within ${KEY_CACHE_TTL_MS / 1000} seconds (they cache a key's account that long)`)
    .argument("<key_id>", "the key, as accounts keys lists it"),
).action((keyId: string, flags: Flags) =>
  withStore(flags, async (db) => {
    const revoked = await revokeApiKey(db, keyId);
    if (!revoked) throw new ConfigError(`no API key ${JSON.stringify(keyId)}; hookline accounts keys <account_id> lists an account's keys`);
    const left = (await listApiKeys(db, revoked.account_id)).length;
    process.stdout.write(
      `revoked ${revoked.id} (${revoked.prefix}…) of ${revoked.account_id}; ${left === 0 ? "the account has no API key left (hookline accounts add-key gives it one)" : `${left} key${left === 1 ? "" : "s"} left`}\n`,
    );
  }),
);

storeOptions(
  program
    .command("login-link")
    .description("print a one-time URL that signs a browser in to the account's web UI (valid for 15 minutes)")
    .argument("<account_id>", "the account to sign in to")
    .option("-p, --port <port>", "the port serve listens on, for the link (overrides HOOKLINE_PORT; HOOKLINE_PUBLIC_URL wins)"),
).action((accountId: string, flags: Flags) =>
  withStore(flags, async (db, config) => {
    await requireAccount(db, accountId);
    process.stdout.write(`${await loginLink(db, accountId, config.publicUrl ?? `http://localhost:${config.port}`)}\n`);
  }),
);

/** A setting as the operator can change it: its flag, where it has one, and its variable. */
function settingNames(variable: EnvName): string {
  const flag = FLAG_VARS.find(([, , name]) => name === variable)?.[1];
  return flag ? `${flag} or ${variable}` : variable;
}

/** What the operator can fix is one line naming the setting; anything else is a bug, with its stack. */
function explain(error: unknown): string {
  if (error instanceof ConfigError) return error.message;
  if (error instanceof StartupError) return `${error.message}: ${error.remedy} with ${settingNames(error.setting)}`;
  return (error as Error).stack ?? String(error);
}

program.parseAsync().catch((error: unknown) => {
  process.stderr.write(`hookline: ${explain(error)}\n`);
  process.exit(error instanceof ConfigError ? 2 : 1);
});
