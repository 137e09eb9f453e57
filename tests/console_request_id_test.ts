/** Every console API response carries `x-request-id`, successes and errors alike, a new one each. */
import { assert, assertEquals } from "./_helpers/assert.ts";
import { startIamServer } from "./iam_fixture.ts";

Deno.test("console API responses carry a request id", async () => {
  const s = await startIamServer();
  try {
    const ok = await s.api("/health");
    const missing = await s.api("/no-such-endpoint");
    const denied = await s.api("/users");
    const listed = await s.api("/buckets", { token: s.adminToken });
    assertEquals([ok.status, missing.status, denied.status, listed.status], [200, 404, 401, 200]);
    const ids = [ok, missing, denied, listed].map((r) => r.headers.get("x-request-id"));
    for (const id of ids) assert(/^[0-9A-F]{16}$/.test(id ?? ""), `request id ${ids}`);
    assertEquals(new Set(ids).size, ids.length, "a new id per request");
  } finally {
    await s.stop();
  }
});
