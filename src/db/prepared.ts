/**
 * Hot statements built once. Kysely builds and compiles every query on every call, which costs
 * more than running the compiled statement (docs/PERFORMANCE.md, item 10); the hot path runs
 * several statements per event (ingest, attempt record). A prepared statement is built with Kysely
 * as usual — so its SQL stays typed and right for each dialect — but with named placeholders for its
 * values; it is compiled once per dialect, and each call only fills in the values.
 *
 *   const finish = prepare<{ id: string; now: number }>((db, p) =>
 *     db.updateTable("instances").set({ updated_at: p.now }).where("id", "=", p.id));
 *   await finish(trx, { id, now });
 *
 * A placeholder must stand where Kysely binds a value (a parameter), never where the query's shape
 * depends on the value (an `in` list's length, `undefined` leaving a column out, a value compared
 * with `is`): compiling checks that every placeholder became exactly a parameter. Kysely's plugins
 * see a prepared statement as any query (`transformQuery`, `transformResult`), but may not change it.
 *
 * Inserts of whole rows (`prepareInsert`) take any number of rows and write many to a statement.
 * On PostgreSQL every statement prepared here is also a named statement of its connection, parsed
 * and planned by the server once (connect.ts).
 */
import { type Compilable, type CompiledQuery, createQueryId, type DatabaseConnection, type Insertable, type QueryResult } from "kysely";
import { memoize } from "../memo.js";
import type { Database, Executor, Tx, UnitWritableTable } from "./schema.js";

/** Placeholder values: a string no real value starts with. */
const MARK = "\u0000hookline-param:";

type Placeholders<P> = { readonly [K in keyof P]: P[K] };

/** A parameter: read from the call's source (its placeholder's `name`), or the constant Kysely bound there. */
type Slot<S> = { name: string; read: (source: S, at: number) => unknown } | { value: unknown };

/**
 * A compiled statement, and how a call's parameters are gathered: from the values its placeholders
 * name (`source`: a params object, or the rows from `at` on), or the constants Kysely bound there.
 */
interface Compiled<S> {
  query: CompiledQuery;
  gather: (source: S, at: number) => unknown[];
}

export type Prepared<P, R> = (db: Executor, params: P) => Promise<QueryResult<R>>;

/**
 * Transactions whose prepared statements go straight to their connection (`direct`). Kysely runs a
 * query in a transaction through a fresh executor and three nested async functions that serialise
 * it behind the last one, an allocation per statement that a unit's one-after-another statements
 * do not need (see docs/PERFORMANCE.md, item 23).
 */
const directConnections = new WeakMap<Executor, DatabaseConnection>();

/**
 * Runs `work` in `trx` with its prepared statements sent straight to the transaction's connection,
 * until `work` settles (then they go through Kysely again, which refuses a finished transaction).
 * Only for transactions whose statements run one after another, as a unit's do (committer.ts):
 * Kysely's queueing of concurrent statements is skipped. Plugins are honoured by not going direct.
 */
export async function direct<T>(trx: Tx, work: (trx: Tx) => Promise<T>): Promise<T> {
  const executor = trx.getExecutor();
  if (executor.plugins.length > 0) return work(trx);
  directConnections.set(trx, await executor.provideConnection(async (connection) => connection));
  try {
    return await work(trx);
  } finally {
    directConnections.delete(trx);
  }
}

/**
 * The SQL texts compiled here, each with a name of its own: a PostgreSQL connection keeps a named
 * statement parsed and planned, and runs it again with new values only (connect.ts). Bounded: one
 * entry per prepared statement and dialect, never per call.
 */
const statementNames = new Map<string, string>();

/** The name of a prepared statement's SQL text, or undefined for any other query. */
export function preparedStatementName(sql: string): string | undefined {
  return statementNames.get(sql);
}

export class PreparedStatementError extends Error {
  override name = "PreparedStatementError";
}

/**
 * Compiles a statement built with placeholders; `read` gives, for a placeholder's name, how a call
 * reads its value from the call's source (a params object, or the rows from `at` on).
 */
function compileSlots<S>(query: CompiledQuery, read: (name: string) => (source: S, at: number) => unknown): Compiled<S> {
  const slots = query.parameters.map((value): Slot<S> => {
    if (typeof value !== "string" || !value.startsWith(MARK)) return { value };
    const name = value.slice(MARK.length);
    return { name: name.slice(name.indexOf(":") + 1), read: read(name) };
  });
  // A placeholder that ended up inside the SQL text instead of a parameter would be sent as is.
  if (query.sql.includes(MARK)) throw new PreparedStatementError(`a placeholder was inlined into the SQL of: ${query.sql}`);
  if (!statementNames.has(query.sql)) statementNames.set(query.sql, `hookline_${statementNames.size + 1}`);
  return {
    query,
    gather(source, at) {
      const parameters = new Array<unknown>(slots.length);
      for (let i = 0; i < slots.length; i++) {
        const slot = slots[i] as Slot<S>;
        if (!("read" in slot)) {
          parameters[i] = slot.value;
          continue;
        }
        const value = slot.read(source, at);
        if (value === undefined) throw new PreparedStatementError(`no value for parameter "${slot.name}"`);
        parameters[i] = value;
      }
      return parameters;
    },
  };
}

