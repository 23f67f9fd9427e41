/**
 * The email sender: renders the action's subject and body templates against the instance's object
 * and sends them over SMTP through a pool of connections. The SMTP reply decides the outcome
 * (retry-policy.ts: 4xx transient, 5xx permanent); each send is an attempt in the log with the
 * envelope and rendered message as its request and the server's reply as its response.
 *
 * A recipient may be a template (`{{ booking_request.contact_info.email }}`): one that renders empty
 * or no address fails at once, saying so. Recipients on the account's stop list (compared
 * lowercased) are left out; when that leaves none, the instance is suppressed, not failed.
 */
import type { Config } from "../config.js";
import type { ClaimedInstance } from "../queue/claim.js";
import type { RenderPool } from "../templates/render-pool.js";
import { onStopList, renderMessage, renderRecipients, type StopListLookup } from "./message.js";
import { smtpOutcome } from "./retry-policy.js";
import type { AttemptResult, Sender } from "./sender.js";

type EmailConfig = Pick<Config, "connectTimeoutMs" | "requestTimeoutMs"> & { smtp: NonNullable<Config["smtp"]> };

interface SmtpError {
  code?: string;
  responseCode?: number;
  response?: string;
  message?: string;
}

/**
 * The pooled SMTP connection shared by email actions and Hookline's own notices. Nodemailer is
 * loaded only when SMTP is configured (megabytes of heap otherwise carried for nothing).
 */
export async function createMailer(config: EmailConfig) {
  const { default: nodemailer } = await import("nodemailer");
  return nodemailer.createTransport({
    url: config.smtp.url,
    pool: true,
    maxConnections: 5,
    connectionTimeout: config.connectTimeoutMs,
    greetingTimeout: config.connectTimeoutMs,
    socketTimeout: config.requestTimeoutMs,
    // Message content comes from templates: never let it make the mailer read files or fetch URLs.
    disableFileAccess: true,
    disableUrlAccess: true,
  });
}
export type Mailer = Awaited<ReturnType<typeof createMailer>>;

export function createEmailSender(
  transport: Mailer,
  config: Pick<EmailConfig, "smtp">,
  { templates, stopList, now = Date.now }: { templates: RenderPool; stopList: StopListLookup; now?: () => number },
): Sender {
  /** The recipients not on the stop list, and why the others were left out. */
  async function notStopped(accountId: string, to: readonly string[]): Promise<{ to: string[]; stopped: string[] }> {
    const stopped = await stopList(
      accountId,
      "email",
      to.map((address) => address.toLowerCase()),
    );
    const since = (address: string) => stopped.get(address.toLowerCase());
    return {
      to: to.filter((address) => since(address) === undefined),
      stopped: to.flatMap((address) => {
        const at = since(address);
        return at === undefined ? [] : [onStopList(address, at)];
      }),
    };
  }

  async function send(instance: ClaimedInstance): Promise<AttemptResult> {
    const started = now();
    const settings = JSON.parse(instance.settings) as { to: string | string[]; subject: string; body: string };
    const base = { startedAt: started, confirmsDelivery: true };
    const refused = (message: string, request: Record<string, unknown>, kind: "permanent" | "suppressed" = "permanent"): AttemptResult => ({
      ...base,
      outcome: { kind, message },
      sent: false,
      request,
      error: message,
      durationMs: now() - started,
    });
    const recipients = await renderRecipients(templates, instance, "email", settings.to);
    if (!recipients.ok) return refused(recipients.error, { to: recipients.to });
    const rendered = await renderMessage(templates, instance, { subject: settings.subject, body: settings.body });
    if (!rendered.ok) return refused(rendered.error, { to: recipients.to });
    const { to, stopped } = await notStopped(instance.accountId, recipients.to);
    if (to.length === 0) return refused(stopped.join("; "), { to: recipients.to }, "suppressed");
    // One line: a subject with a newline would be a header injection.
    const subject = (rendered.parts.subject ?? "").replace(/[\r\n]+/g, " ").trim();
    const text = rendered.parts.body ?? "";
    const request = { envelope: { from: config.smtp.from, to }, subject, text, ...(stopped.length > 0 && { suppressed: stopped }) };
    try {
      const info = await transport.sendMail({ from: config.smtp.from, to, subject, text, headers: { "X-Hookline-Instance": instance.id } });
      const code = Number(/^\d{3}/.exec(info.response)?.[0] ?? 250);
      const rejected = (info.rejected ?? []).map(String);
      const body = rejected.length > 0 ? `${info.response}\nrejected recipients: ${rejected.join(", ")}` : info.response;
      return {
        ...base,
        outcome: smtpOutcome(code, info.response),
        sent: true,
        request,
        response: { status: code, headers: {}, body, truncated: false },
        durationMs: now() - started,
      };
    } catch (error) {
      const e = error as SmtpError;
      if (e.responseCode) {
        const reply = e.response ?? `${e.responseCode}`;
        const outcome = smtpOutcome(e.responseCode, reply);
        const response = { status: e.responseCode, headers: {}, body: reply, truncated: false };
        return {
          ...base,
          outcome,
          sent: false,
          request,
          response,
          error: outcome.kind === "success" ? undefined : outcome.message,
          durationMs: now() - started,
        };
      }
      // No reply at all: connection refused or reset, timeout, DNS — the server may be back later.
      const message = `${e.code ?? "SMTP"}: ${e.message ?? "could not reach the mail server"}`;
      return { ...base, outcome: { kind: "temporary", message }, sent: false, request, error: message, durationMs: now() - started };
    }
  }

  return { send };
}
