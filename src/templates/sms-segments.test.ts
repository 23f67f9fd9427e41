import { describe, expect, it } from "vitest";
import { countSms, SMS_MAX_CHARS } from "./sms-segments.js";

describe("SMS segments", () => {
  it("counts plain text as GSM-7: 160 characters are one segment, 161 are two of 153", () => {
    expect(countSms("a".repeat(160))).toEqual({ length: 160, encoding: "GSM-7", segments: 1, over_limit: false });
    expect(countSms("a".repeat(161))).toEqual({ length: 161, encoding: "GSM-7", segments: 2, over_limit: false });
    expect(countSms("a".repeat(306)).segments).toBe(2);
    expect(countSms("a".repeat(307)).segments).toBe(3);
  });

  it("counts an extension character such as € as two septets", () => {
    expect(countSms("€".repeat(80))).toMatchObject({ length: 80, encoding: "GSM-7", segments: 1 });
    expect(countSms(`${"€".repeat(80)}a`)).toMatchObject({ length: 81, encoding: "GSM-7", segments: 2 });
  });

  it("never splits an escape pair across segments", () => {
    // 152 septets, then € (2) does not fit in the first 153: it opens the second segment.
    expect(countSms(`${"a".repeat(152)}€${"a".repeat(10)}`).segments).toBe(2);
    expect(countSms(`${"a".repeat(152)}€${"a".repeat(152)}`).segments).toBe(3);
  });

  it("sends a message with an emoji or a character outside GSM-7 as UCS-2: 70 units, then 67 per segment", () => {
    expect(countSms("See you soon 🙂")).toMatchObject({ encoding: "UCS-2", segments: 1, length: 14 });
    expect(countSms("ç".repeat(70))).toMatchObject({ encoding: "UCS-2", segments: 1 });
    expect(countSms("ç".repeat(71))).toMatchObject({ encoding: "UCS-2", segments: 2 });
    expect(countSms("ç".repeat(135)).segments).toBe(3);
  });

  it("counts an emoji as two UTF-16 units and keeps its pair together", () => {
    expect(countSms("🙂".repeat(35))).toMatchObject({ length: 35, segments: 1 });
    expect(countSms("🙂".repeat(36))).toMatchObject({ length: 36, segments: 2 });
    expect(countSms(`${"ç".repeat(68)}🙂`).segments).toBe(1);
    // 66 units, then an emoji (2) does not fit in 67: 134 units take three segments, not two.
    expect(countSms(`${"ç".repeat(66)}🙂${"ç".repeat(66)}`).segments).toBe(3);
  });

  it("keeps GSM-7's accented letters (é, Ä, ñ) in GSM-7", () => {
    expect(countSms("Café Äñ").encoding).toBe("GSM-7");
  });

  it("flags a message over the provider's 1,600 characters", () => {
    expect(countSms("a".repeat(SMS_MAX_CHARS)).over_limit).toBe(false);
    expect(countSms("a".repeat(SMS_MAX_CHARS + 1)).over_limit).toBe(true);
  });
});
