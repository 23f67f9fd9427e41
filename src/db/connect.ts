import {
  Kysely,
  type Migration,
  type MigrationProvider,
  Migrator,
  type PostgresCursor,
  PostgresDialect,
  type PostgresPool,
  type PostgresPoolClient,
  type PostgresQueryResult,
  sql,
} from "kysely";
import type { Pool, PoolClient } from "pg";
import * as m001 from "./migrations/001_initial.js";
import * as m002 from "./migrations/002_sessions.js";
import * as m003 from "./migrations/003_failing.js";
import * as m004 from "./migrations/004_lease_token.js";
import * as m005 from "./migrations/005_claim_index.js";
import * as m006 from "./migrations/006_test_instances.js";
import * as m007 from "./migrations/007_previous_secrets.js";
import * as m008 from "./migrations/008_claim_index_accounts.js";
import * as m009 from "./migrations/009_trigger_conditions.js";
import * as m010 from "./migrations/010_stop_list.js";
import * as m011 from "./migrations/011_timing.js";
import { preparedStatementName } from "./prepared.js";
import type { Database, Db } from "./schema.js";
import { type DeferredSync, openSqlite } from "./sqlite.js";

/** Migrations are listed here, not discovered on disk, so the bundle needs no file-system layout. */
const MIGRATIONS: Record<string, Migration> = {
  "001_initial": m001,
  "002_sessions": m002,
  "003_failing": m003,
  "004_lease_token": m004,
  "005_claim_index": m005,
  "006_test_instances": m006,
  "007_previous_secrets": m007,
  "008_claim_index_accounts": m008,
  "009_trigger_conditions": m009,
  "010_stop_list": m010,
  "011_timing": m011,
};

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

export async function migrate(db: Db): Promise<void> {
  const { error, results } = await new Migrator({ db, provider }).migrateToLatest();
  const failed = results?.find((r) => r.status === "Error");
  if (error || failed) {
    throw new Error(`database migration ${failed?.migrationName ?? ""} failed: ${(error as Error)?.message ?? "unknown error"}`, { cause: error });
  }
}

/** Resolves once the database has answered a query; rejects when it cannot (the readiness probe). */
export async function ping(db: Db): Promise<void> {
  await sql`select 1`.execute(db);
}

export type Dialect = "sqlite" | "postgres";

export interface Store {
  readonly db: Db;
  readonly dialect: Dialect;
  /** SQLite on a file: commits reach the disk after they are visible; the committer waits for it (sqlite.ts). */
  readonly durability?: DeferredSync;
  close(): Promise<void>;
}

/**
 * Opens the database named by the URL and brings its schema up to date: `sqlite:<path>` (the
 * embedded default) or `postgres://…` (several processes on one database).
 *
 * SQLite runs in WAL mode, and a write resolves only once the WAL is fsynced (sqlite.ts), off the
 * main thread: an event acknowledged after its commit survives kill -9 and power loss. The cost of
 * one fsync per commit is shared by batching many writes per transaction (see committer.ts).
 * PostgreSQL's commits are durable by default (synchronous_commit=on).
 */
export async function openStore(databaseUrl: string, { poolSize = 10 }: { poolSize?: number } = {}): Promise<Store> {
  if (databaseUrl.startsWith("postgres://") || databaseUrl.startsWith("postgresql://")) return openPostgres(databaseUrl, poolSize);
  const { db, durability, close } = openSqlite(databaseUrl.slice("sqlite:".length));
  try {
    await migrate(db);
  } catch (error) {
    await close();
    throw error;
  }
  return { db, dialect: "sqlite", ...(durability && { durability }), close };
}

async function openPostgres(url: string, max: number): Promise<Store> {
  // Loaded only for a PostgreSQL URL: the embedded default never needs the driver or its heap.
  const { default: pg } = await import("pg");
  // int8 (bigint) columns hold epoch milliseconds and counts, all far below 2^53: read them as numbers.
  pg.types.setTypeParser(pg.types.builtins.INT8, (value: string) => Number(value));
  // A database that does not answer must not hang requests: connecting gives up after 5 s (the
  // caller answers 503), and keep-alive notices a peer that vanished without closing.
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: 5_000, keepAlive: true });
  // A connection the server drops (restart, network) must not crash the process. The pool hears
  // it for idle connections; a checked-out one between two queries (inside a transaction) has no
  // listener of its own, so it gets one here. Its next query fails (the caller answers 503 or
  // retries) and the pool discards it on release, as it does every connection no longer queryable.
  pool.on("error", () => {});
  pool.on("connect", (client) => client.on("error", () => {}));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: withNamedStatements(pool) }) });
  try {
    await migrate(db);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return { db, dialect: "postgres", close: () => db.destroy() };
}

/**
 * The pool as Kysely sees it, with the hot statements (db/prepared.ts) sent as named statements:
 * each connection parses and plans one once and then only binds new values. Sent unnamed, as
 * Kysely sends every query, PostgreSQL parsed and planned each of them on every call (DECISIONS.md).
 */
function withNamedStatements(pool: Pool): PostgresPool {
  // One wrapper per connection: Kysely keeps its own per-connection state keyed by this object.
  const wrappers = new WeakMap<PoolClient, PostgresPoolClient>();
  const wrap = (client: PoolClient): PostgresPoolClient => {
    function query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
    function query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
    function query(sqlOrCursor: string | object, parameters?: ReadonlyArray<unknown>): unknown {
      if (typeof sqlOrCursor !== "string") return client.query(sqlOrCursor as never);
      const values = parameters as unknown[];
      const name = preparedStatementName(sqlOrCursor);
      return name ? client.query({ name, text: sqlOrCursor, values }) : client.query(sqlOrCursor, values);
    }
    return { query, release: () => client.release() };
  };
  return {
    async connect() {
      const client = await pool.connect();
      let wrapper = wrappers.get(client);
      if (!wrapper) {
        wrapper = wrap(client);
        wrappers.set(client, wrapper);
      }
      return wrapper;
    },
    end: () => pool.end(),
  };
}
