/**
 * A DNS lookup for outbound sockets that refuses addresses the policy blocks. Passed as the socket's
 * `lookup`, so the address checked is the address connected to: no second resolution, no DNS
 * rebinding between check and use. Of several answers only the allowed ones are offered.
 */
import dns, { type LookupAddress } from "node:dns";
import type { LookupFunction } from "node:net";
import { type AddressPolicy, screenAnswers } from "./address-policy.js";

export class BlockedAddressError extends Error {
  readonly code = "EHOOKLINE_BLOCKED";
}

/** Every address a host name resolves to; injectable so tests can give names any answer. */
export type Resolve = (hostname: string) => Promise<LookupAddress[]>;

export const systemResolve: Resolve = (hostname) => dns.promises.lookup(hostname, { all: true });

export function guardedLookup(policy: AddressPolicy, resolve: Resolve = systemResolve): LookupFunction {
  return (hostname, options, callback) => {
    const answer = (all: LookupAddress[]) => {
      const addresses = options.family === 4 || options.family === 6 ? all.filter((a) => a.family === options.family) : all;
      const { allowed, refusal } = screenAnswers(policy, hostname, addresses);
      const first = allowed[0];
      if (!first) return callback(new BlockedAddressError(refusal ?? `${hostname} has no address`), "", 0);
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, allowed);
      callback(null, first.address, first.family);
    };
    resolve(hostname).then(answer, (error: NodeJS.ErrnoException) => callback(error, "", 0));
  };
}
