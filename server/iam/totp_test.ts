import { assertEquals } from "../../tests/_helpers/assert.ts";
import { base32Decode, base32Encode, hotp, totp, totpStep, verifyTotp } from "./totp.ts";

const RFC_SECRET = new TextEncoder().encode("12345678901234567890");

Deno.test("HOTP matches RFC 4226 appendix D", () => {
  const expected = ["755224", "287082", "359152", "969429", "338314", "254676"];
  expected.forEach((code, i) => assertEquals(hotp(RFC_SECRET, i), code));
});

Deno.test("TOTP matches RFC 6238 SHA1 vectors (8 digits) at injected times", () => {
  const vectors: [number, string][] = [
    [59, "94287082"],
    [1111111109, "07081804"],
    [1111111111, "14050471"],
    [1234567890, "89005924"],
    [2000000000, "69279037"],
    [20000000000, "65353130"],
  ];
  for (const [t, code] of vectors) assertEquals(totp(RFC_SECRET, t * 1000, 8), code);
});

Deno.test("verifyTotp accepts one step of drift and refuses replays", () => {
  const now = 1_700_000_000_000;
  const code = totp(RFC_SECRET, now);
  const step = verifyTotp(RFC_SECRET, code, now);
  assertEquals(step, totpStep(now));
  assertEquals(verifyTotp(RFC_SECRET, code, now + 30_000), totpStep(now));
  assertEquals(verifyTotp(RFC_SECRET, code, now + 90_000), null);
  assertEquals(verifyTotp(RFC_SECRET, code, now, step), null);
  assertEquals(verifyTotp(RFC_SECRET, "12345", now), null);
});

Deno.test("base32 round trip", () => {
  const bytes = crypto.getRandomValues(new Uint8Array(20));
  assertEquals(base32Decode(base32Encode(bytes)), bytes);
  assertEquals(base32Encode(new TextEncoder().encode("foobar")), "MZXW6YTBOI");
});
