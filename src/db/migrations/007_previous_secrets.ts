import type { Kysely } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: migrations describe the schema at their point in history
export async function up(db: Kysely<any>): Promise<void> {
  // Every secret rotated away signs for its own 24 hours, not only the last one: a JSON list of
  // {secret (sealed), until}, oldest first (actions/signing-secrets.ts). The default serves actions
  // a process of the last version creates while an upgrade rolls out.
  await db.schema
    .alterTable("actions")
    .addColumn("previous_secrets", "text", (c) => c.notNull().defaultTo("[]"))
    .execute();
  const rotated = await db
    .selectFrom("actions")
    .select(["id", "previous_secret", "previous_secret_until"])
    .where("previous_secret", "is not", null)
    .where("previous_secret_until", ">", Date.now())
    .execute();
  for (const row of rotated) {
    const previous = [{ secret: row.previous_secret, until: Number(row.previous_secret_until) }];
    await db
      .updateTable("actions")
      .set({ previous_secrets: JSON.stringify(previous) })
      .where("id", "=", row.id)
      .execute();
  }
  // previous_secret and previous_secret_until stay, unread: the schema only ever grows
  // (DEPLOYMENT.md), so a process of the last version still running during an upgrade finds them.
}
