import { createHash, createHmac } from "node:crypto";
import type { Buffer } from "node:buffer";
import { assert, assertEquals, assertRejects } from "../../../tests/_helpers/assert.ts";
import { S3Error } from "../errors.ts";
import { decodeChunkedBody, type SigningContext } from "./chunked.ts";
import { deriveSigningKey } from "./sigv4.ts";

// An independent encoder: signing key and chunk signatures computed here with node:crypto,
// following the AWS documentation, not with the decoder's helpers.
const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const DATE = "20130524T000000Z";
const SCOPE = "20130524/us-east-1/s3/aws4_request";
const EMPTY = createHash("sha256").update("").digest("hex");

function key(): Buffer {
  let k = createHmac("sha256", "AWS4" + SECRET).update("20130524").digest();
  for (const p of ["us-east-1", "s3", "aws4_request"]) {
    k = createHmac("sha256", k).update(p).digest();
  }
  return k;
}

function chunkSig(prev: string, data: Uint8Array): string {
  const sts = `AWS4-HMAC-SHA256-PAYLOAD\n${DATE}\n${SCOPE}\n${prev}\n${EMPTY}\n${
    createHash("sha256").update(data).digest("hex")
  }`;
  return createHmac("sha256", key()).update(sts).digest("hex");
}

function trailerSig(prev: string, canonical: string): string {
  const sts = `AWS4-HMAC-SHA256-TRAILER\n${DATE}\n${SCOPE}\n${prev}\n${
    createHash("sha256").update(canonical).digest("hex")
  }`;
  return createHmac("sha256", key()).update(sts).digest("hex");
}

const enc = new TextEncoder();
const cat = (...parts: (string | Uint8Array)[]) => {
  const bufs = parts.map((p) => typeof p === "string" ? enc.encode(p) : p);
  const out = new Uint8Array(bufs.reduce((n, b) => n + b.length, 0));
  let o = 0;
  for (const b of bufs) {
    out.set(b, o);
    o += b.length;
  }
  return out;
};

/** Encodes data as signed aws-chunked, optionally with trailers; returns body and signatures. */
function encodeSigned(
  seed: string,
  chunks: Uint8Array[],
  trailers?: [string, string][],
): { body: Uint8Array; sigs: string[] } {
  const parts: (string | Uint8Array)[] = [];
  const sigs: string[] = [];
  let prev = seed;
  for (const c of [...chunks, new Uint8Array(0)]) {
    prev = chunkSig(prev, c);
    sigs.push(prev);
    parts.push(`${c.length.toString(16)};chunk-signature=${prev}\r\n`, c);
    if (c.length || !trailers) parts.push("\r\n");
  }
  if (trailers) {
    const canonical = trailers.map(([n, v]) => `${n}:${v}\n`).join("");
    for (const [n, v] of trailers) parts.push(`${n}:${v}\r\n`);
    parts.push(`x-amz-trailer-signature:${trailerSig(prev, canonical)}\r\n\r\n`);
  }
  return { body: cat(...parts), sigs };
}

function encodeUnsigned(chunks: Uint8Array[], trailers: [string, string][]): Uint8Array {
  const parts: (string | Uint8Array)[] = [];
  for (const c of chunks) parts.push(`${c.length.toString(16)}\r\n`, c, "\r\n");
  parts.push("0\r\n");
  for (const [n, v] of trailers) parts.push(`${n}:${v}\r\n`);
  parts.push("\r\n");
  return cat(...parts);
}

/** Feeds bytes in pieces of `step` to exercise every split point. */
function streamOf(b: Uint8Array, step = 7919): ReadableStream<Uint8Array> {
  let o = 0;
  return new ReadableStream({
    pull(c) {
      if (o >= b.length) return c.close();
      c.enqueue(b.slice(o, o + step));
      o += step;
    },
  });
}

async function readAll(s: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(s).arrayBuffer());
}

