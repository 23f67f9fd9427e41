import { type Kysely, sql } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: migrations describe the schema at their point in history
export async function up(db: Kysely<any>): Promise<void> {
  // A claim also reads the account of each due instance, to hold each account to its share of the
  // delivery slots (HOOKLINE_ACCOUNT_CONCURRENCY): the claim index (005) gains account_id, so the
  // claim's scan still never touches the table.
  await db.schema
    .createIndex("instances_claim_accounts")
    .on("instances")
    .columns(["next_attempt_at", "lease_until", "action_id", "account_id", "id", "state"])
    .where(sql<boolean>`state in ('pending', 'retrying')`)
    .execute();
  await db.schema.dropIndex("instances_claim").execute();
}
