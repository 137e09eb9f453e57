import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  checkCustomerKey,
  checkUploadCustomerKey,
  customerKeyFrom,
  refuseSseHeaders,
  sseResponseHeaders,
  writeSseFrom,
} from "./sse.ts";
import { S3Error } from "./errors.ts";
import type { StoredEncryption } from "../crypto/types.ts";

const TLS = { secure: true, sseCOverHttp: false };
const KEY = new Uint8Array(32).map((_, i) => i + 1);
const KEY_B64 = btoa(String.fromCharCode(...KEY));
const KEY_MD5 = createHash("md5").update(KEY).digest("base64");

function ssec(extra: Record<string, string> = {}, prefix = "x-amz-"): Headers {
  return new Headers({
    [`${prefix}server-side-encryption-customer-algorithm`]: "AES256",
    [`${prefix}server-side-encryption-customer-key`]: KEY_B64,
    [`${prefix}server-side-encryption-customer-key-md5`]: KEY_MD5,
    ...extra,
  });
}

/** The S3 error `run` throws: [code, status, ArgumentName]. */
function errorOf(run: () => unknown): [string, number, string | undefined] {
  try {
    run();
  } catch (e) {
    assert.ok(e instanceof S3Error, String(e));
    return [e.code, e.status, e.fields.ArgumentName];
  }
  assert.fail("no error");
}

function enc(mode: StoredEncryption["mode"], extra: Partial<StoredEncryption> = {}) {
  return { mode, fmt: "seg1", seg: 65536, dk: new Uint8Array(60), kek: "m:1", ...extra } as const;
}

Deno.test("sse: a write asks for SSE-S3, SSE-KMS (key, context, bucket key) or SSE-C", () => {
  assert.equal(writeSseFrom(new Headers(), TLS), undefined);
  assert.deepEqual(writeSseFrom(new Headers({ "x-amz-server-side-encryption": "AES256" }), TLS), {
    mode: "AES256",
  });
  const context = btoa(JSON.stringify({ app: "x" }));
  assert.deepEqual(
    writeSseFrom(
      new Headers({
        "x-amz-server-side-encryption": "aws:kms",
        "x-amz-server-side-encryption-aws-kms-key-id": "testkey-1",
        "x-amz-server-side-encryption-context": context,
        "x-amz-server-side-encryption-bucket-key-enabled": "True",
      }),
      TLS,
    ),
    { mode: "aws:kms", keyId: "testkey-1", context, bucketKey: true },
  );
  assert.deepEqual(writeSseFrom(new Headers({ "x-amz-server-side-encryption": "aws:kms" }), TLS), {
    mode: "aws:kms",
  });
  assert.deepEqual(writeSseFrom(ssec(), TLS), { mode: "SSE-C", key: KEY, keyMd5: KEY_MD5 });
});

Deno.test("sse: bad write headers get AWS's errors", () => {
  const h = (o: Record<string, string>) => new Headers(o);
  const sse = "x-amz-server-side-encryption";
  assert.deepEqual(errorOf(() => writeSseFrom(h({ [sse]: "AES512" }), TLS)), [
    "InvalidArgument",
    400,
    sse,
  ]);
  assert.deepEqual(errorOf(() => writeSseFrom(h({ [sse]: "aws:kms:dsse" }), TLS)), [
    "NotImplemented",
    501,
    undefined,
  ]);
  // KMS key id or context without aws:kms.
  for (const mode of [null, "AES256"]) {
    const headers = h({ [`${sse}-aws-kms-key-id`]: "k" });
    if (mode) headers.set(sse, mode);
    assert.deepEqual(errorOf(() => writeSseFrom(headers, TLS)), ["InvalidArgument", 400, sse]);
  }
  assert.deepEqual(
    errorOf(() => writeSseFrom(h({ [sse]: "aws:kms", [`${sse}-context`]: "bm90IGpzb24=" }), TLS)),
    ["InvalidArgument", 400, `${sse}-context`],
  );
  assert.deepEqual(
    errorOf(() => writeSseFrom(h({ [sse]: "aws:kms", [`${sse}-context`]: btoa('{"a":1}') }), TLS)),
    ["InvalidArgument", 400, `${sse}-context`],
  );
  assert.deepEqual(
    errorOf(() => writeSseFrom(h({ [sse]: "aws:kms", [`${sse}-bucket-key-enabled`]: "yes" }), TLS)),
    ["InvalidArgument", 400, `${sse}-bucket-key-enabled`],
  );
  // SSE-C together with another method.
  assert.deepEqual(errorOf(() => writeSseFrom(ssec({ [sse]: "AES256" }), TLS)), [
    "InvalidArgument",
    400,
    sse,
  ]);
});

