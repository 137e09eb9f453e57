/**
 * The lean sender against the SDK: the same records copied both ways to a local HTTP server that
 * captures the requests (same URL, headers and body apart from what identifies one request), and
 * to a second MaxIOFS (bytes, metadata, tags, checksum, lock, and the classes of its errors).
 */
import {
  CreateBucketCommand,
  GetObjectCommand,
  GetObjectRetentionCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
} from "@aws-sdk/client-s3";
import { assert, assertEquals } from "../../../tests/_helpers/assert.ts";
import { bodyBytes, startServer } from "../../../tests/_helpers/server.ts";
import type { ObjectRecord } from "../../storage/types.ts";
import type { Destination } from "./destinations.ts";
import {
  copyError,
  copyObject,
  deleteAtDestination,
  destinationClient,
  destinationIsNewer,
  type Sender,
} from "./copier.ts";
import { LeanSender, responseError } from "./lean_sender.ts";

/** Headers that differ between any two requests, or that one of the two HTTP stacks adds. */
const PER_REQUEST = new Set([
  "authorization",
  "x-amz-date",
  "user-agent",
  "x-amz-user-agent",
  "amz-sdk-invocation-id",
  "amz-sdk-request",
  "accept",
  "accept-encoding",
  "accept-language",
  "sec-fetch-mode",
  "connection",
]);

interface Captured {
  method: string;
  url: string;
  headers: Record<string, string>;
  signed: string[];
  body: number[];
}

function destination(endpoint: string, bucket = "dst"): Destination {
  return {
    ns: "",
    name: "d",
    endpoint,
    region: "us-east-1",
    bucket,
    pathStyle: true,
    conflict: "source",
    accessKey: "AKEXAMPLE",
    createdAt: 0,
    updatedAt: 0,
  };
}

function record(key: string, extra: Partial<ObjectRecord> = {}): ObjectRecord {
  return {
    v: 1,
    key,
    versionId: "v1",
    blob: null,
    size: 0,
    etag: '"x"',
    lastModified: 1_800_000_000_000,
    content: {},
    meta: {},
    storageClass: "STANDARD",
    ownerId: "o",
    ...extra,
  };
}

const FULL = (bytes: Uint8Array) =>
  record("dir/a b+(ü)!*.txt", {
    size: bytes.length,
    content: {
      contentType: "text/plain",
      contentEncoding: "identity",
      contentDisposition: "attachment",
      contentLanguage: "en",
      cacheControl: "max-age=5",
      expires: "Wed, 21 Oct 2026 07:28:00 GMT",
    },
    meta: { color: "blue", "Mixed-Case": "v" },
    tags: { team: "x y", "a&b": "1" },
    storageClass: "STANDARD_IA",
    checksum: { algorithm: "CRC32C", type: "FULL_OBJECT", value: "" },
    retention: { mode: "GOVERNANCE", until: Date.parse("2030-01-01T00:00:00.250Z") },
    legalHold: true,
  });

const opener = (bytes: Uint8Array) => () =>
  Promise.resolve(new Blob([bytes as Uint8Array<ArrayBuffer>]).stream());

/** A server that records each request and answers it with `answer` (default 200). */
function captureServer(answer: (req: Request) => Response | null = () => null) {
  const seen: Captured[] = [];
  const srv = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
    const body = [...new Uint8Array(await req.arrayBuffer())];
    const headers: Record<string, string> = {};
    for (const [k, v] of req.headers) if (!PER_REQUEST.has(k)) headers[k] = v;
    const auth = req.headers.get("authorization") ?? "";
    const signed = (/SignedHeaders=([^,]*)/.exec(auth)?.[1] ?? "").split(";")
      .filter((h) => !PER_REQUEST.has(h));
    seen.push({ method: req.method, url: req.url, headers, signed, body });
    return answer(req) ?? new Response(null, { headers: { etag: '"e"' } });
  });
  return { seen, endpoint: `http://127.0.0.1:${srv.addr.port}`, stop: () => srv.shutdown() };
}

/** The requests one copy makes through the SDK alone, then through the lean sender. */
async function bothWays(
  endpoint: string,
  seen: Captured[],
  run: (s: Sender, d: Destination) => Promise<void>,
  bucket?: string,
) {
  const d = destination(endpoint, bucket);
  const client = destinationClient(d, "secret");
  try {
    const errors: unknown[] = [];
    const sdk = seen.length;
    await run({ client }, d).catch((e) => errors.push(copyError(e)));
    const lean = seen.length;
    await run({ client, lean: new LeanSender(d, "secret") }, d).catch((e) =>
      errors.push(copyError(e))
    );
    return { sdk: seen.slice(sdk, lean), lean: seen.slice(lean), errors };
  } finally {
    client.destroy();
  }
}

