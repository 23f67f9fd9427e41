/**
 * Which addresses outbound requests may reach. Hookline lets strangers choose URLs its servers call,
 * so anything that is not globally reachable is refused unless the operator opened it on purpose
 * (HOOKLINE_ALLOWED_NETWORKS). The guard is the check made on the resolved address that is then
 * connected to (guarded-lookup.ts), so a DNS answer cannot change between check and use; the same
 * policy also refuses a URL when it is saved (host-check.ts), so a mistake shows at once.
 */
import { type BlockList, isIP } from "node:net";
import { blockListOf, type Cidr, parseCidr } from "./cidr.js";

/** A range outbound requests cannot reach, and what it is (ending with its RFC), named in refusals. */
interface Range {
  readonly cidr: Cidr;
  readonly is: string;
  /**
   * Cloud metadata services answer here and hand out the machine's credentials: no message ever
   * suggests opening it (an operator who must can still list it in HOOKLINE_ALLOWED_NETWORKS).
   */
  readonly metadata?: true;
}

const range = (cidr: string, is: string, metadata?: true): Range => ({ cidr: parseCidr(cidr), is, ...(metadata && { metadata }) });

/**
 * Not globally reachable: RFC 6890 special-purpose ranges that a webhook must never be aimed at.
 * The first range that holds an address names it, so the metadata hosts come before their ranges.
 */
const NON_PUBLIC: readonly Range[] = [
  range("169.254.169.254/32", "the cloud metadata address (link-local, RFC 3927)", true),
  range("fd00:ec2::254/128", "the cloud metadata address of AWS over IPv6 (unique local, RFC 4193)", true),
  range("100.100.100.200/32", "the cloud metadata address of Alibaba Cloud (shared CGNAT space, RFC 6598)", true),
  range("0.0.0.0/8", "a this-network address, not a host (RFC 1122)"),
  range("10.0.0.0/8", "a private address (RFC 1918)"),
  range("100.64.0.0/10", "a shared CGNAT address (RFC 6598)"),
  range("127.0.0.0/8", "a loopback address (RFC 1122)"),
  range("169.254.0.0/16", "a link-local address, where cloud metadata services answer (RFC 3927)", true),
  range("172.16.0.0/12", "a private address (RFC 1918)"),
  range("192.0.0.0/24", "an IETF protocol assignment (RFC 6890)"),
  range("192.0.2.0/24", "a documentation address (RFC 5737)"),
  range("192.88.99.0/24", "a 6to4 relay anycast address (RFC 7526)"),
  range("192.168.0.0/16", "a private address (RFC 1918)"),
  range("198.18.0.0/15", "a benchmarking address (RFC 2544)"),
  range("198.51.100.0/24", "a documentation address (RFC 5737)"),
  range("203.0.113.0/24", "a documentation address (RFC 5737)"),
  range("224.0.0.0/4", "a multicast address (RFC 5771)"),
  range("240.0.0.0/4", "a reserved or broadcast address (RFC 1112)"),
  range("::/128", "the unspecified address (RFC 4291)"),
  range("::1/128", "the loopback address (RFC 4291)"),
  range("64:ff9b:1::/48", "a local-use NAT64 address (RFC 8215)"),
  range("100::/64", "a discard-only address (RFC 6666)"),
  range("2001::/23", "an IETF protocol assignment (RFC 2928)"),
  range("2001:db8::/32", "a documentation address (RFC 3849)"),
  range("fc00::/7", "a unique local address (RFC 4193)"),
  range("fe80::/10", "a link-local address, where cloud metadata services answer (RFC 4291)", true),
  range("fec0::/10", "a site-local address (RFC 3879)"),
  range("ff00::/8", "a multicast address (RFC 4291)"),
];

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

/** Why `address` (as written, and the address it is judged as) is refused under `rule`. */
function refusalText(written: string, address: string, rule: Range): string {
  const subject = written === address ? address : `${written} (${address})`;
  const opening = rule.metadata ? "" : " unless HOOKLINE_ALLOWED_NETWORKS allows it";
  return `${subject} is ${rule.is}; outbound requests cannot reach it${opening}`;
}

export function createAddressPolicy(allowed: readonly Cidr[]): AddressPolicy {
  const open: BlockList = blockListOf(allowed);
  // All ranges in one list answer the common case (a public address) in one check; the list of
  // each range then names the rule of a refused one.
  const blocked: BlockList = blockListOf(NON_PUBLIC.map((r) => r.cidr));
  const ranges = NON_PUBLIC.map((rule) => ({ rule, list: blockListOf([rule.cidr]) }));
  return {
    refusal(raw) {
      const written = raw.startsWith("[") && raw.endsWith("]") ? raw.slice(1, -1) : raw;
      let address = written;
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
      if (open.check(address, type) || !blocked.check(address, type)) return undefined;
      const hit = ranges.find((r) => r.list.check(address, type));
      return hit && refusalText(written, address, hit.rule);
    },
  };
}

/**
 * Of the addresses a name resolves to, those the policy allows; when there are answers but none is
 * allowed, why. Both the delivery-time lookup and the save-time check judge a name this way. The
 * refusal does not say what the name resolved to, nor which rule refused it: an account would
 * otherwise map the operator's internal DNS through its test sends (a literal address, typed by
 * the account itself, is named with its rule).
 */
export function screenAnswers<A extends { address: string }>(
  policy: AddressPolicy,
  hostname: string,
  answers: readonly A[],
): { allowed: A[]; refusal?: string } {
  const allowed = answers.filter((a) => policy.refusal(a.address) === undefined);
  if (allowed.length > 0 || answers.length === 0) return { allowed };
  return { allowed, refusal: `${hostname} resolves to a private or reserved address; outbound requests cannot reach it` };
}
