/**
 * Which addresses outbound requests may reach. Hookline lets strangers choose URLs its servers call,
 * so anything that is not globally reachable is refused unless the operator opened it on purpose
 * (HOOKLINE_ALLOWED_NETWORKS). The check is made on the resolved address that is then connected to,
 * so a DNS answer cannot change between check and use.
 */
import { type BlockList, isIP } from "node:net";
import { blockListOf, type Cidr, parseCidr } from "./cidr.js";

/** Not globally reachable: RFC 6890 special-purpose ranges that a webhook must never be aimed at. */
const NON_PUBLIC = [
  "0.0.0.0/8", // "this network", incl. 0.0.0.0
  "10.0.0.0/8",
  "100.64.0.0/10", // CGNAT
  "127.0.0.0/8",
  "169.254.0.0/16", // link-local, incl. cloud metadata 169.254.169.254
  "172.16.0.0/12",
  "192.0.0.0/24",
  "192.0.2.0/24",
  "192.168.0.0/16",
  "198.18.0.0/15",
  "198.51.100.0/24",
  "203.0.113.0/24",
  "224.0.0.0/4", // multicast
  "240.0.0.0/4", // reserved, incl. broadcast
  "::/128",
  "::1/128",
  "64:ff9b:1::/48",
  "100::/64",
  "2001:db8::/32",
  "fc00::/7", // unique local
  "fe80::/10", // link-local
  "ff00::/8", // multicast
].map(parseCidr);

export interface AddressPolicy {
  /** Returns why the address may not be reached, or undefined when it may. */
  refusal(address: string): string | undefined;
}

export function createAddressPolicy(allowed: readonly Cidr[]): AddressPolicy {
  const blocked: BlockList = blockListOf(NON_PUBLIC);
  const open: BlockList = blockListOf(allowed);
  return {
    refusal(raw) {
      let address = raw.startsWith("[") && raw.endsWith("]") ? raw.slice(1, -1) : raw;
      let family = isIP(address);
      if (family === 0) return `${raw} is not an IP address`;
      // IPv4-mapped IPv6 (::ffff:127.0.0.1) reaches the IPv4 host: judge it as that host.
      const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
      if (mapped?.[1]) {
        address = mapped[1];
        family = 4;
      }
      const type = family === 4 ? "ipv4" : "ipv6";
      if (open.check(address, type)) return undefined;
      if (blocked.check(address, type)) {
        return `${address} is a private or reserved address; allow it with HOOKLINE_ALLOWED_NETWORKS`;
      }
      return undefined;
    },
  };
}
