/**
 * The failing-endpoint notice: when an action's instances have failed, with no success, for longer
 * than HOOKLINE_FAILING_AFTER, the account's notification address gets one email. The action is not
 * disabled (silently dropping deliveries is worse than failing loudly); the notice is sent again
 * only after the action has recovered and starts failing anew.
 */
import type { Logger } from "pino";
import type { Db } from "../db/schema.js";
import { pause } from "../pause.js";
import type { Mailer } from "./email.js";

export interface NoticeDeps {
  db: Db;
  mailer: Mailer;
  from: string;
  failingAfterMs: number;
  publicUrl: string | undefined;
  logger: Logger;
  now?: () => number;
}

export function createFailingNotifier(deps: NoticeDeps) {
  const now = deps.now ?? Date.now;
  // Look often enough to notice within a small fraction of the threshold, at most once a minute.
  const intervalMs = Math.min(60_000, Math.max(100, deps.failingAfterMs / 4));

  async function notifyDue(): Promise<void> {
    const due = await deps.db
      .selectFrom("actions")
      .innerJoin("accounts", "accounts.id", "actions.account_id")
      .select(["actions.id", "actions.name", "actions.failing_since", "accounts.notification_email"])
      .where("actions.failing_since", "<=", now() - deps.failingAfterMs)
      .where("actions.failing_notified_at", "is", null)
      .where("accounts.notification_email", "is not", null)
      .limit(100)
      .execute();
    for (const action of due) {
      const since = new Date(action.failing_since as number).toISOString();
      const link = deps.publicUrl ? `\n\nIts log: ${deps.publicUrl}/ui/#/actions/${action.id}/log` : "";
      await deps.mailer.sendMail({
        from: deps.from,
        to: action.notification_email as string,
        subject: `Hookline: "${action.name}" has been failing since ${since}`,
        text: `Every delivery of the action "${action.name}" (${action.id}) has failed since ${since}, with no success since then.\nIt is still enabled: new events keep being attempted. After fixing the endpoint, recover the failed deliveries with POST /api/v1/actions/${action.id}/recover or the Log page.${link}\n`,
      });
      await deps.db.updateTable("actions").set({ failing_notified_at: now() }).where("id", "=", action.id).execute();
    }
  }

  return {
    name: "failing-notice",
    async run(signal: AbortSignal): Promise<void> {
      while (!signal.aborted) {
        await notifyDue().catch((err: unknown) => deps.logger.error({ err }, "could not send failing-action notices"));
        await pause(intervalMs, signal);
      }
    },
  };
}
