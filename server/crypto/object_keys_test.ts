import { assert, assertEquals, assertRejects } from "../../tests/_helpers/assert.ts";
import { createHash } from "node:crypto";
import { isS3Error } from "../s3/errors.ts";
import { Keyring } from "./keyring.ts";
import { createObjectKeys } from "./object_keys.ts";
import { TestKeyService } from "../../tests/_helpers/keys.ts";
import type { ObjectKeys } from "./types.ts";

const customer = (seed: number) => {
  const key = new Uint8Array(32).fill(seed);
  return { key, keyMd5: createHash("md5").update(key).digest("base64") };
};

async function withKeys(fn: (k: ObjectKeys, kms: TestKeyService) => Promise<void>, withKms = true) {
  const dir = await Deno.makeTempDir({ prefix: "maxiofs-objkeys-" });
  try {
    const keyring = await Keyring.open(dir);
    const kms = new TestKeyService();
    await kms.createKey("t1", { id: "testkey-1" });
    await fn(
      createObjectKeys({ keyring, kms: withKms ? kms : null, macSecret: keyring.secret }),
      kms,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function code(p: Promise<unknown>): Promise<string> {
  const e = await assertRejects(() => p);
  assert(isS3Error(e), `expected an S3 error, got ${e}`);
  return e.code;
}

Deno.test("SSE-S3 data keys are wrapped by the active master key", async () => {
  await withKeys(async (k) => {
    const a = await k.newDataKey("", { mode: "AES256" });
    assertEquals([a.enc.mode, a.enc.fmt, a.enc.seg, a.key.length], ["AES256", "seg1", 65536, 32]);
    assert(a.enc.kek.startsWith("m:"));
    assertEquals(await k.openDataKey("", a.enc), a.key);
    const b = await k.newDataKey("", { mode: "AES256" });
    assert(String(a.key) !== String(b.key), "a fresh key per object");
  });
});

Deno.test("SSE-C keeps only the key's MD5 and MAC; missing and other keys fail as AWS", async () => {
  await withKeys(async (k) => {
    const c = customer(1);
    const n = await k.newDataKey("", { mode: "SSE-C", ...c });
    assertEquals([n.enc.kek, n.enc.keyMd5, n.enc.keyMac?.length], ["c", c.keyMd5, 32]);
    assert(!JSON.stringify(n.enc).includes(String(c.key)), "the customer key is not stored");
    assertEquals(await k.openDataKey("", n.enc, c), n.key);
    assertEquals(await code(k.openDataKey("", n.enc)), "InvalidRequest");
    assertEquals(await code(k.openDataKey("", n.enc, customer(2))), "AccessDenied");
    const short = { key: new Uint8Array(16), keyMd5: "x" };
    assertEquals(await code(k.newDataKey("", { mode: "SSE-C", ...short })), "InvalidArgument");
  });
});

Deno.test("SSE-KMS asks the key service, with the context bound", async () => {
  await withKeys(async (k, kms) => {
    const context = btoa('{"a":"b"}');
    const n = await k.newDataKey("t1", { mode: "aws:kms", keyId: "testkey-1", context });
    assertEquals([n.enc.kek, n.enc.kmsKeyArn, n.enc.context], [
      "kms:testkey-1:1",
      "arn:aws:kms:us-east-1:t1:key/testkey-1",
      context,
    ]);
    assertEquals(await k.openDataKey("t1", n.enc), n.key);
    await assertRejects(() => k.openDataKey("t1", { ...n.enc, context: btoa("{}") }));
    await kms.rotateKey("t1", "testkey-1");
    assertEquals(await k.openDataKey("t1", n.enc), n.key, "older versions still open");
    const m = await k.newDataKey("t1", { mode: "aws:kms", keyId: "testkey-1" });
    assertEquals(m.enc.kek, "kms:testkey-1:2");
  });
  await withKeys(async (k) => {
    assertEquals(await code(k.newDataKey("", { mode: "aws:kms" })), "NotImplemented");
    const enc = { mode: "aws:kms", fmt: "seg1", seg: 1, dk: new Uint8Array(60), kek: "kms:a:1" };
    assertEquals(await code(k.openDataKey("", enc as never)), "NotImplemented");
  }, false);
});
