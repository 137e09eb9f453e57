import assert from "node:assert/strict";
import { IamError } from "../../server/iam/errors.ts";
import { parsedJsonOf, readJson } from "./http.ts";

/** A POST whose body streams `chunks` with no Content-Length (as a chunked upload does). */
function streamed(chunks: Uint8Array[]): { req: Request; pulled: () => number } {
  let i = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      if (i < chunks.length) c.enqueue(chunks[i++]);
      else c.close();
    },
  });
  const req = new Request("http://console.test/api/v1/users", { method: "POST", body });
  return { req, pulled: () => i };
}

Deno.test("readJson: a body past 1 MiB without Content-Length is refused before it is all read", async () => {
  const mib = new Uint8Array(256 * 1024).fill(0x20);
  const { req, pulled } = streamed(Array.from({ length: 64 }, () => mib)); // 16 MiB
  const err = await readJson(req).then(() => null, (e) => e);
  assert.ok(err instanceof IamError && err.code === "InvalidRequest", String(err));
  assert.ok(pulled() <= 6, `read ${pulled()} chunks of 256 KiB`);
  assert.equal(parsedJsonOf(req), null);
});

Deno.test("readJson: a JSON object is read and remembered for the failure audit", async () => {
  const { req } = streamed([new TextEncoder().encode('{"name":"auditors","tenantId":"t1"}')]);
  assert.deepEqual(await readJson(req), { name: "auditors", tenantId: "t1" });
  assert.deepEqual(parsedJsonOf(req), { name: "auditors", tenantId: "t1" });
  for (const text of ["[1]", "not json", "42"]) {
    const r = streamed([new TextEncoder().encode(text)]).req;
    const e = await readJson(r).then(() => null, (x) => x);
    assert.ok(e instanceof IamError && e.code === "InvalidRequest", text);
    assert.equal(parsedJsonOf(r), null);
  }
  assert.deepEqual(await readJson(streamed([]).req), {});
});
