import type { Kysely } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: migrations describe the schema at their point in history
export async function up(db: Kysely<any>): Promise<void> {
  // Each account's stop list, kept by its stoplist.*_added / *_removed events: a phone (E.164) or
  // an email (lowercased) that messages are not sent to. The key is what a send looks up.
  await db.schema
    .createTable("stop_list")
    .addColumn("account_id", "text", (c) => c.notNull().references("accounts.id").onDelete("cascade"))
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("value", "text", (c) => c.notNull())
    .addColumn("added_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("stop_list_pk", ["account_id", "kind", "value"])
    .execute();
  // Why an instance ended as it did, or waits, in words for the log ("… is on the stop list since …").
  await db.schema.alterTable("instances").addColumn("reason", "text").execute();
}
