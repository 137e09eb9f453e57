/**
 * aws-chunked uploads end to end: chunk signatures, trailing checksums, payload hash checks.
 * Request headers are signed by the SDK's SigV4 signer; chunk and trailer signatures are its
 * `signString` over the string to sign AWS documents, so none of the server's code is reused.
 */
import { assert, assertEquals } from "./_helpers/assert.ts";
import {
  ChecksumAlgorithm,
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { SignatureV4 } from "@smithy/signature-v4";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { Sha256 } from "@aws-crypto/sha256-js";
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { bodyBytes, randomBytes, REGION, startServer, type TestServer } from "./_helpers/server.ts";
import { errorCode, signedFetch } from "./_helpers/signed_fetch.ts";
import { crc32Base64 } from "./_helpers/objects.ts";

const BUCKET = "chunked";
const EMPTY = createHash("sha256").update("").digest("hex");
const enc = new TextEncoder();

function cat(parts: (string | Uint8Array)[]): Uint8Array {
  const bufs = parts.map((p) => typeof p === "string" ? enc.encode(p) : p);
  const out = new Uint8Array(bufs.reduce((n, b) => n + b.length, 0));
  let o = 0;
  for (const b of bufs) {
    out.set(b, o);
    o += b.length;
  }
  return out;
}

interface ChunkedPut {
  mode:
    | "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
    | "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
    | "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
  chunks: Uint8Array[];
  trailer?: [string, string];
  /** Flip a byte of this chunk's data after signing. */
  tamperChunk?: number;
  /** Declare a different decoded length than the data has. */
  decodedLength?: number;
}

/** Frames the chunks; `sig(prev, data)` gives each chunk's signature (signed modes). */
async function frame(
  p: ChunkedPut,
  sig: ((prev: string, data: Uint8Array) => Promise<string>) | null,
  trailerSig: ((prev: string, canonical: string) => Promise<string>) | null,
  seed: string,
): Promise<Uint8Array> {
  const parts: (string | Uint8Array)[] = [];
  let prev = seed;
  for (const [i, c] of [...p.chunks, new Uint8Array(0)].entries()) {
    if (sig) {
      prev = await sig(prev, c);
      parts.push(`${c.length.toString(16)};chunk-signature=${prev}\r\n`);
    } else {
      parts.push(`${c.length.toString(16)}\r\n`);
    }
    let data = c;
    if (i === p.tamperChunk) {
      data = c.slice();
      data[0] ^= 0xff;
    }
    parts.push(data);
    if (c.length || !p.trailer) parts.push("\r\n");
  }
  if (p.trailer) {
    parts.push(`${p.trailer[0]}:${p.trailer[1]}\r\n`);
    if (trailerSig) {
      parts.push(
        `x-amz-trailer-signature:${await trailerSig(
          prev,
          `${p.trailer[0]}:${p.trailer[1]}\n`,
        )}\r\n`,
      );
    }
    parts.push("\r\n");
  }
  return cat(parts);
}

async function chunkedPut(srv: TestServer, key: string, p: ChunkedPut): Promise<Response> {
  const signer = new SignatureV4({
    service: "s3",
    region: REGION,
    credentials: { accessKeyId: srv.accessKey, secretAccessKey: srv.secretKey },
    sha256: Sha256,
    uriEscapePath: false,
    applyChecksum: false,
  });
  const signed = p.mode !== "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
  const date = new Date();
  const zero = () => Promise.resolve("0".repeat(64));
  // Signatures have a fixed length, so framing with placeholders gives the wire length.
  const placeholder = await frame(p, signed ? zero : null, signed ? zero : null, "");
  const u = new URL(srv.endpoint);
  const decoded = p.chunks.reduce((n, c) => n + c.length, 0);
  const headers: Record<string, string> = {
    host: u.host,
    "x-amz-content-sha256": p.mode,
    "content-encoding": "aws-chunked",
    "x-amz-decoded-content-length": String(p.decodedLength ?? decoded),
    "content-length": String(placeholder.length),
  };
  if (p.trailer) headers["x-amz-trailer"] = p.trailer[0];
  const req = await signer.sign({
    method: "PUT",
    protocol: "http:",
    hostname: u.hostname,
    port: Number(u.port),
    path: `/${BUCKET}/${key}`,
    query: {},
    headers,
  }, { signingDate: date });
  const auth = req.headers["authorization"];
  const seed = /Signature=([0-9a-f]{64})/.exec(auth)![1];
  const amzDate = req.headers["x-amz-date"];
  const scope = `${amzDate.slice(0, 8)}/${REGION}/s3/aws4_request`;
  const hex = (d: Uint8Array | string) => createHash("sha256").update(d).digest("hex");
  const body = await frame(
    p,
    signed
      ? (prev, data) =>
        signer.sign(
          ["AWS4-HMAC-SHA256-PAYLOAD", amzDate, scope, prev, EMPTY, hex(data)].join("\n"),
          { signingDate: date },
        )
      : null,
    signed
      ? (prev, canonical) =>
        signer.sign(
          ["AWS4-HMAC-SHA256-TRAILER", amzDate, scope, prev, hex(canonical)].join("\n"),
          { signingDate: date },
        )
      : null,
    seed,
  );
  assertEquals(body.length, placeholder.length);
  const h = new Headers(req.headers);
  h.delete("host");
  return await fetch(`${srv.endpoint}/${BUCKET}/${key}`, {
    method: "PUT",
    headers: h,
    body: body as BodyInit,
  });
}

Deno.test("aws-chunked and payload-hash verification end to end", async (t) => {
  const srv = await startServer();
  const s3 = srv.client();
  const get = async (key: string) =>
    await bodyBytes(
      (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body,
    );
  try {
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const old = enc.encode("previous content");

    await t.step("signed chunks are stored", async () => {
      const chunks = [randomBytes(65536, 3), randomBytes(65536, 4), randomBytes(1000, 5)];
      const res = await chunkedPut(srv, "signed", {
        mode: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        chunks,
      });
      assertEquals(res.status, 200, await res.text());
      assertEquals(await get("signed"), cat(chunks));
    });

    await t.step(
      "a tampered chunk is SignatureDoesNotMatch and the old content stays",
      async () => {
        await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "tamper", Body: old }));
        for (const tamperChunk of [0, 1]) {
          const res = await chunkedPut(srv, "tamper", {
            mode: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
            chunks: [randomBytes(70000, 6), randomBytes(500, 7)],
            tamperChunk,
          });
          assertEquals(res.status, 403);
          assertEquals(await errorCode(res), "SignatureDoesNotMatch");
          assertEquals(await get("tamper"), old);
        }
      },
    );

    await t.step("a short chunked body is IncompleteBody and nothing is stored", async () => {
      const res = await chunkedPut(srv, "tamper", {
        mode: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        chunks: [randomBytes(1000, 8)],
        decodedLength: 2000,
      });
      assertEquals(res.status, 400);
      assertEquals(await errorCode(res), "IncompleteBody");
      assertEquals(await get("tamper"), old);
    });

    await t.step("unsigned trailer: the right CRC32 is stored and returned", async () => {
      const data = randomBytes(200_000, 9);
      const crc = crc32Base64(data);
      const res = await chunkedPut(srv, "trailer-ok", {
        mode: "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        chunks: [data.subarray(0, 65536), data.subarray(65536)],
        trailer: ["x-amz-checksum-crc32", crc],
      });
      assertEquals(res.status, 200, await res.text());
      const head = await s3.send(
        new HeadObjectCommand({ Bucket: BUCKET, Key: "trailer-ok", ChecksumMode: "ENABLED" }),
      );
      assertEquals(head.ChecksumCRC32, crc);
      assertEquals(await get("trailer-ok"), data);
    });

    await t.step(
      "unsigned trailer: a wrong checksum is BadDigest and nothing is stored",
      async () => {
        await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "trailer-bad", Body: old }));
        const res = await chunkedPut(srv, "trailer-bad", {
          mode: "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
          chunks: [randomBytes(5000, 10)],
          trailer: ["x-amz-checksum-crc32", crc32Base64(enc.encode("other"))],
        });
        assertEquals(res.status, 400);
        assertEquals(await errorCode(res), "BadDigest");
        assertEquals(await get("trailer-bad"), old);
      },
    );

    await t.step("signed chunks with a signed trailer", async () => {
      const data = randomBytes(100_000, 11);
      const crc = crc32Base64(data);
      const ok = await chunkedPut(srv, "signed-trailer", {
        mode: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
        chunks: [data.subarray(0, 65536), data.subarray(65536)],
        trailer: ["x-amz-checksum-crc32", crc],
      });
      assertEquals(ok.status, 200, await ok.text());
      const head = await s3.send(
        new HeadObjectCommand({ Bucket: BUCKET, Key: "signed-trailer", ChecksumMode: "ENABLED" }),
      );
      assertEquals(head.ChecksumCRC32, crc);
      const bad = await chunkedPut(srv, "signed-trailer", {
        mode: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
        chunks: [randomBytes(3000, 12)],
        trailer: ["x-amz-checksum-crc32", crc32Base64(enc.encode("x"))],
      });
      assertEquals(bad.status, 400);
      assertEquals(await errorCode(bad), "BadDigest");
      assertEquals(await get("signed-trailer"), data);
    });

    await t.step("an unsigned aws-chunked body on a presigned URL is decoded", async () => {
      const data = randomBytes(90_000, 14);
      const url = await getSignedUrl(
        s3,
        new PutObjectCommand({ Bucket: BUCKET, Key: "presigned-chunked" }),
        { expiresIn: 300 },
      );
      const p: ChunkedPut = {
        mode: "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        chunks: [data.subarray(0, 50_000), data.subarray(50_000)],
        trailer: ["x-amz-checksum-crc32", crc32Base64(data)],
      };
      const res = await fetch(url, {
        method: "PUT",
        headers: {
          "content-encoding": "aws-chunked",
          "x-amz-content-sha256": p.mode,
          "x-amz-decoded-content-length": String(data.length),
          "x-amz-trailer": "x-amz-checksum-crc32",
        },
        body: (await frame(p, null, null, "")) as BodyInit,
      });
      assertEquals(res.status, 200, await res.text());
      assertEquals(await get("presigned-chunked"), data);
    });

    await t.step("a wrong x-amz-content-sha256 is XAmzContentSHA256Mismatch", async () => {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "hash", Body: old }));
      const res = await signedFetch(srv, {
        method: "PUT",
        path: `/${BUCKET}/hash`,
        body: "new body",
        payloadHash: createHash("sha256").update("something else").digest("hex"),
      });
      assertEquals(res.status, 400);
      assertEquals(await errorCode(res), "XAmzContentSHA256Mismatch");
      assertEquals(await get("hash"), old);
    });

    await t.step("UNSIGNED-PAYLOAD is accepted", async () => {
      const res = await signedFetch(srv, {
        method: "PUT",
        path: `/${BUCKET}/unsigned`,
        body: "unsigned body",
        payloadHash: "UNSIGNED-PAYLOAD",
      });
      assertEquals(res.status, 200, await res.text());
      assertEquals(new TextDecoder().decode(await get("unsigned")), "unsigned body");
    });

    await t.step("the SDK's default PutObject paths (flexible checksums) work", async () => {
      const data = randomBytes(300_000, 13);
      // Known length: checksum header; a stream of unknown length: aws-chunked with a trailer.
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "sdk-bytes", Body: data }));
      assertEquals(await get("sdk-bytes"), data);
      const stream = Readable.from([data.subarray(0, 100_000), data.subarray(100_000)]);
      await s3.send(
        new PutObjectCommand({
          Bucket: BUCKET,
          Key: "sdk-stream",
          Body: stream,
          ContentLength: data.length,
          ChecksumAlgorithm: ChecksumAlgorithm.CRC32,
        }),
      );
      const head = await s3.send(
        new HeadObjectCommand({ Bucket: BUCKET, Key: "sdk-stream", ChecksumMode: "ENABLED" }),
      );
      assertEquals(head.ChecksumCRC32, crc32Base64(data));
      assert(head.ContentLength === data.length);
      assertEquals(await get("sdk-stream"), data);
    });
  } finally {
    s3.destroy();
    await srv.stop();
  }
});
