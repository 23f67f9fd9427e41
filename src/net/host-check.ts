/**
 * The check of a webhook URL's host when the URL is saved, so a private address is refused at once
 * rather than at the first delivery. It is feedback, not the guard: DNS can change after the save,
 * and every connection is still checked on the address it connects to (guarded-lookup.ts).
 *
 * A literal address is judged as it is. A name is resolved and refused only when every address it
 * resolves to is refused (a connection would use the allowed ones). A name that does not resolve
 * (yet), or whose lookup does not answer in time, is accepted: its DNS record may come after the
 * action, and the delivery-time check judges whatever it resolves to then.
 */
import { isIP } from "node:net";
import { type AddressPolicy, screenAnswers } from "./address-policy.js";
import { type Resolve, systemResolve } from "./guarded-lookup.js";

export interface HostCheck {
  /** Why outbound requests cannot reach `hostname` (a URL's hostname, IPv6 in brackets), or undefined. */
  refusal(hostname: string): Promise<string | undefined>;
}

export function createHostCheck(
  policy: AddressPolicy,
  { resolve = systemResolve, timeoutMs = 2_000 }: { resolve?: Resolve; timeoutMs?: number } = {},
): HostCheck {
  return {
    async refusal(hostname) {
      if (isIP(hostname.replace(/^\[(.*)\]$/, "$1")) !== 0) return policy.refusal(hostname);
      const answers = await within(resolve(hostname), timeoutMs).catch(() => []);
      return screenAnswers(policy, hostname, answers).refusal;
    },
  };
}

/** `promise`, or a rejection once `ms` have passed (an unanswered lookup must not hold a save). */
function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