const SEED = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
const signing: SigningContext = {
  key: deriveSigningKey(SECRET, "20130524", "us-east-1", "s3"),
  scope: {
    accessKeyId: "AKIAIOSFODNN7EXAMPLE",
    date: "20130524",
    region: "us-east-1",
    service: "s3",
  },
  amzDate: DATE,
  seedSignature: SEED,
};

async function codeOf(p: Promise<unknown>): Promise<string> {
  const e = await assertRejects(() => p);
  assert(e instanceof S3Error, String(e));
  return e.code;
}

Deno.test("the encoder reproduces the AWS documentation example signatures", () => {
  const { sigs } = encodeSigned(SEED, [
    new Uint8Array(65536).fill(97),
    new Uint8Array(1024).fill(97),
  ]);
  assertEquals(sigs, [
    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
  ]);
});

Deno.test("signed chunks decode at every split size", async () => {
  const data = [new Uint8Array(65536).fill(97), new Uint8Array(1024).fill(98)];
  const { body } = encodeSigned(SEED, data);
  for (const step of [1, 2, 3, 85, 4096, 65536 + 90, body.length]) {
    const out = await readAll(
      decodeChunkedBody(streamOf(body, step), {
        mode: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        signing,
        trailerNames: [],
        trailers: new Map(),
        decodedLength: 66560,
      }),
    );
    assertEquals(out, cat(...data), `step ${step}`);
  }
});

Deno.test("a multi-MiB chunk streams through without being buffered whole", async () => {
  const big = new Uint8Array(8 * 1024 * 1024).fill(7);
  const { body } = encodeSigned(SEED, [big]);
  const s = decodeChunkedBody(streamOf(body, 65536), {
    mode: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    signing,
    trailerNames: [],
    trailers: new Map(),
  });
  let n = 0;
  let largest = 0;
  for await (const piece of s) {
    n += piece.length;
    largest = Math.max(largest, piece.length);
  }
  assertEquals(n, big.length);
  assert(largest <= 65536, `pieces are passed on as received (largest ${largest})`);
});

Deno.test("a tampered chunk, signature or final chunk is SignatureDoesNotMatch", async () => {
  const data = [new Uint8Array(3000).fill(1), new Uint8Array(10).fill(2)];
  const opts = () => ({
    mode: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    signing,
    trailerNames: [],
    trailers: new Map<string, string>(),
  });
  const { body } = encodeSigned(SEED, data);
  // Flip one data byte of the first chunk.
  const tampered = body.slice();
  tampered[100] ^= 1;
  assertEquals(
    await codeOf(readAll(decodeChunkedBody(streamOf(tampered), opts()))),
    "SignatureDoesNotMatch",
  );
  // Break the final (0-length) chunk's signature only.
  const text = new TextDecoder().decode(body);
  const i = text.lastIndexOf("0;chunk-signature=") + "0;chunk-signature=".length;
  const finalBad = body.slice();
  finalBad[i] = finalBad[i] === 48 ? 49 : 48;
  assertEquals(
    await codeOf(readAll(decodeChunkedBody(streamOf(finalBad), opts()))),
    "SignatureDoesNotMatch",
  );
  // A wrong seed (chunk chain not anchored at the request signature).
  const wrongSeed = encodeSigned("0".repeat(64), data).body;
  assertEquals(
    await codeOf(readAll(decodeChunkedBody(streamOf(wrongSeed), opts()))),
    "SignatureDoesNotMatch",
  );
  // The second chunk dropped: the final chunk's signature no longer chains.
  const { body: b2, sigs } = encodeSigned(SEED, data);
  const head = `${(3000).toString(16)};chunk-signature=${sigs[0]}\r\n`.length + 3000 + 2;
  const a = cat(b2.subarray(0, head), `0;chunk-signature=${sigs[2]}\r\n\r\n`);
  assertEquals(
    await codeOf(readAll(decodeChunkedBody(streamOf(a), opts()))),
    "SignatureDoesNotMatch",
  );
});

