/**
 * The server's key service wired into storage (server/app.ts): SSE-KMS writes through the
 * Backend get their data keys from the built-in key service, reads open them again, the records
 * name the key version, and the key's state and namespace are enforced on both paths.
 */
import { assert, assertEquals, s3ErrorOf } from "./_helpers/assert.ts";
import { startApp } from "./_helpers/app.ts";
import type { BucketRecord } from "../server/storage/types.ts";
import type { SseSpec } from "../server/crypto/types.ts";

const CONTEXT = btoa(JSON.stringify({ purpose: "storage" }));

function bodyOf(text: string): ReadableStream<Uint8Array> {
  return new Response(text).body!;
}

Deno.test("storage encrypts SSE-KMS objects with the server's key service", async () => {
  const s = await startApp();
  try {
    const { kms } = s.app;
    const backend = s.app.storage.backend;
    const key = await kms.createKey("", { id: "testkey-1" });
    const b = await backend.createBucket({ ns: "", name: "kms-store", ownerId: "o", region: "r" });
    const put = (bucket: BucketRecord, name: string, text: string, sse: SseSpec) =>
      backend.putObject(bucket, {
        key: name,
        body: bodyOf(text),
        contentLength: text.length,
        content: {},
        meta: {},
        ownerId: "o",
        sse,
      });
    const get = async (bucket: BucketRecord, name: string) =>
      await new Response((await backend.getObject(bucket, name, {})).body).text();

    const rec = await put(b, "a", "kms bytes", {
      mode: "aws:kms",
      keyId: "testkey-1",
      context: CONTEXT,
    });
    assertEquals(rec.enc?.kek, "kms:testkey-1:1");
    assertEquals(rec.enc?.kmsKeyArn, key.arn);
    assertEquals(await get(b, "a"), "kms bytes");

    // Rotated: new objects use version 2, the old one still opens.
    await kms.rotateKey("", "testkey-1");
    const after = await put(b, "b", "after", { mode: "aws:kms", keyId: key.arn });
    assertEquals(after.enc?.kek, "kms:testkey-1:2");
    assertEquals([await get(b, "a"), await get(b, "b")], ["kms bytes", "after"]);

    // Disabled: writes and reads refused; nothing stored.
    await kms.setKeyState("", "testkey-1", "Disabled");
    assertEquals(
      await s3ErrorOf(put(b, "c", "x", { mode: "aws:kms", keyId: "testkey-1" })),
      "400 KMS.DisabledException",
    );
    assertEquals(await s3ErrorOf(get(b, "a")), "400 KMS.DisabledException");
    assertEquals(await s3ErrorOf(backend.getObjectRecord(b, "c")), "404 NoSuchKey");
    await kms.setKeyState("", "testkey-1", "Enabled");
    assertEquals(await get(b, "a"), "kms bytes");

    // Unknown key; no key named: the default key.
    assertEquals(
      await s3ErrorOf(put(b, "d", "x", { mode: "aws:kms", keyId: "nokey" })),
      "400 KMS.NotFoundException",
    );
    const dflt = await put(b, "e", "default", { mode: "aws:kms" });
    assert(dflt.enc?.kek.startsWith("kms:") && !dflt.enc.kek.startsWith("kms:testkey-1:"));
    assertEquals(await get(b, "e"), "default");

    // A tenant's bucket: the global key's id is not found there.
    const t = await backend.createBucket({
      ns: "t1",
      name: "kms-tenant",
      ownerId: "o",
      region: "r",
    });
    assertEquals(
      await s3ErrorOf(put(t, "f", "x", { mode: "aws:kms", keyId: "testkey-1" })),
      "400 KMS.NotFoundException",
    );
    await kms.createKey("t1", { id: "testkey-1" });
    const own = await put(t, "f", "tenant", { mode: "aws:kms", keyId: "testkey-1" });
    assertEquals(own.enc?.kmsKeyArn, "arn:aws:kms:us-east-1:t1:key/testkey-1");
    assertEquals(await get(t, "f"), "tenant");
  } finally {
    await s.stop();
  }
});