const view = (e: unknown) => {
  const c = copyError(e);
  return { code: c.code, permanent: c.permanent, final: c.final };
};

Deno.test("lean sender: sends what the SDK sends for the same record, headers and body", async () => {
  const cap = captureServer();
  try {
    const bytes = new TextEncoder().encode("hello, replica");
    const cases: [string, ObjectRecord, Uint8Array][] = [
      ["every field", FULL(bytes), bytes],
      ["an empty object", record("empty"), new Uint8Array(0)],
      [
        "a composite checksum within a part, no lock",
        record("k", {
          size: 3,
          checksum: { algorithm: "SHA256", type: "COMPOSITE", value: "" },
          legalHold: false,
        }),
        new Uint8Array([1, 2, 3]),
      ],
    ];
    for (const [what, rec, body] of cases) {
      const { sdk, lean, errors } = await bothWays(
        cap.endpoint,
        cap.seen,
        (s, d) => copyObject(s, d, rec, opener(body), undefined),
      );
      assertEquals(errors, [], what);
      assertEquals(sdk.length, 1, what);
      assertEquals(lean, sdk, what);
      assertEquals(sdk[0].body.length, body.length, what);
    }
    const marker = await bothWays(
      cap.endpoint,
      cap.seen,
      (s, d) => deleteAtDestination(s, d, "dir/gone (1).txt"),
    );
    assertEquals(marker.lean, marker.sdk);
    assertEquals(marker.sdk[0].method, "DELETE");
    // The checksum the SDK computed is in the comparison: it is there.
    const full = cap.seen[0].headers;
    assertEquals(full["x-amz-sdk-checksum-algorithm"], "CRC32C");
    assert(full["x-amz-checksum-crc32c"], "checksum value");
    assertEquals(full["x-amz-object-lock-retain-until-date"], "2030-01-01T00:00:00.250Z");
  } finally {
    await cap.stop();
  }
});

Deno.test("lean sender: errors classify as the SDK's, and the lock fields are dropped the same way", async () => {
  const xmlError = (code: string, status: number) =>
    new Response(
      `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code>` +
        `<Message>it &amp; that</Message></Error>`,
      { status, headers: { "content-type": "application/xml" } },
    );
  const cap = captureServer((req) => {
    const url = new URL(req.url);
    if (url.pathname.startsWith("/nobucket/")) return xmlError("NoSuchBucket", 404);
    if (url.pathname.startsWith("/denied/")) return xmlError("AccessDenied", 403);
    if (url.pathname.startsWith("/slow/")) return xmlError("SlowDown", 503);
    if (req.headers.has("x-amz-object-lock-mode")) return xmlError("InvalidRequest", 400);
    return null;
  });
  try {
    const bytes = new Uint8Array([7, 7, 7]);
    for (const bucket of ["nobucket", "denied", "slow"]) {
      const put = await bothWays(
        cap.endpoint,
        cap.seen,
        (s, d) => copyObject(s, d, record("k", { size: 3 }), opener(bytes), undefined),
        bucket,
      );
      assertEquals(put.errors.length, 2, bucket);
      assertEquals(view(put.errors[1]), view(put.errors[0]), bucket);
      assertEquals(copyError(put.errors[1]).message, copyError(put.errors[0]).message);
      const del = await bothWays(
        cap.endpoint,
        cap.seen,
        (s, d) => deleteAtDestination(s, d, "k"),
        bucket,
      );
      assertEquals(del.errors.map(view), [view(put.errors[0]), view(put.errors[0])], bucket);
    }
    // A destination without Object Lock: the copy is sent again without the lock fields.
    const locked = await bothWays(
      cap.endpoint,
      cap.seen,
      (s, d) => copyObject(s, d, FULL(bytes), opener(bytes), undefined),
    );
    assertEquals(locked.errors, []);
    assertEquals(locked.sdk.length, 2);
    assertEquals(locked.lean, locked.sdk);
    assert(!("x-amz-object-lock-mode" in locked.sdk[1].headers));
  } finally {
    await cap.stop();
  }
  // Nothing listens: both fail the same way, retried soon.
  const closed = captureServer();
  const endpoint = closed.endpoint;
  await closed.stop();
  const refused = await bothWays(endpoint, [], (s, d) => deleteAtDestination(s, d, "k"));
  assertEquals(refused.errors.length, 2);
  assertEquals(view(refused.errors[1]), view(refused.errors[0]));
  assertEquals(view(refused.errors[0]).permanent, false);
});

