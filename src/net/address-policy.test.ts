import { describe, expect, it } from "vitest";
import { createAddressPolicy } from "./address-policy.js";
import { parseCidr } from "./cidr.js";

describe("address policy", () => {
  const closed = createAddressPolicy([]);
  it.each([
    "127.0.0.1",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "224.0.0.1",
    "::1",
    "fd00::1",
    "fe80::1",
    "::ffff:127.0.0.1",
    "[::1]",
  ])("refuses %s by default", (address) => {
    expect(closed.refusal(address)).toMatch(/private or reserved/);
  });

  it.each(["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])("allows public %s", (address) => {
    expect(closed.refusal(address)).toBeUndefined();
  });

  it("opens ranges named in HOOKLINE_ALLOWED_NETWORKS, and only those", () => {
    const open = createAddressPolicy([parseCidr("127.0.0.0/8")]);
    expect(open.refusal("127.0.0.1")).toBeUndefined();
    expect(open.refusal("::ffff:127.0.0.1")).toBeUndefined();
    expect(open.refusal("10.0.0.1")).toMatch(/private/);
  });
});
