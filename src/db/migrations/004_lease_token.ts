import { type Kysely, sql } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: migrations describe the schema at their point in history
export async function up(db: Kysely<any>): Promise<void> {
  // Names the claim that holds the lease, so a worker can renew its lease (move lease_until)
  // and still be recognised as the holder when it records the attempt.
  await db.schema.alterTable("instances").addColumn("lease_token", "text").execute();
  // Lease renewal finds its rows by token; only rows in flight have one, so the index stays small.
  await db.schema.createIndex("instances_lease_token").on("instances").column("lease_token").where(sql.ref("lease_token"), "is not", null).execute();
}
