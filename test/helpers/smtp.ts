/** A real SMTP server on loopback (smtp-server) that records messages and can refuse recipients. */
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
  subject: string;
  text: string;
}

export interface SmtpPeer {
  url: string;
  mails: ReceivedMail[];
  /** How RCPT TO is answered for an address: undefined accepts; otherwise [code, message]. */
  refuse(address: string, reply: ((nth: number) => [number, string] | undefined) | undefined): void;
  close(): Promise<void>;
}

function decodeMessage(raw: string): { subject: string; text: string } {
  const [head = "", ...rest] = raw.split(/\r?\n\r?\n/);
  const unfolded = head.replace(/\r?\n[ \t]+/g, " ");
  const subject = /^Subject: (.*)$/im.exec(unfolded)?.[1] ?? "";
  let body = rest.join("\n\n");
  if (/Content-Transfer-Encoding: quoted-printable/i.test(unfolded)) {
    body = body.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/gi, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
    body = Buffer.from(body, "latin1").toString("utf8");
  } else if (/Content-Transfer-Encoding: base64/i.test(unfolded)) {
    body = Buffer.from(body.replace(/\s+/g, ""), "base64").toString("utf8");
  }
  // RFC 2047 encoded-words in the subject (non-ASCII)
  const decodedSubject = subject.replace(/=\?utf-8\?([BQ])\?([^?]*)\?=\s*/gi, (_m, enc: string, text: string) =>
    enc.toUpperCase() === "B"
      ? Buffer.from(text, "base64").toString("utf8")
      : Buffer.from(
          text.replace(/_/g, " ").replace(/=([0-9A-F]{2})/gi, (_x, h: string) => String.fromCharCode(Number.parseInt(h, 16))),
          "latin1",
        ).toString("utf8"),
  );
  return { subject: decodedSubject, text: body.replace(/\r\n/g, "\n").replace(/\n$/, "") };
}

export async function startSmtp(): Promise<SmtpPeer> {
  const mails: ReceivedMail[] = [];
  const refusals = new Map<string, (nth: number) => [number, string] | undefined>();
  const counts = new Map<string, number>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onRcptTo(address, _session, callback) {
      const nth = (counts.get(address.address) ?? 0) + 1;
      counts.set(address.address, nth);
      const reply = refusals.get(address.address)?.(nth);
      if (!reply) return callback();
      const error = new Error(reply[1]) as Error & { responseCode: number };
      error.responseCode = reply[0];
      callback(error);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
          ...decodeMessage(raw),
        });
        callback(null, "Message queued as test");
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    refuse: (address, reply) => (reply ? refusals.set(address, reply) : refusals.delete(address)),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
