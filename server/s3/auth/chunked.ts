/**
 * aws-chunked bodies: STREAMING-AWS4-HMAC-SHA256-PAYLOAD (every chunk signature verified),
 * STREAMING-UNSIGNED-PAYLOAD-TRAILER and STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER (trailing
 * checksum, and its signature, verified).
 *
 * The decoder is a byte-level state machine over the raw stream. Chunk data is passed on as
 * sub-arrays of the received buffers (no copies, no concatenation) while it is hashed; a chunk
 * whose signature fails errors the stream before it closes, so storage never publishes it.
 * Only framing lines (chunk headers, trailers) are buffered, and they are bounded.
 */
import { createHash, type Hash } from "node:crypto";
import { S3Error } from "../errors.ts";
import { EMPTY_SHA256, hexEqual, hmacHex, type Scope, sha256Hex } from "./sigv4.ts";

export interface SigningContext {
  /** The scope's signing key (kSigning). */
  key: Uint8Array;
  scope: Scope;
  amzDate: string;
  /** Signature of the request headers: the previous signature of the first chunk. */
  seedSignature: string;
}

export interface ChunkedOptions {
  mode: string;
  /** Null for presigned/unsigned requests. */
  signing: SigningContext | null;
  /** Names announced in x-amz-trailer (lower case). */
  trailerNames: string[];
  /** Filled with the trailing headers once the body has been read. */
  trailers: Map<string, string>;
  /** x-amz-decoded-content-length; a different payload size is `IncompleteBody`. */
  decodedLength?: number;
}

export const STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
export const STREAMING_SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
export const STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";

/** A chunk header or trailer line longer than this is not a client speaking aws-chunked. */
const MAX_LINE = 4096;
/** Total trailer section budget. */
const MAX_TRAILER_BYTES = 16 * 1024;
const CR = 13;
const LF = 10;

/** String to sign of one chunk (AWS4-HMAC-SHA256-PAYLOAD). */
export function chunkStringToSign(
  ctx: SigningContext,
  previousSignature: string,
  chunkSha256Hex: string,
): string {
  return [
    "AWS4-HMAC-SHA256-PAYLOAD",
    ctx.amzDate,
    `${ctx.scope.date}/${ctx.scope.region}/${ctx.scope.service}/aws4_request`,
    previousSignature,
    EMPTY_SHA256,
    chunkSha256Hex,
  ].join("\n");
}

/** String to sign of the trailer chunk (AWS4-HMAC-SHA256-TRAILER). */
export function trailerStringToSign(
  ctx: SigningContext,
  previousSignature: string,
  canonicalTrailers: string,
): string {
  return [
    "AWS4-HMAC-SHA256-TRAILER",
    ctx.amzDate,
    `${ctx.scope.date}/${ctx.scope.region}/${ctx.scope.service}/aws4_request`,
    previousSignature,
    sha256Hex(canonicalTrailers),
  ].join("\n");
}

function sign(ctx: SigningContext, sts: string): string {
  return hmacHex(ctx.key, sts);
}

const incomplete = (why: string) =>
  new S3Error("IncompleteBody", { message: `Cannot decode aws-chunked body: ${why}` });

const malformedTrailer = (why: string) =>
  new S3Error("MalformedTrailerError", { message: `Cannot parse trailing headers: ${why}` });

type State =
  | "header" // reading "hex-size[;ext]\r\n"
  | "data" // passing chunk bytes through
  | "dataCr" // expecting "\r" after data
  | "dataLf" // expecting "\n" after data
  | "trailer" // reading trailer lines until an empty one
  | "done"; // only an optional final CRLF / nothing may follow

