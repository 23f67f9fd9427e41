import type { Kysely } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: migrations describe the schema at their point in history
export async function up(db: Kysely<any>): Promise<void> {
  // A trigger's conditions (match/conditions.ts) as JSON; null fires on the type alone, as before.
  await db.schema.alterTable("triggers").addColumn("conditions", "text").execute();
}