Deno.test("truncated or malformed framing is IncompleteBody", async () => {
  const { body } = encodeSigned(SEED, [new Uint8Array(500).fill(3)]);
  const opts = (decodedLength?: number) => ({
    mode: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    signing,
    trailerNames: [],
    trailers: new Map<string, string>(),
    decodedLength,
  });
  for (const cut of [10, 200, 560, body.length - 90]) {
    assertEquals(
      await codeOf(readAll(decodeChunkedBody(streamOf(body.subarray(0, cut)), opts()))),
      "IncompleteBody",
      `cut at ${cut}`,
    );
  }
  assertEquals(
    await codeOf(readAll(decodeChunkedBody(streamOf(body), opts(499)))),
    "IncompleteBody",
  );
  assertEquals(
    await codeOf(readAll(decodeChunkedBody(streamOf(body), opts(501)))),
    "IncompleteBody",
  );
  const garbage = enc.encode("zz;chunk-signature=00\r\nabc\r\n");
  assertEquals(
    await codeOf(readAll(decodeChunkedBody(streamOf(garbage), opts()))),
    "IncompleteBody",
  );
  const extra = cat(body, "junk");
  assertEquals(await codeOf(readAll(decodeChunkedBody(streamOf(extra), opts()))), "IncompleteBody");
});

Deno.test("unsigned payload with a trailing checksum fills the trailers", async () => {
  const data = [enc.encode("hello "), enc.encode("world")];
  const body = encodeUnsigned(data, [["x-amz-checksum-crc32", "DUoRhQ=="]]);
  for (const step of [1, 5, body.length]) {
    const trailers = new Map<string, string>();
    const out = await readAll(
      decodeChunkedBody(streamOf(body, step), {
        mode: "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        signing: null,
        trailerNames: ["x-amz-checksum-crc32"],
        trailers,
        decodedLength: 11,
      }),
    );
    assertEquals(new TextDecoder().decode(out), "hello world");
    assertEquals(trailers.get("x-amz-checksum-crc32"), "DUoRhQ==");
  }
  // The announced trailer is missing.
  const none = encodeUnsigned(data, []);
  assertEquals(
    await codeOf(readAll(decodeChunkedBody(streamOf(none), {
      mode: "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
      signing: null,
      trailerNames: ["x-amz-checksum-crc32"],
      trailers: new Map(),
    }))),
    "MalformedTrailerError",
  );
});

Deno.test("signed payload with a signed trailer verifies the trailer signature", async () => {
  const data = [new Uint8Array(70000).fill(5), new Uint8Array(33).fill(6)];
  const tr: [string, string][] = [["x-amz-checksum-crc32c", "sOO8/Q=="]];
  const { body } = encodeSigned(SEED, data, tr);
  const trailers = new Map<string, string>();
  const out = await readAll(
    decodeChunkedBody(streamOf(body, 1000), {
      mode: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
      signing,
      trailerNames: ["x-amz-checksum-crc32c"],
      trailers,
      decodedLength: 70033,
    }),
  );
  assertEquals(out, cat(...data));
  assertEquals(trailers.get("x-amz-checksum-crc32c"), "sOO8/Q==");
  // A changed trailer value no longer matches its signature.
  const forged = new TextDecoder("latin1").decode(body).replace("sOO8/Q==", "AAAAAA==");
  const forgedBytes = Uint8Array.from(forged, (c) => c.charCodeAt(0));
  assertEquals(
    await codeOf(readAll(decodeChunkedBody(streamOf(forgedBytes), {
      mode: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
      signing,
      trailerNames: ["x-amz-checksum-crc32c"],
      trailers: new Map(),
    }))),
    "SignatureDoesNotMatch",
  );
});

Deno.test("a blank line between the final chunk and the trailers is tolerated", async () => {
  const body = cat("5\r\nhello\r\n0\r\n\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n");
  const trailers = new Map<string, string>();
  const out = await readAll(
    decodeChunkedBody(streamOf(body, 3), {
      mode: "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
      signing: null,
      trailerNames: ["x-amz-checksum-crc32"],
      trailers,
      decodedLength: 5,
    }),
  );
  assertEquals(new TextDecoder().decode(out), "hello");
  assertEquals(trailers.get("x-amz-checksum-crc32"), "NhCmhg==");
});
