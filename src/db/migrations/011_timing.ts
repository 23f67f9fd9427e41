import { type Kysely, sql } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: migrations describe the schema at their point in history
export async function up(db: Kysely<any>): Promise<void> {
  // An action's timing and quiet hours (JSON; null: at once, no quiet hours), and the account's
  // time zone, which quiet hours fall back on.
  await db.schema.alterTable("actions").addColumn("timing", "text").execute();
  await db.schema.alterTable("actions").addColumn("quiet_hours", "text").execute();
  await db.schema
    .alterTable("accounts")
    .addColumn("time_zone", "text", (c) => c.notNull().defaultTo("UTC"))
    .execute();
  // Per instance (its `reason` came with 010): the appointment and participant it concerns (what a
  // later event about them cancels or moves); the zone its quiet hours were resolved in at ingest
  // (its retries keep them).
  for (const column of ["appointment", "participant", "quiet_zone"]) {
    await db.schema.alterTable("instances").addColumn(column, "text").execute();
  }
  // Cancel and reschedule find an appointment's waiting instances by this index: a probe, however
  // many other instances are scheduled. Same predicate as WAITING in schedule/changes.ts, as a
  // literal (SQLite uses a partial index only then).
  await db.schema
    .createIndex("instances_appointment")
    .on("instances")
    .columns(["account_id", "appointment", "participant"])
    .where(sql<boolean>`state = 'pending' and appointment is not null`)
    .execute();
}