/** Decodes an aws-chunked body into the payload bytes, verifying as it goes. */
export function decodeChunkedBody(
  raw: ReadableStream<Uint8Array>,
  opts: ChunkedOptions,
): ReadableStream<Uint8Array> {
  const signed = opts.mode === STREAMING_SIGNED || opts.mode === STREAMING_SIGNED_TRAILER;
  const withTrailer = opts.mode === STREAMING_SIGNED_TRAILER ||
    opts.mode === STREAMING_UNSIGNED_TRAILER;
  if (!signed && !withTrailer) {
    throw new S3Error("InvalidArgument", {
      message: `x-amz-content-sha256 value ${opts.mode} is not supported`,
      fields: { ArgumentName: "x-amz-content-sha256", ArgumentValue: opts.mode },
    });
  }
  if (signed && !opts.signing) {
    throw new S3Error("InvalidRequest", {
      message: `${opts.mode} requires Authorization header signing`,
    });
  }
  const signing = opts.signing;
  if (withTrailer && opts.trailerNames.length === 0) {
    throw new S3Error("InvalidRequest", {
      message: `${opts.mode} requires the x-amz-trailer header`,
    });
  }

  let state: State = "header";
  let prevSig = signing?.seedSignature ?? "";
  // Line assembly: pieces of the current line (usually one) and their total length.
  let linePieces: Uint8Array[] = [];
  let lineLen = 0;
  let trailerBytes = 0;
  let skippedBlank = false;
  const trailerLines: string[] = [];
  // Current chunk.
  let remaining = 0;
  let chunkSize = 0;
  let chunkSig = "";
  let hash: Hash | null = null;
  let decoded = 0;
  const dec = new TextDecoder();

  /** Appends bytes to the current line; returns the line (without CRLF) once complete. */
  function takeLine(buf: Uint8Array, pos: number): { line: string | null; pos: number } {
    const nl = buf.indexOf(LF, pos);
    const end = nl < 0 ? buf.length : nl;
    if (end > pos) {
      linePieces.push(buf.subarray(pos, end));
      lineLen += end - pos;
    }
    if (lineLen > MAX_LINE) throw incomplete("line too long");
    if (nl < 0) return { line: null, pos: buf.length };
    let bytes: Uint8Array;
    if (linePieces.length === 1) bytes = linePieces[0];
    else {
      bytes = new Uint8Array(lineLen);
      let o = 0;
      for (const p of linePieces) {
        bytes.set(p, o);
        o += p.length;
      }
    }
    linePieces = [];
    const n = lineLen;
    lineLen = 0;
    const trimmed = n > 0 && bytes[n - 1] === CR ? bytes.subarray(0, n - 1) : bytes;
    return { line: dec.decode(trimmed), pos: nl + 1 };
  }

  function startChunk(line: string): void {
    const semi = line.indexOf(";");
    const sizeText = (semi < 0 ? line : line.slice(0, semi)).trim();
    if (!/^[0-9a-fA-F]{1,16}$/.test(sizeText)) throw incomplete(`bad chunk size "${sizeText}"`);
    chunkSize = parseInt(sizeText, 16);
    if (!Number.isSafeInteger(chunkSize)) throw incomplete("chunk size too large");
    chunkSig = "";
    if (semi >= 0) {
      for (const ext of line.slice(semi + 1).split(";")) {
        const eq = ext.indexOf("=");
        if (eq > 0 && ext.slice(0, eq).trim() === "chunk-signature") {
          chunkSig = ext.slice(eq + 1).trim().toLowerCase();
        }
      }
    }
    if (signed && !/^[0-9a-f]{64}$/.test(chunkSig)) {
      throw new S3Error("SignatureDoesNotMatch", {
        message: "Missing or malformed chunk-signature",
      });
    }
    if (opts.decodedLength !== undefined && decoded + chunkSize > opts.decodedLength) {
      throw incomplete("more data than x-amz-decoded-content-length");
    }
    remaining = chunkSize;
    if (signed) hash = createHash("sha256");
    if (chunkSize === 0) {
      // The final chunk: its signature covers the empty payload.
      verifyChunk(EMPTY_SHA256);
      state = withTrailer ? "trailer" : "dataCr";
    } else state = "data";
  }

  function verifyChunk(payloadHash: string): void {
    if (!signed) return;
    const expected = sign(signing!, chunkStringToSign(signing!, prevSig, payloadHash));
    if (!hexEqual(chunkSig, expected)) {
      throw new S3Error("SignatureDoesNotMatch", {
        message: "The chunk signature we calculated does not match the signature you provided.",
      });
    }
    prevSig = expected;
  }

  function finishTrailers(): void {
    let trailerSig: string | null = null;
    const seen: [string, string][] = [];
    for (const l of trailerLines) {
      const i = l.indexOf(":");
      if (i <= 0) throw malformedTrailer(`"${l.slice(0, 64)}"`);
      const name = l.slice(0, i).trim().toLowerCase();
      const value = l.slice(i + 1).trim();
      if (name === "x-amz-trailer-signature") trailerSig = value.toLowerCase();
      else seen.push([name, value]);
    }
    for (const want of opts.trailerNames) {
      if (!seen.some(([n]) => n === want)) throw malformedTrailer(`missing trailer ${want}`);
    }
    for (const [n] of seen) {
      if (!opts.trailerNames.includes(n)) throw malformedTrailer(`unannounced trailer ${n}`);
    }
    if (signed) {
      if (trailerSig === null) {
        throw new S3Error("SignatureDoesNotMatch", { message: "Missing x-amz-trailer-signature" });
      }
      const canonical = seen.map(([n, v]) => `${n}:${v}\n`).join("");
      const expected = sign(signing!, trailerStringToSign(signing!, prevSig, canonical));
      if (!hexEqual(trailerSig, expected)) {
        throw new S3Error("SignatureDoesNotMatch", {
          message: "The trailer signature we calculated does not match the signature you provided.",
        });
      }
    }
    for (const [n, v] of seen) opts.trailers.set(n, v);
  }

  /** Consumes one received buffer; returns the payload pieces it contained. */
  function consume(buf: Uint8Array, out: Uint8Array[]): void {
    let pos = 0;
    while (pos < buf.length) {
      switch (state) {
        case "header": {
          const r = takeLine(buf, pos);
          pos = r.pos;
          if (r.line !== null) startChunk(r.line);
          break;
        }
        case "data": {
          const n = Math.min(remaining, buf.length - pos);
          const piece = buf.subarray(pos, pos + n);
          hash?.update(piece);
          out.push(piece);
          remaining -= n;
          decoded += n;
          pos += n;
          if (remaining === 0) state = "dataCr";
          break;
        }
        case "dataCr":
          if (buf[pos] !== CR) throw incomplete("chunk data not followed by CRLF");
          pos++;
          state = "dataLf";
          break;
        case "dataLf":
          if (buf[pos] !== LF) throw incomplete("chunk data not followed by CRLF");
          pos++;
          if (chunkSize === 0) {
            state = "done";
          } else {
            verifyChunk(hash ? hash.digest("hex") : "");
            hash = null;
            state = "header";
          }
          break;
        case "trailer": {
          const start = pos;
          const r = takeLine(buf, pos);
          trailerBytes += r.pos - start;
          if (trailerBytes > MAX_TRAILER_BYTES) throw malformedTrailer("too large");
          pos = r.pos;
          if (r.line === null) break;
          if (r.line === "" && trailerLines.length === 0 && !skippedBlank) {
            // Some encoders end the 0-length chunk with its (empty) data CRLF before trailers.
            skippedBlank = true;
          } else if (r.line === "") {
            finishTrailers();
            state = "done";
          } else trailerLines.push(r.line);
          break;
        }
        case "done":
          // Some clients end with an extra CRLF; anything else is not aws-chunked.
          if (buf[pos] !== CR && buf[pos] !== LF) throw incomplete("data after the final chunk");
          pos++;
          break;
      }
    }
  }

  function finish(): void {
    if (state === "trailer" && skippedBlank && trailerLines.length === 0 && lineLen === 0) {
      // "0\r\n\r\n" and the end: a complete body whose announced trailer never came.
      throw malformedTrailer(`missing trailer ${opts.trailerNames.join(", ")}`);
    }
    if (state === "trailer" && lineLen === 0 && trailerLines.length > 0) {
      // Tolerate a trailer section that ends without its blank line.
      finishTrailers();
      state = "done";
    } else if (state === "trailer" && lineLen > 0) {
      trailerLines.push(dec.decode(joinPieces()));
      finishTrailers();
      state = "done";
    }
    // A final chunk without its closing CRLF is accepted (the payload is complete).
    if (state !== "done" && !(state === "dataCr" && chunkSize === 0)) {
      throw incomplete("the body ended before the final chunk");
    }
    if (opts.decodedLength !== undefined && decoded !== opts.decodedLength) {
      throw incomplete("decoded length differs from x-amz-decoded-content-length");
    }
  }

  function joinPieces(): Uint8Array {
    const b = new Uint8Array(lineLen);
    let o = 0;
    for (const p of linePieces) {
      b.set(p, o);
      o += p.length;
    }
    const n = b.length;
    return n > 0 && b[n - 1] === CR ? b.subarray(0, n - 1) : b;
  }

  const reader = raw.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) {
            finish();
            ctrl.close();
            return;
          }
          const out: Uint8Array[] = [];
          consume(value, out);
          for (const p of out) if (p.length) ctrl.enqueue(p);
          if (out.length) return;
        }
      } catch (e) {
        reader.cancel().catch(() => {});
        throw e;
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}
