/**
 * Signs raw requests with the AWS SDK's own SigV4 signer (not ours), for the requests the SDK
 * will not send: bad XML, wrong Content-MD5, tampered bodies, skewed clocks, expired presigns.
 */
import { SignatureV4 } from "@smithy/signature-v4";
import { Sha256 } from "@aws-crypto/sha256-js";
import type { TestServer } from "./server.ts";

export interface SignedRequestInit {
  method: string;
  /** Path including bucket and key, already URI-encoded as it goes on the wire. */
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
  /** Signing time (default now). */
  date?: Date;
  /** Overrides the x-amz-content-sha256 value that is signed. */
  payloadHash?: string;
  accessKey?: string;
  secretKey?: string;
}

function signer(srv: TestServer, init: SignedRequestInit) {
  return new SignatureV4({
    service: "s3",
    region: "us-east-1",
    credentials: {
      accessKeyId: init.accessKey ?? srv.accessKey,
      secretAccessKey: init.secretKey ?? srv.secretKey,
    },
    sha256: Sha256,
    uriEscapePath: false,
    applyChecksum: true,
  });
}

function httpRequest(srv: TestServer, init: SignedRequestInit) {
  const u = new URL(srv.endpoint);
  const body = typeof init.body === "string" ? new TextEncoder().encode(init.body) : init.body;
  const headers: Record<string, string> = { host: u.host, ...init.headers };
  if (init.payloadHash) headers["x-amz-content-sha256"] = init.payloadHash;
  return {
    method: init.method,
    protocol: "http:",
    hostname: u.hostname,
    port: Number(u.port),
    path: init.path,
    query: init.query ?? {},
    headers,
    body,
  };
}

function toUrl(
  srv: TestServer,
  path: string,
  query: Record<string, string | string[] | null>,
): string {
  const qs = Object.entries(query).map(([k, v]) =>
    v === null || v === ""
      ? encodeURIComponent(k)
      : `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`
  ).join("&");
  return `${srv.endpoint}${path}${qs ? "?" + qs : ""}`;
}

/** Signs with the Authorization header and sends the request as given. */
export async function signedFetch(
  srv: TestServer,
  init: SignedRequestInit,
  tamper?: { body?: Uint8Array | string; headers?: Record<string, string> },
): Promise<Response> {
  const req = httpRequest(srv, init);
  const signed = await signer(srv, init).sign(req, { signingDate: init.date ?? new Date() });
  // Tampered values replace signed ones before they become Headers: a signed value may be text
  // that is no ByteString (non-ASCII metadata), sent as its bytes through `tamper`.
  const sent: Record<string, string> = { ...signed.headers as Record<string, string> };
  for (const [k, v] of Object.entries(tamper?.headers ?? {})) {
    for (const name of Object.keys(sent)) {
      if (name.toLowerCase() === k.toLowerCase()) delete sent[name];
    }
    sent[k] = v;
  }
  const headers = new Headers(sent);
  headers.delete("host");
  const body = tamper?.body ?? init.body;
  return await fetch(toUrl(srv, init.path, signed.query as Record<string, string>), {
    method: init.method,
    headers,
    body: body as BodyInit | undefined,
  });
}

/** A presigned URL made by the SDK's signer. */
export async function presignUrl(
  srv: TestServer,
  init: SignedRequestInit & { expiresIn: number },
): Promise<string> {
  const req = httpRequest(srv, { ...init, body: undefined });
  const signed = await signer(srv, init).presign(req, {
    expiresIn: init.expiresIn,
    signingDate: init.date ?? new Date(),
  });
  return toUrl(srv, init.path, signed.query as Record<string, string>);
}

/** Extracts `<Code>` from an S3 error document. */
export async function errorCode(res: Response): Promise<string | null> {
  const text = await res.text();
  return /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? null;
}

/**
 * Requests as `who` (an access key, or null: unsigned), for tests of who may do what. A colon in
 * the path (`tenant:bucket`) goes on the wire encoded, as SDKs send and sign it.
 */
export function requestsAs(srv: TestServer, who: { key: string; secret: string } | null) {
  return async (
    method: string,
    path: string,
    query: Record<string, string> = {},
    headers: Record<string, string> = {},
    body?: string,
  ): Promise<Response> => {
    const wire = path.replaceAll(":", "%3A");
    if (who === null) {
      const qs = new URLSearchParams(query).toString();
      return await fetch(`${srv.endpoint}${wire}${qs ? `?${qs}` : ""}`, {
        method,
        headers,
        body,
      });
    }
    return await signedFetch(srv, {
      method,
      path: wire,
      query,
      headers,
      body,
      accessKey: who.key,
      secretKey: who.secret,
    });
  };
}
