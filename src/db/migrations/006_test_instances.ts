import type { Kysely } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: migrations describe the schema at their point in history
export async function up(db: Kysely<any>): Promise<void> {
  // 1 for a test send (POST /actions/{id}/test): marked to its receiver and in the log, and left out
  // of the action's figures and failing spell. Instances from before were all real deliveries.
  await db.schema
    .alterTable("instances")
    .addColumn("test", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
}
