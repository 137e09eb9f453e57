import { assertEquals } from "../../tests/_helpers/assert.ts";
import { ApiError, errorFrom, errorText, formatBytes, listOf, quotaLevel } from "./api.ts";
import { loginErrorMessage } from "../LoginForm.tsx";

Deno.test("quota bars turn amber at 80 % and red at 90 %", () => {
  assertEquals(quotaLevel(79, 100), "");
  assertEquals(quotaLevel(80, 100), "amber");
  assertEquals(quotaLevel(89.9, 100), "amber");
  assertEquals(quotaLevel(90, 100), "red");
  assertEquals(quotaLevel(500, 0), "");
});

Deno.test("API errors are read from the uniform error document", () => {
  const e = errorFrom(423, {
    error: { code: "AccountLocked", message: "locked", retryAfter: 600 },
  });
  assertEquals([e.status, e.code, e.message, e.retryAfter], [423, "AccountLocked", "locked", 600]);
  assertEquals(
    loginErrorMessage(e),
    "This account is locked after too many failed sign-ins. Try again in 10 min.",
  );
  assertEquals(
    loginErrorMessage(errorFrom(401, { error: { code: "InvalidCredentials", message: "x" } })),
    "Wrong username or password.",
  );
  assertEquals(errorFrom(502, null).code, "HTTP502");
});

Deno.test("listOf and formatBytes", () => {
  assertEquals(listOf<number>({ items: [1, 2] }), [1, 2]);
  assertEquals(listOf<number>([3]), [3]);
  assertEquals(listOf({}), []);
  assertEquals(formatBytes(20 * 1024 * 1024), "20.0 MiB");
  assertEquals(formatBytes(512), "512 B");
});

Deno.test("errorText: S3's Code and Message, or the message alone", () => {
  assertEquals(
    errorText(new ApiError(400, "MalformedPolicy", "Invalid principal in policy")),
    "MalformedPolicy: Invalid principal in policy",
  );
  assertEquals(errorText(new ApiError(0, "", "offline")), "offline");
  assertEquals(errorText(new Error("plain")), "plain");
});