/**
 * Reads one property, by a function made once per property name: each such read site sees only
 * the few kinds of rows or params that property is read from, so V8 caches where it is. Reading by a key
 * known only at run time (`row[column]`, every column through one site) is a lookup it cannot
 * cache, and the inserts of a shared transaction fill dozens of parameters per event (see
 * docs/PERFORMANCE.md, item 33). The code made is one property read per name, not a function per
 * statement with every read written out: compiling those for many-row inserts costs memory.
 */
const property = memoize((name) => new Function("o", `"use strict"; return o[${JSON.stringify(name)}];`) as (o: object) => unknown, 1_000);

function execute<R>(db: Executor, query: CompiledQuery, parameters: unknown[]): Promise<QueryResult<R>> {
  const connection = directConnections.get(db);
  // Direct: there is no plugin (see `direct`).
  if (connection) return connection.executeQuery<R>({ ...query, parameters });
  // Through Kysely, with a query id of its own per run: plugins see the statement as they see any
  // query (tests watch and fail queries with them) and pair it with its result by the id; a plugin
  // that would change it is refused, as the statement runs as compiled.
  const queryId = createQueryId();
  const executor = db.getExecutor();
  if (executor.plugins.length > 0 && executor.transformQuery(query.query, queryId) !== query.query)
    throw new PreparedStatementError("a plugin would change a prepared statement, which runs as compiled");
  return db.executeQuery<R>({ ...query, queryId, parameters });
}

export function prepare<P extends Record<string, unknown>, R = unknown>(build: (db: Executor, p: Placeholders<P>) => Compilable<R>): Prepared<P, R> {
  // One compilation per dialect: the adapter is shared by a Kysely instance and its transactions.
  const byDialect = new WeakMap<object, Compiled<P>>();
  const placeholders = new Proxy({} as Placeholders<P>, { get: (_target, name) => `${MARK}${String(name)}` });

  // Async: a missing value or a finished transaction is a rejection, never a throw at the call.
  return async (db, params) => {
    const dialect = db.getExecutor().adapter;
    let compiled = byDialect.get(dialect);
    if (!compiled) {
      compiled = compileSlots<P>(build(db, placeholders).compile(), (name) => property(name) as (source: P) => unknown);
      byDialect.set(dialect, compiled);
    }
    return execute<R>(db, compiled.query, compiled.gather(params, 0));
  };
}

/**
 * Rows per statement over many rows (`prepareRows`), at most. Rows are written in chunks whose
 * sizes are powers of two (13 rows: 8 + 4 + 1), so each such statement has at most seven forms
 * whatever the batches' sizes; 64 rows of 20 columns stay far below both databases' limits on
 * bound parameters.
 */
export const MAX_ROWS_PER_STATEMENT = 64;

/**
 * A statement over many rows — an insert, or an update from a list of values — prepared per row
 * count: `build` gets that many rows of placeholders, each with the columns `columnsOf` names (the
 * first row's keys, by default). Called with any number of rows, it runs in chunks of at most
 * MAX_ROWS_PER_STATEMENT and resolves to the rows all chunks returned.
 */
export function prepareRows<Row extends object, R = unknown>(
  build: (db: Executor, rows: Placeholders<Row>[]) => Compilable<R>,
  columnsOf: (first: Row) => readonly string[] = Object.keys,
): (db: Executor, rows: readonly Row[]) => Promise<R[]> {
  const byDialect = new WeakMap<object, Map<number, Compiled<readonly Row[]>>>();
  /** A placeholder `row:column` reads that column of the chunk's row. */
  const place = (name: string) => {
    const colon = name.indexOf(":");
    const row = Number(name.slice(0, colon));
    const column = property(name.slice(colon + 1));
    return (rows: readonly Row[], at: number) => column(rows[at + row] as Row);
  };
  return async (db, rows) => {
    const first = rows[0];
    if (!first) return [];
    const dialect = db.getExecutor().adapter;
    let bySize = byDialect.get(dialect);
    if (!bySize) {
      bySize = new Map();
      byDialect.set(dialect, bySize);
    }
    const returned: R[] = [];
    for (let at = 0; at < rows.length; ) {
      let size = MAX_ROWS_PER_STATEMENT;
      while (size > rows.length - at) size /= 2;
      let compiled = bySize.get(size);
      if (!compiled) {
        const columns = columnsOf(first);
        const placeholders = Array.from({ length: size }, (_, row) => Object.fromEntries(columns.map((column) => [column, `${MARK}${row}:${column}`])));
        compiled = compileSlots<readonly Row[]>(build(db, placeholders as Placeholders<Row>[]).compile(), place);
        bySize.set(size, compiled);
      }
      const { rows: out } = await execute<R>(db, compiled.query, compiled.gather(rows, at));
      for (const row of out) returned.push(row);
      at += size;
    }
    return returned;
  };
}

/**
 * Inserts of whole rows into `table`, many rows per statement (`prepareRows`), with the first row's
 * keys as the columns. Callers give every column (`Required<…>`), so every row has the same keys
 * and no column list is written out twice.
 */
export function prepareInsert<T extends UnitWritableTable>(table: T): (db: Executor, rows: readonly Required<Insertable<Database[T]>>[]) => Promise<void> {
  const insert = prepareRows<Required<Insertable<Database[T]>>>((db, rows) => db.insertInto(table).values(rows as never));
  return async (db, rows) => void (await insert(db, rows));
}
