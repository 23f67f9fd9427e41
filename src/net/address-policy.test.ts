import type { LookupAddress } from "node:dns";
import { describe, expect, it } from "vitest";
import { createAddressPolicy, embeddedIPv4 } from "./address-policy.js";
import { parseCidr } from "./cidr.js";
import { BlockedAddressError, guardedLookup, type Resolve } from "./guarded-lookup.js";
import { createHostCheck } from "./host-check.js";

/** A DNS of fixed answers; any other name does not exist. */
const fakeDns =
  (answers: Record<string, LookupAddress[]>): Resolve =>
  async (hostname) => {
    const found = answers[hostname];
    if (found) return found;
    throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
  };

describe("address policy", () => {
  const closed = createAddressPolicy([]);
  it.each([
    "127.0.0.1",
    "127.255.255.254",
    "10.1.2.3",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "224.0.0.1",
    "255.255.255.255",
    "::1",
    "::",
    "fd00::1",
    "fe80::1",
    "ff02::1",
    "::ffff:127.0.0.1",
    "::ffff:7f00:1",
    "::ffff:a9fe:a9fe",
    "[::1]",
    "[::ffff:7f00:1]",
    "64:ff9b::7f00:1",
    "64:ff9b::a00:1",
    "2002:7f00:1::",
    "2002:c0a8:101::1",
    "::127.0.0.1",
  ])("refuses %s by default", (address) => {
    expect(closed.refusal(address)).toMatch(/ is .*RFC \d+\); outbound requests cannot reach it/);
  });

  it("names the rule that refuses an address, and the setting that would open it", () => {
    expect(closed.refusal("10.0.0.5")).toBe(
      "10.0.0.5 is a private address (RFC 1918); outbound requests cannot reach it unless HOOKLINE_ALLOWED_NETWORKS allows it",
    );
    expect(closed.refusal("127.0.0.1")).toMatch(/^127.0.0.1 is a loopback address \(RFC 1122\);.* unless HOOKLINE_ALLOWED_NETWORKS allows it$/);
    expect(closed.refusal("[fd00::1]")).toMatch(/^fd00::1 is a unique local address \(RFC 4193\);/);
    expect(closed.refusal("::ffff:7f00:1")).toMatch(/^::ffff:7f00:1 \(127.0.0.1\) is a loopback address/);
  });

  it.each(["169.254.169.254", "169.254.0.1", "::ffff:169.254.169.254", "fd00:ec2::254", "fe80::1", "100.100.100.200"])(
    "never suggests opening the link-local or cloud metadata address %s",
    (address) => {
      const refusal = closed.refusal(address);
      expect(refusal).toMatch(/cloud metadata/);
      expect(refusal).not.toMatch(/HOOKLINE_ALLOWED_NETWORKS|allow/i);
    },
  );

  it.each(["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808", "172.32.0.1", "11.0.0.1"])(
    "allows public %s",
    (address) => {
      expect(closed.refusal(address)).toBeUndefined();
    },
  );

  it("opens ranges named in HOOKLINE_ALLOWED_NETWORKS, and only those", () => {
    const open = createAddressPolicy([parseCidr("127.0.0.0/8")]);
    expect(open.refusal("127.0.0.1")).toBeUndefined();
    expect(open.refusal("::ffff:127.0.0.1")).toBeUndefined();
    expect(open.refusal("10.0.0.1")).toMatch(/private/);
    expect(open.refusal("::1")).toMatch(/loopback/);
  });

  it("finds the IPv4 host inside IPv6 forms that lead to one", () => {
    expect(embeddedIPv4("::ffff:7f00:1")).toBe("127.0.0.1");
    expect(embeddedIPv4("0:0:0:0:0:ffff:a9fe:a9fe")).toBe("169.254.169.254");
    expect(embeddedIPv4("64:ff9b::c0a8:1")).toBe("192.168.0.1");
    expect(embeddedIPv4("2002:0a00:0001::")).toBe("10.0.0.1");
    expect(embeddedIPv4("::1")).toBeUndefined();
    expect(embeddedIPv4("2606:4700::1111")).toBeUndefined();
  });
});

