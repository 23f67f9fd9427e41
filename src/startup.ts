/**
 * What stops a start after the configuration parsed: a port in use, a data folder that cannot be
 * written, a database that cannot be opened. Each becomes a StartupError naming the setting that
 * changes it, which the CLI prints as one line, as it prints a ConfigError; anything else is a bug
 * and keeps its stack.
 */
import path from "node:path";
import { getSystemErrorMap } from "node:util";
import { type Config, defaultDatabaseUrl, type EnvName } from "./config.js";
import { openStore, type Store } from "./db/connect.js";
import { isDatabaseUnavailable } from "./db/unavailable.js";
import { loadOrCreateKey, SecretKeyError } from "./secrets/cipher.js";

export class StartupError extends Error {
  override name = "StartupError";
  constructor(
    /** The problem, e.g. "port 8080 is in use". */
    problem: string,
    /** The variable that changes it (the CLI adds its flag, where it has one). */
    readonly setting: EnvName,
    /** What to do with that setting, said before "with <setting>": "choose another". */
    readonly remedy: string,
    options?: ErrorOptions,
  ) {
    super(problem, options);
  }
}

/** The store the configuration names; one that cannot be opened or reached is a StartupError. */
export async function openConfiguredStore(config: Config): Promise<Store> {
  try {
    return await openStore(config.databaseUrl, { poolSize: config.databasePool });
  } catch (error) {
    throw storeFailure(error, config) ?? error;
  }
}

/** The key sealing stored secrets; a data folder that cannot hold its file is a StartupError. */
export function loadConfiguredKey(config: Config): Buffer {
  try {
    return loadOrCreateKey(config.secretKey, config.dataDir);
  } catch (error) {
    if (error instanceof SecretKeyError) {
      const file = path.join(config.dataDir, "secret.key");
      throw new StartupError(`${file} does not hold a 32-byte key`, "HOOKLINE_SECRET_KEY", "restore it from a backup, or give the key", { cause: error });
    }
    if (!isSystemError(error)) throw error;
    throw new StartupError(`the data folder ${config.dataDir} cannot be written (${reasonOf(error)})`, "HOOKLINE_DATA_DIR", "choose another folder", {
      cause: error,
    });
  }
}

/**
 * Why a listener could not listen, as a StartupError where a setting changes it; else the error
 * itself. `settings` name the port's and the host's variables (the metrics listener has its own).
 */
export function listenFailure(
  error: unknown,
  { port, host }: { port: number; host: string },
  [portSetting, hostSetting]: readonly [EnvName, EnvName] = ["HOOKLINE_PORT", "HOOKLINE_HOST"],
): unknown {
  switch (error instanceof Error && codeOf(error)) {
    case "EADDRINUSE":
      return new StartupError(`port ${port} is in use`, portSetting, "choose another", { cause: error });
    case "EACCES":
      return new StartupError(`port ${port} is not open to this user (permission denied)`, portSetting, "choose another", { cause: error });
    case "EADDRNOTAVAIL":
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return new StartupError(`${host} is not an address of this machine`, hostSetting, "choose another", { cause: error });
    default:
      return error;
  }
}

function storeFailure(error: unknown, config: Config): StartupError | undefined {
  const cause = innermost(error);
  if (config.databaseUrl.startsWith("sqlite:")) {
    if (!isSystemError(cause) && !codeOf(cause)?.startsWith("SQLITE_")) return undefined;
    const file = path.resolve(config.databaseUrl.slice("sqlite:".length));
    const problem = `the SQLite database ${file} cannot be opened (${reasonOf(cause)})`;
    // The default database lives in the data folder: that is the setting to change.
    return config.databaseUrl === defaultDatabaseUrl(config.dataDir)
      ? new StartupError(problem, "HOOKLINE_DATA_DIR", "choose another folder", { cause: error })
      : new StartupError(problem, "HOOKLINE_DATABASE_URL", "choose another path", { cause: error });
  }
  // Unreachable, or refused: a password that fails (SQLSTATE class 28), a database that does not exist (3D000).
  const refused = /^(28|3D)/.test(codeOf(cause) ?? "");
  if (!isDatabaseUnavailable(error) && !refused) return undefined;
  const { hostname, port, pathname } = new URL(config.databaseUrl);
  return new StartupError(
    `cannot connect to PostgreSQL at ${hostname}:${port || 5432}${pathname} (${reasonOf(cause)})`,
    "HOOKLINE_DATABASE_URL",
    "check the server, or the URL given",
    { cause: error },
  );
}

/** The error at the bottom of a chain of causes (a failed migration wraps the connection's error). */
function innermost(error: unknown): Error {
  let e = error instanceof Error ? error : new Error(String(error));
  while (e.cause instanceof Error) e = e.cause;
  return e;
}

/** An error's code: a system call's (ENOTDIR), SQLite's (SQLITE_CANTOPEN) or PostgreSQL's SQLSTATE. */
function codeOf(error: Error): string | undefined {
  const { code } = error as { code?: unknown };
  return typeof code === "string" ? code : undefined;
}

/** An error from a system call (file, socket), which carries its errno. */
const isSystemError = (error: unknown): error is NodeJS.ErrnoException & { errno: number } =>
  error instanceof Error && typeof (error as NodeJS.ErrnoException).errno === "number";

/** The system's words for a failed call ("connection refused", "not a directory"), else the message. */
function reasonOf(error: Error): string {
  const words = isSystemError(error) ? getSystemErrorMap().get(error.errno)?.[1] : undefined;
  if (words) return words;
  // A connection refused at every address of a host comes as one AggregateError.
  if (error instanceof AggregateError && error.errors[0] instanceof Error) return reasonOf(error.errors[0]);
  return error.message;
}
