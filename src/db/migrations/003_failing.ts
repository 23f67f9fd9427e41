import type { Kysely } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: migrations describe the schema at their point in history
export async function up(db: Kysely<any>): Promise<void> {
  // When the action's instances began failing without a success since; null while it works.
  await db.schema.alterTable("actions").addColumn("failing_since", "bigint").execute();
  await db.schema.alterTable("actions").addColumn("failing_notified_at", "bigint").execute();
  await db.schema.alterTable("accounts").addColumn("notification_email", "text").execute();
}
