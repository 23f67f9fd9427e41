/**
 * A DNS lookup for outbound sockets that refuses addresses the policy blocks. Passed as the socket's
 * `lookup`, so the address checked is the address connected to: no second resolution, no DNS
 * rebinding between check and use. Of several answers only the allowed ones are offered.
 */
import dns from "node:dns";
import type { LookupFunction } from "node:net";
import type { AddressPolicy } from "./address-policy.js";

export class BlockedAddressError extends Error {
  readonly code = "EHOOKLINE_BLOCKED";
}

type Resolve = (hostname: string, callback: (error: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[]) => void) => void;

const systemResolve: Resolve = (hostname, callback) => dns.lookup(hostname, { all: true }, callback);

export function guardedLookup(policy: AddressPolicy, resolve: Resolve = systemResolve): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, (error, all) => {
      if (error) return callback(error, "", 0);
      const addresses = options.family === 4 || options.family === 6 ? all.filter((a) => a.family === options.family) : all;
      const allowed = addresses.filter((a) => policy.refusal(a.address) === undefined);
      if (allowed.length === 0) {
        const reason = addresses[0] ? policy.refusal(addresses[0].address) : "no address";
        return callback(new BlockedAddressError(`${hostname} resolves to ${reason}`), "", 0);
      }
      if (options.all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, allowed);
      const first = allowed[0] as dns.LookupAddress;
      callback(null, first.address, first.family);
    });
  };
}
