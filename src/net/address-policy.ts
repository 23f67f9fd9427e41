/**
 * Which addresses outbound requests may reach. Hookline lets strangers choose URLs its servers call,
 * so anything that is not globally reachable is refused unless the operator opened it on purpose
 * (HOOKLINE_ALLOWED_NETWORKS). The check is made on the resolved address that is then connected to
 * (guarded-lookup.ts), so a DNS answer cannot change between check and use.
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
  "192.88.99.0/24",
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
  "2001::/23", // IETF protocol assignments (Teredo, ORCHID…)
  "2001:db8::/32",
  "fc00::/7", // unique local
  "fe80::/10", // link-local
  "fec0::/10", // site-local (deprecated, still routed on some networks)
  "ff00::/8", // multicast
].map(parseCidr);

export interface AddressPolicy {
  /** Returns why the address may not be reached, or undefined when it may. */
  refusal(address: string): string | undefined;
}

/** The eight 16-bit groups of an IPv6 address (which must be valid). */
function ipv6Groups(address: string): number[] {
  let text = address;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1]) {
    const [a = 0, b = 0, c = 0, d = 0] = dotted[1].split(".").map(Number);
    text = `${text.slice(0, -dotted[1].length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = "", tail] = text.split("::");
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const zeros = tail === undefined ? [] : new Array(8 - h.length - t.length).fill("0");
  return [...h, ...zeros, ...t].map((g) => Number.parseInt(g, 16));
}

const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;

/**
 * The IPv4 host an IPv6 address reaches, for the forms that embed one: IPv4-mapped ::ffff:0:0/96
 * and IPv4-compatible ::/96 (the same host), NAT64 64:ff9b::/96 (translated to it), and 6to4
 * 2002::/16 (relayed to it). Such an address is judged as the IPv4 host it leads to.
 */
export function embeddedIPv4(address: string): string | undefined {
  const g = ipv6Groups(address);
  const [g0, g1, g2, g3, g4, g5, g6 = 0, g7 = 0] = g;
  const zeroTo = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (zeroTo(5) && g5 === 0xffff) return v4(g6, g7);
  if (zeroTo(6) && (g6 !== 0 || g7 > 1)) return v4(g6, g7);
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return v4(g6, g7);
  if (g0 === 0x2002) return v4(g1 ?? 0, g2 ?? 0);
  return undefined;
}

export function createAddressPolicy(allowed: readonly Cidr[]): AddressPolicy {
  const blocked: BlockList = blockListOf(NON_PUBLIC);
  const open: BlockList = blockListOf(allowed);
  return {
    refusal(raw) {
      let address = raw.startsWith("[") && raw.endsWith("]") ? raw.slice(1, -1) : raw;
      let family = isIP(address);
      if (family === 0) return `${raw} is not an IP address`;
      if (family === 6) {
        const inner = embeddedIPv4(address);
        if (inner) {
          address = inner;
          family = 4;
        }
      }
      const type = family === 4 ? "ipv4" : "ipv6";
      if (open.check(address, type)) return undefined;
      if (blocked.check(address, type)) return `${address} is a private or reserved address; allow it with HOOKLINE_ALLOWED_NETWORKS`;
      return undefined;
    },
  };
}
