/**
 * The embedded SQLite store: one connection (better-sqlite3, synchronous calls) in WAL mode, with
 * three things added to Kysely's SQLite dialect (docs/PERFORMANCE.md, items 1 and 11):
 *
 * - Statements are prepared once per SQL text (Kysely prepares every query anew, on the hot path).
 * - Commits are made durable without blocking the event loop. With synchronous=FULL every commit
 *   fsyncs the WAL on the only thread, and a disk's fsync can take from a millisecond to over a
 *   second: every event in the process would wait for it. Here SQLite runs with synchronous=NORMAL (a commit writes the WAL without an
 *   fsync: safe against a crash of the process, as the kernel has the write) and each write is
 *   followed by an fsync of the WAL on libuv's thread pool (wal-sync.ts) before its caller hears of
 *   it. That is FULL's guarantee — the WAL on disk at each commit — off the main thread, and the
 *   connection serves others meanwhile. The group committer takes that wait over for its
 *   transactions (`deferSync`), to let work that needs no disk go on at once (committer.ts).
 * - Checkpoints run on a thread of their own (checkpointer.ts); automatic checkpoints on this
 *   connection are only a backstop.
 */
import path from "node:path";
import SQLite from "better-sqlite3";
import { Kysely, SqliteDialect, type SqliteDialectConfig, SqliteDriver, type SqliteStatement } from "kysely";
import { memoize } from "../memo.js";
import { makePrivateFile, makePrivateFolder, tightenIfPresent } from "../private-files.js";
import { type Checkpointer, startCheckpointer } from "./checkpointer.js";
import type { Database, Db } from "./schema.js";
import { createWalSync, type WalSync } from "./wal-sync.js";

/** Pages (4 KiB) the WAL may reach before this connection checkpoints it itself: the backstop. */
const BACKSTOP_CHECKPOINT_PAGES = 16_384;
/** A WAL grown by a burst is truncated back to this after a checkpoint. */
const WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;
/** Distinct SQL texts kept prepared (dynamic IN-lists produce many). */
const STATEMENT_CACHE = 500;

/** What the connection has done since its user took it: the driver reads and clears it on release. */
interface WriteState {
  /** A statement changed the database inside a transaction not yet ended. */
  dirty: boolean;
  /** A change was committed (an autocommit write, or a COMMIT after changes). */
  committed: boolean;
  /** The user will wait for the WAL fsync itself (the group committer): release without it. */
  deferred: boolean;
}

/** better-sqlite3 behind Kysely's interface: statements cached, committed writes noted in `state`. */
function instrumented(sqlite: SQLite.Database, state: WriteState): SqliteDialectConfig["database"] {
  // COMMIT itself counts as read-only (sqlite3_stmt_readonly): a write is noted when it runs, and
  // counted as committed once the connection is outside a transaction.
  const note = (statement: SQLite.Statement) => {
    if (!statement.readonly) state.dirty = true;
    if (state.dirty && !sqlite.inTransaction) {
      state.dirty = false;
      state.committed = true;
    }
  };
  const wrap = (statement: SQLite.Statement): SqliteStatement => ({
    reader: statement.reader,
    all(parameters) {
      const rows = statement.all(parameters);
      note(statement);
      return rows;
    },
    iterate: (parameters) => statement.iterate(parameters),
    run(parameters) {
      const result = statement.run(parameters);
      note(statement);
      return result;
    },
  });
  return {
    close: () => sqlite.close(),
    prepare: memoize((sql) => wrap(sqlite.prepare(sql)), STATEMENT_CACHE),
  };
}

/** Releases the connection first, then waits for the WAL fsync that makes its writes durable. */
class DurableSqliteDriver extends SqliteDriver {
  constructor(
    config: SqliteDialectConfig,
    private readonly state: WriteState,
    private readonly wal: WalSync,
  ) {
    super(config);
  }

  override async releaseConnection(): Promise<void> {
    const wait = this.state.committed && !this.state.deferred;
    this.state.committed = false;
    this.state.deferred = false;
    await super.releaseConnection();
    if (wait) await this.wal.sync();
  }
}

class DurableSqliteDialect extends SqliteDialect {
  constructor(
    private readonly config: SqliteDialectConfig,
    private readonly state: WriteState,
    private readonly wal: WalSync,
  ) {
    super(config);
  }

  override createDriver(): SqliteDriver {
    return new DurableSqliteDriver(this.config, this.state, this.wal);
  }
}

/** Durability the group committer manages itself (committer.ts). */
export interface DeferredSync {
  /** Called inside a transaction: its release will not wait for the fsync; the caller calls `sync`. */
  defer(): void;
  /** Resolves once everything committed so far is on disk. */
  sync(): Promise<void>;
}

export interface SqliteStore {
  db: Db;
  /** Absent for an in-memory database (nothing to make durable). */
  durability?: DeferredSync;
  close(): Promise<void>;
}

/** `walSync` is replaceable for tests that need to hold an fsync back. */
export function openSqlite(file: string, { walSync = createWalSync }: { walSync?: (walPath: string) => WalSync } = {}): SqliteStore {
  const inMemory = file === ":memory:";
  if (!inMemory) {
    // Owner-only before SQLite opens it: SQLite gives the -wal and -shm it creates the database's mode.
    makePrivateFolder(path.dirname(path.resolve(file)));
    makePrivateFile(file);
    for (const companion of [`${file}-wal`, `${file}-shm`]) tightenIfPresent(companion);
  }
  const sqlite = new SQLite(file);
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("foreign_keys = ON");
  sqlite.pragma("busy_timeout = 5000");
  const state: WriteState = { dirty: false, committed: false, deferred: false };
  if (inMemory) {
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: instrumented(sqlite, state) }) });
    return { db, close: () => db.destroy() };
  }
  sqlite.pragma("synchronous = NORMAL"); // the WAL fsync after each commit is wal-sync's
  sqlite.pragma(`wal_autocheckpoint = ${BACKSTOP_CHECKPOINT_PAGES}`);
  sqlite.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
  const wal = walSync(`${file}-wal`);
  const checkpointer: Checkpointer = startCheckpointer(file);
  const db = new Kysely<Database>({ dialect: new DurableSqliteDialect({ database: instrumented(sqlite, state) }, state, wal) });
  return {
    db,
    durability: {
      defer: () => {
        state.deferred = true;
      },
      sync: () => wal.sync(),
    },
    async close() {
      await checkpointer.stop();
      await wal.sync().catch(() => {});
      await db.destroy(); // the last connection out checkpoints and removes the WAL
      wal.close();
    },
  };
}
