/**
 * A SigV4-signed request written straight to a TCP socket, for what fetch will not do: announce
 * a Content-Length and send fewer bytes, hang up mid-body, or read the status before the body
 * has been sent.
 */
import { SignatureV4 } from "@smithy/signature-v4";
import { Sha256 } from "@aws-crypto/sha256-js";
import type { TestServer } from "./server.ts";

export interface RawRequest {
  method: string;
  /** Path as it goes on the wire (already URI-encoded). */
  path: string;
  /** Query parameters (signed; written URI-encoded). */
  query?: Record<string, string>;
  /** Extra headers; the payload is signed as UNSIGNED-PAYLOAD. */
  headers?: Record<string, string>;
  /** Bytes written after the headers (may be fewer than the Content-Length announces). */
  body?: Uint8Array;
  /** How long to wait for the response status before closing the connection. */
  waitMs?: number;
}

/** Sends the request and returns the response head (status line and headers), or null. */
export async function rawSignedRequest(srv: TestServer, r: RawRequest): Promise<string | null> {
  const u = new URL(srv.endpoint);
  const signer = new SignatureV4({
    service: "s3",
    region: "us-east-1",
    credentials: { accessKeyId: srv.accessKey, secretAccessKey: srv.secretKey },
    sha256: Sha256,
    uriEscapePath: false,
  });
  const signed = await signer.sign({
    method: r.method,
    protocol: "http:",
    hostname: u.hostname,
    port: Number(u.port),
    path: r.path,
    query: r.query ?? {},
    headers: { host: u.host, "x-amz-content-sha256": "UNSIGNED-PAYLOAD", ...r.headers },
  });
  const qs = Object.entries(r.query ?? {}).map(([k, v]) =>
    v === "" ? encodeURIComponent(k) : `${encodeURIComponent(k)}=${encodeURIComponent(v)}`
  ).join("&");
  const head = `${r.method} ${r.path}${qs ? "?" + qs : ""} HTTP/1.1\r\n` +
    Object.entries(signed.headers).map(([k, v]) => `${k}: ${v}\r\n`).join("") + "\r\n";
  const conn = await Deno.connect({ hostname: u.hostname, port: Number(u.port) });
  const timer = setTimeout(() => conn.close(), r.waitMs ?? 200);
  try {
    await conn.write(new TextEncoder().encode(head));
    const body = r.body ?? new Uint8Array(0);
    let off = 0;
    while (off < body.length) off += await conn.write(body.subarray(off));
    const buf = new Uint8Array(16 * 1024);
    const n = await conn.read(buf);
    return n === null ? null : new TextDecoder().decode(buf.subarray(0, n));
  } catch {
    return null; // closed by the timer (no answer in time) or by the server
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* already closed */ }
  }
}
