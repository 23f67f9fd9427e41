/**
 * Hot statements built once. Kysely builds and compiles every query on every call, about 15 µs per
 * statement here, as much as running it inside a transaction three times over; the hot path runs
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
 * with `is`): compiling checks that every placeholder became exactly a parameter. Plugins'
 * `transformQuery` does not run on prepared statements (their results still pass `transformResult`).
 */
import { type Compilable, type CompiledQuery, createQueryId, type DatabaseConnection, type Insertable, type QueryResult } from "kysely";
import type { Database, Executor, Tx } from "./schema.js";

/** Placeholder values: a string no real value starts with. */
const MARK = "\u0000hookline-param:";

type Placeholders<P> = { readonly [K in keyof P]: P[K] };

interface Compiled {
  query: CompiledQuery;
  /** For each parameter, the name of the value that fills it, or the constant Kysely bound there. */
  slots: ({ name: string } | { value: unknown })[];
}

export type Prepared<P, R> = (db: Executor, params: P) => Promise<QueryResult<R>>;

/**
 * Transactions whose prepared statements go straight to their connection (`direct`). Kysely runs a
 * query in a transaction through a fresh executor and three nested async functions that serialise
 * it behind the last one; at three statements per event that was about a third of what the main
 * thread allocated while a backlog filled (BENCHMARKS.md, item 23).
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

export class PreparedStatementError extends Error {
  override name = "PreparedStatementError";
}

export function prepare<P extends Record<string, unknown>, R = unknown>(build: (db: Executor, p: Placeholders<P>) => Compilable<R>): Prepared<P, R> {
  // One compilation per dialect: the adapter is shared by a Kysely instance and its transactions.
  const byDialect = new WeakMap<object, Compiled>();
  const placeholders = new Proxy({} as Placeholders<P>, { get: (_target, name) => `${MARK}${String(name)}` });

  function compile(db: Executor): Compiled {
    const query = build(db, placeholders).compile();
    const slots = query.parameters.map((value) => (typeof value === "string" && value.startsWith(MARK) ? { name: value.slice(MARK.length) } : { value }));
    // A placeholder that ended up inside the SQL text instead of a parameter would be sent as is.
    if (query.sql.includes(MARK)) throw new PreparedStatementError(`a placeholder was inlined into the SQL of: ${query.sql}`);
    return { query, slots };
  }

  return async (db, params) => {
    const key = db.getExecutor().adapter;
    let compiled = byDialect.get(key);
    if (!compiled) {
      compiled = compile(db);
      byDialect.set(key, compiled);
    }
    const parameters = compiled.slots.map((slot) => {
      if (!("name" in slot)) return slot.value;
      const value = params[slot.name];
      if (value === undefined) throw new PreparedStatementError(`no value for parameter "${slot.name}"`);
      return value;
    });
    const connection = directConnections.get(db);
    // Direct, no plugin sees the query; through Kysely, a query id of its own per run (plugins pair a
    // query with its result by it).
    if (connection) return connection.executeQuery<R>({ ...compiled.query, parameters });
    return db.executeQuery<R>({ ...compiled.query, queryId: createQueryId(), parameters });
  };
}

/**
 * An insert of one whole row into `table`, prepared on its first call with that row's keys as its
 * columns. Callers give every column (`Required<…>`), so every row has the same keys and no column
 * list is written out twice.
 */
export function prepareInsert<T extends keyof Database & string>(table: T): Prepared<Required<Insertable<Database[T]>>, unknown> {
  let insert: Prepared<Record<string, unknown>, unknown> | undefined;
  return (db, row) => {
    const values = row as Record<string, unknown>;
    insert ??= prepare<Record<string, unknown>>((db, p) =>
      db.insertInto(table).values(Object.fromEntries(Object.keys(values).map((column) => [column, p[column]])) as never),
    );
    return insert(db, values);
  };
}
