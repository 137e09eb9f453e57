import { assert, assertEquals } from "../../tests/_helpers/assert.ts";
import { generatePassword, hashPassword, passwordProblem, verifyPassword } from "./passwords.ts";

Deno.test("scrypt hashes verify only the right password", async () => {
  const h = await hashPassword("correct horse");
  assert(h.startsWith("scrypt$32768$8$3$"));
  assertEquals(await verifyPassword("correct horse", h), true);
  assertEquals(await verifyPassword("correct horsf", h), false);
  assert(h !== await hashPassword("correct horse"), "salted");
});

Deno.test("password policy", () => {
  const p = {
    passwordMinLength: 10,
    passwordRequireUpper: true,
    passwordRequireLower: true,
    passwordRequireDigit: true,
    passwordRequireSymbol: false,
  };
  assert(passwordProblem("short", p));
  assert(passwordProblem("longenough1", p));
  assertEquals(passwordProblem("Longenough1", p), null);
  assertEquals(passwordProblem(generatePassword(), { ...p, passwordRequireSymbol: true }), null);
});