Deno.test("lean sender: a copy to a second MaxIOFS keeps bytes, metadata, tags, checksum and lock", async () => {
  const dest = await startServer({ args: ["--allow-private-endpoints"] });
  const client = dest.client();
  try {
    await client.send(
      new CreateBucketCommand({ Bucket: "locked", ObjectLockEnabledForBucket: true }),
    );
    await client.send(new CreateBucketCommand({ Bucket: "plain" }));
    const d = { ...destination(dest.endpoint, "locked"), accessKey: dest.accessKey };
    const lean = new LeanSender(d, dest.secretKey);
    const sender: Sender = { client: destinationClient(d, dest.secretKey), lean };
    const bytes = crypto.getRandomValues(new Uint8Array(64 * 1024));
    const rec = FULL(bytes);
    try {
      await copyObject(sender, d, rec, opener(bytes), undefined);
      const got = await client.send(
        new GetObjectCommand({ Bucket: "locked", Key: rec.key, ChecksumMode: "ENABLED" }),
      );
      assertEquals(await bodyBytes(got.Body), bytes);
      assertEquals(got.ContentType, "text/plain");
      assertEquals(got.CacheControl, "max-age=5");
      assertEquals(got.ContentDisposition, "attachment");
      assertEquals(got.Metadata, { color: "blue", "mixed-case": "v" });
      assertEquals(got.StorageClass, "STANDARD_IA");
      assertEquals(got.ReplicationStatus, "REPLICA");
      assert(got.ChecksumCRC32C, "the checksum is stored");
      assertEquals(got.ObjectLockLegalHoldStatus, "ON");
      const ret = await client.send(
        new GetObjectRetentionCommand({ Bucket: "locked", Key: rec.key }),
      );
      assertEquals(ret.Retention?.Mode, "GOVERNANCE");
      const tags = await client.send(
        new GetObjectTaggingCommand({ Bucket: "locked", Key: rec.key }),
      );
      assertEquals(
        Object.fromEntries((tags.TagSet ?? []).map((t) => [t.Key, t.Value])),
        { team: "x y", "a&b": "1" },
      );
      // The "newer" policy's HEAD, and a delete marker.
      assert(await destinationIsNewer(sender, d, rec.key, 0));
      assertEquals(await destinationIsNewer(sender, d, "missing", 0), false);
      await deleteAtDestination(sender, d, "dir/plain");
      // A bucket without Object Lock: the copy lands without its lock fields.
      const plain = { ...d, bucket: "plain" };
      await copyObject(
        { ...sender, lean: new LeanSender(plain, dest.secretKey) },
        plain,
        rec,
        opener(bytes),
        undefined,
      );
      const h = await client.send(new HeadObjectCommand({ Bucket: "plain", Key: rec.key }));
      assertEquals(h.ContentLength, bytes.length);
      assertEquals(h.ObjectLockMode, undefined);
    } finally {
      sender.client.destroy();
    }
    // Errors: a missing bucket and a wrong secret classify as through the SDK.
    const small = record("e", { size: 3 });
    const body = new Uint8Array(3);
    for (
      const [what, bucket, secret] of [
        ["missing bucket", "nosuch", dest.secretKey],
        ["wrong secret", "plain", "wrong-secret"],
      ]
    ) {
      const dd = { ...d, bucket };
      const c = destinationClient(dd, secret);
      try {
        const viaSdk = await copyObject({ client: c }, dd, small, opener(body), undefined).then(
          () => null,
          view,
        );
        const viaLean = await copyObject(
          { client: c, lean: new LeanSender(dd, secret) },
          dd,
          small,
          opener(body),
          undefined,
        ).then(() => null, view);
        assert(viaSdk?.permanent, `${what}: ${JSON.stringify(viaSdk)}`);
        assertEquals(viaLean, viaSdk, what);
      } finally {
        c.destroy();
      }
    }
  } finally {
    await dest.stop();
  }
});

Deno.test("lean sender: an error answer's code and message, entities decoded; a body that is not XML", () => {
  const e = responseError(
    403,
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>' +
      "<Message>no &amp; never &lt;here&gt; &#233;</Message></Error>",
  );
  assertEquals([e.code, e.message, e.permanent], [
    "AccessDenied",
    "AccessDenied: no & never <here> é",
    true,
  ]);
  const page = responseError(404, "<html><body>not found</body>");
  assertEquals(page.code, "NotFound");
  assertEquals(responseError(500, "").code, "UnknownError");
});
