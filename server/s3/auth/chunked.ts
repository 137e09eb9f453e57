/**
 * aws-chunked bodies: STREAMING-AWS4-HMAC-SHA256-PAYLOAD (every chunk signature verified),
 * STREAMING-UNSIGNED-PAYLOAD-TRAILER and STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER (trailing
 * checksum, and its signature, verified).
 */
import { S3Error } from "../errors.ts";
import type { Scope } from "./sigv4.ts";

export interface SigningContext {
  secret: string;
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
}

/** Decodes an aws-chunked body into the payload bytes, verifying as it goes. */
export function decodeChunkedBody(
  _raw: ReadableStream<Uint8Array>,
  opts: ChunkedOptions,
): ReadableStream<Uint8Array> {
  throw new S3Error("NotImplemented", { message: `${opts.mode} bodies are not implemented yet` });
}
