/**
 * A local stand-in for Twilio's Messages API: it checks what the real API checks (method, path,
 * account SID, basic auth, form fields, E.164 numbers, body length), answers like it (201 with a
 * message resource; 400/401 with Twilio's error JSON), can be told to fail (500), and can send the
 * signed status callbacks Twilio sends.
 */
import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { request } from "undici";
import { twilioSignature } from "../../src/http/provider-callbacks.js";

export const TWILIO_SID = "AC0123456789abcdef0123456789abcdef";
export const TWILIO_TOKEN = "test-auth-token-0123456789";
export const TWILIO_FROM = "+15550006666";

export interface SentSms {
  sid: string;
  to: string;
  from: string;
  body: string;
  statusCallback: string | undefined;
}

export interface TwilioStandIn {
  baseUrl: string;
  messages: SentSms[];
  /** Every request, accepted or not, with the status it was answered with. */
  requests: { status: number; form: Record<string, string> }[];
  /** Makes the next requests fail with `status` (e.g. 500), `times` times. */
  failNext(status: number, times: number): void;
  /** Sends the status callback Twilio would send for `message`. `signWith` defaults to the real token. */
  callback(message: SentSms, status: string, extra?: Record<string, string>, signWith?: string): Promise<number>;
  /**
   * For the next accepted message, sends its status callback first and answers the send `answerAfterMs`
   * later: a callback that reaches Hookline before the attempt that sent the message is recorded.
   * Resolves to the callback's answer status.
   */
  callBackBeforeAnswering(status: string, answerAfterMs: number, extra?: Record<string, string>): Promise<number>;
  close(): Promise<void>;
}

function twilioError(res: http.ServerResponse, status: number, code: number, message: string) {
  res
    .writeHead(status, { "content-type": "application/json" })
    .end(JSON.stringify({ code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status }));
}

export async function startTwilio(): Promise<TwilioStandIn> {
  const messages: SentSms[] = [];
  const requests: TwilioStandIn["requests"] = [];
  let failures: { status: number; times: number } | undefined;
  let early: { status: string; answerAfterMs: number; extra: Record<string, string>; answered(callback: Promise<number>): void } | undefined;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString()));
      const answer = (status: number, fn: () => void) => {
        requests.push({ status, form });
        fn();
      };
      if (failures && failures.times > 0) {
        failures.times--;
        return answer(failures.status, () => twilioError(res, failures?.status ?? 500, 20500, "Internal Server Error"));
      }
      if (req.method !== "POST" || req.url !== `/2010-04-01/Accounts/${TWILIO_SID}/Messages.json`) {
        return answer(404, () => twilioError(res, 404, 20404, "The requested resource was not found"));
      }
      const expectedAuth = `Basic ${Buffer.from(`${TWILIO_SID}:${TWILIO_TOKEN}`).toString("base64")}`;
      if (req.headers.authorization !== expectedAuth) return answer(401, () => twilioError(res, 401, 20003, "Authenticate"));
      if (req.headers["content-type"] !== "application/x-www-form-urlencoded")
        return answer(400, () => twilioError(res, 400, 20001, "Content-Type must be form-encoded"));
      const { To, From, Body, StatusCallback } = form;
      if (!To || !/^\+[1-9]\d{7,14}$/.test(To)) return answer(400, () => twilioError(res, 400, 21211, `The 'To' number ${To} is not a valid phone number.`));
      if (From !== TWILIO_FROM)
        return answer(400, () => twilioError(res, 400, 21606, "The From phone number is not a valid, SMS-capable inbound phone number"));
      if (!Body) return answer(400, () => twilioError(res, 400, 21602, "Message body is required."));
      if ([...Body].length > 1600) return answer(400, () => twilioError(res, 400, 21617, "The concatenated message body exceeds the 1600 character limit."));
      if (To === "+15005550001") return answer(400, () => twilioError(res, 400, 21211, "The 'To' number +15005550001 is not a valid phone number."));
      const sid = `SM${String(messages.length).padStart(32, "0")}`;
      const message = { sid, to: To, from: From, body: Body, statusCallback: StatusCallback };
      messages.push(message);
      const accept = () =>
        answer(201, () =>
          res
            .writeHead(201, { "content-type": "application/json" })
            .end(
              JSON.stringify({ sid, account_sid: TWILIO_SID, to: To, from: From, body: Body, status: "queued", num_segments: "1", direction: "outbound-api" }),
            ),
        );
      if (!early) return accept();
      const { status, answerAfterMs, extra, answered } = early;
      early = undefined;
      answered(sendCallback(message, status, extra));
      setTimeout(accept, answerAfterMs);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    messages,
    requests,
    failNext: (status, times) => {
      failures = { status, times };
    },
    callback: sendCallback,
    callBackBeforeAnswering: (status, answerAfterMs, extra = {}) =>
      // Settles as the callback's own answer does, once the next message is accepted.
      new Promise<number>((answered) => {
        early = { status, answerAfterMs, extra, answered };
      }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };

  async function sendCallback(message: SentSms, status: string, extra: Record<string, string> = {}, signWith = TWILIO_TOKEN): Promise<number> {
    if (!message.statusCallback) throw new Error("no StatusCallback was given for this message");
    const params = {
      AccountSid: TWILIO_SID,
      MessageSid: message.sid,
      MessageStatus: status,
      SmsSid: message.sid,
      SmsStatus: status,
      To: message.to,
      From: message.from,
      ...extra,
    };
    const response = await request(message.statusCallback, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": twilioSignature(signWith, message.statusCallback, params) },
      body: new URLSearchParams(params).toString(),
    });
    await response.body.text();
    return response.statusCode;
  }
}
