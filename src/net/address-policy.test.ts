import type { LookupAddress } from "node:dns";
import { describe, expect, it } from "vitest";
import { createAddressPolicy, embeddedIPv4 } from "./address-policy.js";
import { parseCidr } from "./cidr.js";
import { BlockedAddressError, guardedLookup } from "./guarded-lookup.js";

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
    expect(closed.refusal(address)).toMatch(/private or reserved/);
  });

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
    expect(open.refusal("::1")).toMatch(/private/);
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
  const resolver = (answers: LookupAddress[]) => (_host: string, cb: (e: null, a: LookupAddress[]) => void) => cb(null, answers);
  const lookup = (answers: LookupAddress[], all: boolean) =>
    new Promise<{ error: Error | null; result: unknown }>((resolve) => {
      guardedLookup(policy, resolver(answers))("rebind.example", { all }, (error: Error | null, result: unknown) => resolve({ error, result }));
    });

  it("refuses a name that resolves only to private addresses", async () => {
    const { error } = await lookup([{ address: "127.0.0.1", family: 4 }], false);
    expect(error).toBeInstanceOf(BlockedAddressError);
    expect(error?.message).toMatch(/rebind.example resolves to 127.0.0.1 is a private/);
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
