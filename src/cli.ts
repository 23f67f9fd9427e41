#!/usr/bin/env node
/** The `hookline` command: serve, and account administration. */
import { Command } from "commander";
import { countAccounts, createAccount } from "./accounts/accounts.js";
import { createLoginToken } from "./accounts/sessions.js";
import { ConfigError, ENV_VARS, type Env, type EnvName, loadConfig } from "./config.js";
import { openStore } from "./db/connect.js";
import type { Db } from "./db/schema.js";
import { tuneHeapGrowth } from "./heap.js";
import { newId } from "./ids.js";
import { createLogger } from "./logger.js";
import { VERSION } from "./version.js";

const envHelp = `\nEnvironment variables (flags, where given, take precedence):\n${Object.entries(ENV_VARS)
  .map(([name, v]) => `  ${name.padEnd(30)} ${v.help}${v.default ? ` (default: ${v.default})` : ""}`)
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
    // First run: an empty database gets a default account, and its key is shown this once.
    const address = hookline.app.server.address();
    const port = typeof address === "object" && address ? address.port : config.port;
    // Not in a worker: it has no API to use the key with.
    if (config.role !== "worker" && (await countAccounts(db)) === 0) {
      const created = await createAccount(db, { newId, now: Date.now }, "default");
      const link = await loginLink(db, created.account_id, config.publicUrl ?? `http://localhost:${port}`);
      process.stdout.write(
        `\nHookline created a default account on first start.\n  account_id: ${created.account_id}\n  api_key:    ${created.api_key}\n  web UI:     ${link}\nThe key is shown only now; keep it. The sign-in link works once, for 15 minutes;\nanother: hookline login-link ${created.account_id}. More accounts: hookline accounts create <name>\n\n`,
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

const accounts = program.command("accounts").description("manage accounts (tenants) and their API keys");
storeOptions(accounts.command("create").description("create an account and print its API key (shown once)").argument("<name>", "account name"))
  .option("--json", 'print {"account_id", "api_key"} as JSON')
  .action(async (name: string, flags: { json?: boolean; databaseUrl?: string; dataDir?: string }) => {
    const config = configFrom(flags);
    const store = await openStore(config.databaseUrl);
    try {
      const created = await createAccount(store.db, { newId, now: Date.now }, name);
      process.stdout.write(flags.json ? `${JSON.stringify(created)}\n` : `account_id: ${created.account_id}\napi_key:    ${created.api_key}\n`);
    } finally {
      await store.close();
    }
  });

storeOptions(
  program
    .command("login-link")
    .description("print a one-time URL that signs a browser in to the account's web UI (valid for 15 minutes)")
    .argument("<account_id>", "the account to sign in to")
    .option("-p, --port <port>", "the port serve listens on, for the link (overrides HOOKLINE_PORT; HOOKLINE_PUBLIC_URL wins)"),
).action(async (accountId: string, flags: { port?: string; databaseUrl?: string; dataDir?: string }) => {
  const config = configFrom(flags);
  const store = await openStore(config.databaseUrl);
  try {
    const account = await store.db.selectFrom("accounts").select("id").where("id", "=", accountId).executeTakeFirst();
    if (!account) throw new ConfigError(`no account ${JSON.stringify(accountId)}`);
    process.stdout.write(`${await loginLink(store.db, accountId, config.publicUrl ?? `http://localhost:${config.port}`)}\n`);
  } finally {
    await store.close();
  }
});

program.parseAsync().catch((error: unknown) => {
  process.stderr.write(`hookline: ${error instanceof ConfigError ? error.message : ((error as Error).stack ?? String(error))}\n`);
  process.exit(error instanceof ConfigError ? 2 : 1);
});
