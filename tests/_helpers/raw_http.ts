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

/** The request head as it goes on the wire, signed with the server's root key. */
export async function signedHead(srv: TestServer, r: RawRequest): Promise<string> {
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
  return `${r.method} ${r.path}${qs ? "?" + qs : ""} HTTP/1.1\r\n` +
    Object.entries(signed.headers).map(([k, v]) => `${k}: ${v}\r\n`).join("") + "\r\n";
}

/** Sends the request and returns the response head (status line and headers), or null. */
export async function rawSignedRequest(srv: TestServer, r: RawRequest): Promise<string | null> {
  const u = new URL(srv.endpoint);
  const head = await signedHead(srv, r);
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

/**
 * Sends a request head (no body, whatever it announces), reads the answer, then keeps reading:
 * `closed` says whether the server closed the connection within `closeWithinMs` of the answer.
 * `hangUp`: close the sending side once the answer is in, as a client that gives up does.
 */
export async function rawExchange(
  srv: TestServer,
  head: string,
  r: { waitMs?: number; closeWithinMs: number; hangUp?: boolean },
): Promise<{ answer: string | null; closed: boolean }> {
  const u = new URL(srv.endpoint);
  const conn = await Deno.connect({ hostname: u.hostname, port: Number(u.port) });
  let timer = setTimeout(() => conn.close(), r.waitMs ?? 2000);
  const buf = new Uint8Array(16 * 1024);
  let answer: string | null = null;
  try {
    await conn.write(new TextEncoder().encode(head));
    const n = await conn.read(buf);
    if (n === null) return { answer, closed: true };
    answer = new TextDecoder().decode(buf.subarray(0, n));
    clearTimeout(timer);
    timer = setTimeout(() => conn.close(), r.closeWithinMs);
    if (r.hangUp) await conn.closeWrite();
    while (await conn.read(buf) !== null) { /* the rest of the answer */ }
    return { answer, closed: true };
  } catch {
    return { answer, closed: false }; // closed by the timer: no answer, or still open
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* already closed */ }
  }
}
