import { randomBytes } from "node:crypto";
import { expect, it } from "vitest";
import { createCipher } from "../secrets/cipher.js";
import { livePrevious, NO_PREVIOUS_SECRETS, ROTATION_GRACE_MS, rotatedAway, signingSecrets } from "./signing-secrets.js";

const cipher = createCipher(randomBytes(32));
const HOUR = 3600_000;

it("each secret rotated away signs for its own 24 hours, the current one always", () => {
  const [a, b, c] = ["whsec_a", "whsec_b", "whsec_c"].map((s) => cipher.seal(s)) as [string, string, string];
  const t0 = Date.UTC(2026, 11, 7, 12);
  // a rotated away at t0, b at t0 + 10 h; c is current.
  const previous = rotatedAway(rotatedAway(NO_PREVIOUS_SECRETS, a, t0), b, t0 + 10 * HOUR);
  expect(signingSecrets({ secret: c, previousSecrets: previous }, t0 + 11 * HOUR, cipher)).toEqual(["whsec_c", "whsec_a", "whsec_b"]);
  expect(signingSecrets({ secret: c, previousSecrets: previous }, t0 + ROTATION_GRACE_MS, cipher)).toEqual(["whsec_c", "whsec_b"]);
  expect(signingSecrets({ secret: c, previousSecrets: previous }, t0 + 10 * HOUR + ROTATION_GRACE_MS, cipher)).toEqual(["whsec_c"]);
});

it("a rotation drops the previous secrets that no longer sign", () => {
  const t0 = Date.UTC(2026, 11, 7, 12);
  const once = rotatedAway(NO_PREVIOUS_SECRETS, "sealed-a", t0);
  const twice = rotatedAway(once, "sealed-b", t0 + 25 * HOUR);
  expect(livePrevious(twice, 0)).toEqual([{ secret: "sealed-b", until: t0 + 25 * HOUR + ROTATION_GRACE_MS }]);
});