Deno.test("sse: SSE-C keys are checked as AWS checks them", () => {
  const alg = "x-amz-server-side-encryption-customer-algorithm";
  const key = "x-amz-server-side-encryption-customer-key";
  const md5 = "x-amz-server-side-encryption-customer-key-md5";
  const without = (name: string) => {
    const h = ssec();
    h.delete(name);
    return h;
  };
  const write = { forWrite: true };
  assert.deepEqual(errorOf(() => customerKeyFrom(without(alg), TLS, write)), [
    "InvalidArgument",
    400,
    alg,
  ]);
  assert.deepEqual(errorOf(() => customerKeyFrom(ssec({ [alg]: "AES128" }), TLS, write)), [
    "InvalidEncryptionAlgorithmError",
    400,
    alg,
  ]);
  assert.deepEqual(errorOf(() => customerKeyFrom(without(key), TLS, write)), [
    "InvalidArgument",
    400,
    key,
  ]);
  assert.deepEqual(errorOf(() => customerKeyFrom(without(md5), TLS, write)), [
    "InvalidArgument",
    400,
    md5,
  ]);
  // A read may leave the MD5 out (AWS answers 200).
  assert.deepEqual(customerKeyFrom(without(md5), TLS), { key: KEY, keyMd5: KEY_MD5 });
  assert.deepEqual(
    errorOf(() => customerKeyFrom(ssec({ [md5]: "AAAAAAAAAAAAAAAAAAAAAA==" }), TLS)),
    [
      "InvalidArgument",
      400,
      md5,
    ],
  );
  const short = new Uint8Array(16);
  const shortHeaders = ssec({
    [key]: btoa(String.fromCharCode(...short)),
    [md5]: createHash("md5").update(short).digest("base64"),
  });
  assert.deepEqual(errorOf(() => customerKeyFrom(shortHeaders, TLS, write)), [
    "InvalidArgument",
    400,
    key,
  ]);
  // On a read a key of another length is a wrong key (403), decided against the record.
  const presented = customerKeyFrom(shortHeaders, TLS)!;
  assert.deepEqual(
    errorOf(() => checkCustomerKey(enc("SSE-C", { keyMd5: KEY_MD5 }), presented)),
    ["AccessDenied", 403, undefined],
  );
  // Plain HTTP: refused unless the operator allows it.
  const http = { secure: false, sseCOverHttp: false };
  assert.deepEqual(errorOf(() => customerKeyFrom(ssec(), http, write)), [
    "InvalidRequest",
    400,
    undefined,
  ]);
  assert.ok(customerKeyFrom(ssec(), { secure: false, sseCOverHttp: true }, write));
  // The copy source's headers are their own set.
  assert.equal(customerKeyFrom(ssec(), TLS, { source: true }), undefined);
  assert.deepEqual(customerKeyFrom(ssec({}, "x-amz-copy-source-"), TLS, { source: true }), {
    key: KEY,
    keyMd5: KEY_MD5,
  });
});

Deno.test("sse: a read's key is checked against the record", () => {
  const customer = { key: KEY, keyMd5: KEY_MD5 };
  const other = { key: new Uint8Array(32), keyMd5: "other" };
  const stored = enc("SSE-C", { keyMd5: KEY_MD5 });
  checkCustomerKey(stored, customer);
  checkCustomerKey(undefined, undefined);
  checkCustomerKey(enc("AES256"), undefined);
  assert.deepEqual(errorOf(() => checkCustomerKey(stored, undefined)), [
    "InvalidRequest",
    400,
    undefined,
  ]);
  assert.deepEqual(errorOf(() => checkCustomerKey(stored, other)), [
    "AccessDenied",
    403,
    undefined,
  ]);
  assert.deepEqual(errorOf(() => checkCustomerKey(undefined, customer)), [
    "InvalidRequest",
    400,
    undefined,
  ]);
  assert.deepEqual(errorOf(() => checkCustomerKey(enc("AES256"), customer)), [
    "InvalidRequest",
    400,
    undefined,
  ]);
  // Parts of an SSE-C upload need the upload's key.
  checkUploadCustomerKey(stored, customer);
  checkUploadCustomerKey(undefined, undefined);
  assert.equal(errorOf(() => checkUploadCustomerKey(stored, undefined))[1], 400);
  assert.equal(errorOf(() => checkUploadCustomerKey(stored, other))[1], 400);
  assert.equal(errorOf(() => checkUploadCustomerKey(undefined, customer))[1], 400);
});

Deno.test("sse: reads refuse the write-only headers", () => {
  refuseSseHeaders(ssec());
  assert.deepEqual(
    errorOf(() => refuseSseHeaders(new Headers({ "x-amz-server-side-encryption": "aws:kms" }))),
    ["InvalidArgument", 400, "x-amz-server-side-encryption"],
  );
});

Deno.test("sse: stored encryption is echoed per mode", () => {
  assert.deepEqual(sseResponseHeaders(undefined), {});
  assert.deepEqual(sseResponseHeaders(enc("AES256")), { "x-amz-server-side-encryption": "AES256" });
  const kms = enc("aws:kms", {
    kmsKeyArn: "arn:aws:kms:us-east-1::key/testkey-1",
    context: "e30=",
    bucketKey: true,
  });
  assert.deepEqual(sseResponseHeaders(kms), {
    "x-amz-server-side-encryption": "aws:kms",
    "x-amz-server-side-encryption-aws-kms-key-id": "arn:aws:kms:us-east-1::key/testkey-1",
    "x-amz-server-side-encryption-bucket-key-enabled": "true",
  });
  assert.equal(
    sseResponseHeaders(kms, { context: true })["x-amz-server-side-encryption-context"],
    "e30=",
  );
  const c = enc("SSE-C", { keyMd5: KEY_MD5 });
  assert.deepEqual(sseResponseHeaders(c), {
    "x-amz-server-side-encryption-customer-algorithm": "AES256",
    "x-amz-server-side-encryption-customer-key-md5": KEY_MD5,
  });
  assert.deepEqual(sseResponseHeaders(c, { customer: false }), {});
});