describe("guarded lookup", () => {
  const policy = createAddressPolicy([]);
  const resolver = (answers: LookupAddress[]) => async () => answers;
  const lookup = (answers: LookupAddress[], all: boolean) =>
    new Promise<{ error: Error | null; result: unknown }>((resolve) => {
      guardedLookup(policy, resolver(answers))("rebind.example", { all }, (error: Error | null, result: unknown) => resolve({ error, result }));
    });

  it("refuses a name that resolves only to private addresses, without saying what it resolved to", async () => {
    const { error } = await lookup([{ address: "127.0.0.1", family: 4 }], false);
    expect(error).toBeInstanceOf(BlockedAddressError);
    expect(error?.message).toBe("rebind.example resolves to a private or reserved address; outbound requests cannot reach it");
  });

  it("offers only the allowed answers of a name that resolves to both, so the socket cannot pick the private one", async () => {
    const answers = [
      { address: "10.0.0.5", family: 4 },
      { address: "93.184.216.34", family: 4 },
      { address: "::1", family: 6 },
    ];
    expect(await lookup(answers, true)).toEqual({ error: null, result: [{ address: "93.184.216.34", family: 4 }] });
    expect((await lookup(answers, false)).result).toBe("93.184.216.34");
  });
});

describe("host check at save", () => {
  const dns = fakeDns({
    "intranet.test": [
      { address: "10.0.0.5", family: 4 },
      { address: "fd00::5", family: 6 },
    ],
    "metadata.test": [{ address: "169.254.169.254", family: 4 }],
    "split.test": [
      { address: "10.0.0.6", family: 4 },
      { address: "93.184.216.34", family: 4 },
    ],
    "public.test": [{ address: "93.184.216.34", family: 4 }],
  });
  const check = createHostCheck(createAddressPolicy([]), { resolve: dns });

  it("judges a literal address without a lookup", async () => {
    const noLookup = createHostCheck(createAddressPolicy([]), {
      resolve: () => {
        throw new Error("looked up");
      },
    });
    expect(await noLookup.refusal("10.0.0.5")).toMatch(/^10.0.0.5 is a private address \(RFC 1918\)/);
    expect(await noLookup.refusal("[::1]")).toMatch(/^::1 is the loopback address/);
    expect(await noLookup.refusal("93.184.216.34")).toBeUndefined();
  });

  it("refuses a name that resolves only to refused addresses, naming neither the address nor its rule", async () => {
    // The same words for every rule: a different message per range would map internal DNS too.
    expect(await check.refusal("intranet.test")).toBe("intranet.test resolves to a private or reserved address; outbound requests cannot reach it");
    expect(await check.refusal("metadata.test")).toBe("metadata.test resolves to a private or reserved address; outbound requests cannot reach it");
  });

  it("accepts a name with one reachable address (connections use only that one)", async () => {
    expect(await check.refusal("split.test")).toBeUndefined();
    expect(await check.refusal("public.test")).toBeUndefined();
  });

  it("accepts a name that does not resolve yet, or whose lookup does not answer in time", async () => {
    expect(await check.refusal("not-yet.test")).toBeUndefined();
    const silent = createHostCheck(createAddressPolicy([]), { resolve: () => new Promise(() => {}), timeoutMs: 20 });
    expect(await silent.refusal("silent.test")).toBeUndefined();
  });

  it("opens what HOOKLINE_ALLOWED_NETWORKS opens, and only that", async () => {
    const open = createHostCheck(createAddressPolicy([parseCidr("10.0.0.0/8")]), { resolve: dns });
    expect(await open.refusal("intranet.test")).toBeUndefined();
    expect(await open.refusal("10.0.0.5")).toBeUndefined();
    expect(await open.refusal("192.168.1.1")).toMatch(/private address/);
  });

  it("resolves localhost with the system resolver by default", async () => {
    expect(await createHostCheck(createAddressPolicy([])).refusal("localhost")).toBe(
      "localhost resolves to a private or reserved address; outbound requests cannot reach it",
    );
    expect(await createHostCheck(createAddressPolicy([parseCidr("127.0.0.0/8"), parseCidr("::1/128")])).refusal("localhost")).toBeUndefined();
  });
});
