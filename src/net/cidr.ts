import { BlockList, isIP } from "node:net";

export interface Cidr {
  readonly address: string;
  readonly prefix: number;
  readonly family: "ipv4" | "ipv6";
  readonly text: string;
}

/** Parses `10.0.0.0/8`, `::1/128` or a bare address (a single-host range). */
export function parseCidr(text: string): Cidr {
  const [address = "", prefixText] = text.split("/");
  const version = isIP(address);
  if (version === 0) throw new Error(`${JSON.stringify(text)} is not an IP range (expected e.g. 127.0.0.0/8)`);
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max || (prefixText !== undefined && !/^\d+$/.test(prefixText))) {
    throw new Error(`${JSON.stringify(text)} has an invalid prefix length (0-${max})`);
  }
  return { address, prefix, family: version === 4 ? "ipv4" : "ipv6", text };
}

export function blockListOf(cidrs: readonly Cidr[]): BlockList {
  const list = new BlockList();
  for (const c of cidrs) list.addSubnet(c.address, c.prefix, c.family);
  return list;
}
