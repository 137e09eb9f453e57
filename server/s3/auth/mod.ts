/**
 * Request authentication. Returns the principal and the request body as a stream that is
 * verified as it is read (payload hash, chunk signatures, trailing checksums): a verification
 * failure errors the stream with an S3Error, so storage never publishes unverified bytes.
 */
import { S3Error } from "../errors.ts";
import type { RequestTarget } from "../endpoint.ts";
import type { CredentialStore, Principal } from "../../iam/types.ts";
import {
  ALGORITHM,
  canonicalRequests,
  EMPTY_SHA256,
  hexEqual,
  MAX_SKEW_MS,
  parseAmzDate,
  parseAuthorizationHeader,
  parseCredential,
  parseRawQuery,
  type Scope,
  signatureFor,
  type SigningKeys,
  stringToSign,
} from "./sigv4.ts";
import { sha256VerifiedStream } from "./payload.ts";
import { decodeChunkedBody, type SigningContext } from "./chunked.ts";
import { authenticateV2 } from "./sigv2.ts";

export type AuthMethod =
  | "v4"
  | "v4-presigned"
  | "v2"
  | "v2-presigned"
  | "post-policy"
  | "in-process"
  | "anonymous";

export interface AuthResult {
  principal: Principal | null;
  accessKeyId: string | null;
  method: AuthMethod;
  /** The body, verified while read; null when the request has none. */
  body: ReadableStream<Uint8Array> | null;
  /** Decoded content length (x-amz-decoded-content-length for aws-chunked bodies). */
  contentLength: number | null;
  /** Trailing headers (e.g. x-amz-checksum-crc32), filled once the body has been read. */
  trailers: Map<string, string>;
}

export interface AuthDeps {
  credentials: CredentialStore;
  now: () => number;
  /** Derived signing keys, kept by the handler across requests. */
  signingKeys: SigningKeys;
}

export function contentLengthOf(req: Request): number | null {
  const cl = req.headers.get("content-length");
  if (cl === null) return null;
  if (!/^\d+$/.test(cl)) {
    throw new S3Error("InvalidArgument", { message: "Invalid Content-Length" });
  }
  return Number(cl);
}

export async function lookupSecret(
  deps: AuthDeps,
  accessKeyId: string,
): Promise<{ secret: string; principal: Principal }> {
  const cred = await deps.credentials.lookup(accessKeyId);
  if (!cred) throw new S3Error("InvalidAccessKeyId", { fields: { AWSAccessKeyId: accessKeyId } });
  return { secret: cred.secretAccessKey, principal: cred.principal };
}

function checkSkew(deps: AuthDeps, t: number): void {
  const now = deps.now();
  if (Math.abs(now - t) > MAX_SKEW_MS) {
    throw new S3Error("RequestTimeTooSkewed", {
      fields: {
        RequestTime: new Date(t).toISOString(),
        ServerTime: new Date(now).toISOString(),
        MaxAllowedSkewMilliseconds: String(MAX_SKEW_MS),
      },
    });
  }
}

function signatureMismatch(sts: string, canonical: string, accessKeyId: string): S3Error {
  return new S3Error("SignatureDoesNotMatch", {
    fields: { AWSAccessKeyId: accessKeyId, StringToSign: sts, CanonicalRequest: canonical },
  });
}

/** Wraps the raw body according to x-amz-content-sha256. */
export function verifiedBody(
  req: Request,
  payloadHash: string,
  signing: SigningContext | null,
  trailers: Map<string, string>,
): { body: ReadableStream<Uint8Array> | null; contentLength: number | null } {
  const raw = req.body;
  const cl = contentLengthOf(req);
  if (payloadHash.startsWith("STREAMING-")) {
    if (payloadHash.includes("ECDSA")) {
      throw new S3Error("NotImplemented", {
        message: "SigV4a streaming signatures are not implemented",
      });
    }
    const decoded = req.headers.get("x-amz-decoded-content-length");
    if (decoded === null || !/^\d+$/.test(decoded)) throw new S3Error("MissingContentLength");
    if (!raw) throw new S3Error("IncompleteBody");
    const body = decodeChunkedBody(raw, {
      mode: payloadHash,
      signing,
      trailerNames: (req.headers.get("x-amz-trailer") ?? "").split(",").map((s) =>
        s.trim().toLowerCase()
      )
        .filter(Boolean),
      trailers,
      decodedLength: Number(decoded),
    });
    return { body, contentLength: Number(decoded) };
  }
  if (!raw) {
    if (payloadHash !== "UNSIGNED-PAYLOAD" && /^[0-9a-f]{64}$/.test(payloadHash)) {
      // Empty body: the hash must be of the empty string.
      return {
        body: sha256VerifiedStream(new ReadableStream({ start: (c) => c.close() }), payloadHash),
        contentLength: 0,
      };
    }
    return { body: null, contentLength: cl ?? 0 };
  }
  if (payloadHash === "UNSIGNED-PAYLOAD") return { body: raw, contentLength: cl };
  return { body: sha256VerifiedStream(raw, payloadHash), contentLength: cl };
}

async function authenticateV4Header(
  req: Request,
  target: RequestTarget,
  deps: AuthDeps,
  auth: string,
): Promise<AuthResult> {
  const parsed = parseAuthorizationHeader(auth);
  const payloadHash = req.headers.get("x-amz-content-sha256");
  if (!payloadHash) {
    throw new S3Error("InvalidRequest", {
      message: "Missing required header for this request: x-amz-content-sha256",
    });
  }
  if (
    !/^[0-9a-f]{64}$/.test(payloadHash) && payloadHash !== "UNSIGNED-PAYLOAD" &&
    !payloadHash.startsWith("STREAMING-")
  ) {
    throw new S3Error("InvalidArgument", {
      message:
        "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-... or a valid sha256 value.",
    });
  }
  const amzDate = req.headers.get("x-amz-date") ?? "";
  let t = parseAmzDate(amzDate);
  if (t === null) {
    const d = req.headers.get("date");
    t = d ? Date.parse(d) : NaN;
    if (Number.isNaN(t)) {
      throw new S3Error("AccessDenied", {
        message: "AWS authentication requires a valid Date or x-amz-date header",
      });
    }
  }
  if (!parsed.signedHeaders.includes("host")) {
    throw new S3Error("AuthorizationHeaderMalformed", {
      message: "SignedHeaders must include host",
    });
  }
  const { secret, principal } = await lookupSecret(deps, parsed.scope.accessKeyId);
  checkSkew(deps, t);
  const canonicals = canonicalRequests({
    method: req.method,
    target,
    headers: req.headers,
    signedHeaders: parsed.signedHeaders,
    payloadHash,
  });
  // Chunk and trailer signatures reuse the request's timestamp string.
  const signedDate = amzDate || new Date(t).toISOString().replace(/[-:]|\.\d{3}/g, "");
  if (signedDate.slice(0, 8) !== parsed.scope.date) {
    throw new S3Error("AuthorizationHeaderMalformed", {
      message:
        `Invalid credential date "${parsed.scope.date}". This date is not the same as X-Amz-Date: "${
          signedDate.slice(0, 8)
        }".`,
    });
  }
  const key = deps.signingKeys.of(secret, parsed.scope);
  const matches = canonicals.some((c) =>
    hexEqual(parsed.signature, signatureFor(key, stringToSign(signedDate, parsed.scope, c)))
  );
  if (!matches) {
    const sts = stringToSign(signedDate, parsed.scope, canonicals[0]);
    throw signatureMismatch(sts, canonicals[0], parsed.scope.accessKeyId);
  }
  deps.credentials.touch?.(parsed.scope.accessKeyId);
  const trailers = new Map<string, string>();
  const signing: SigningContext = {
    key,
    scope: parsed.scope,
    amzDate: signedDate,
    seedSignature: parsed.signature,
  };
  const { body, contentLength } = verifiedBody(req, payloadHash, signing, trailers);
  return {
    principal,
    accessKeyId: parsed.scope.accessKeyId,
    method: "v4",
    body,
    contentLength,
    trailers,
  };
}

const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

async function authenticateV4Presigned(
  req: Request,
  target: RequestTarget,
  deps: AuthDeps,
): Promise<AuthResult> {
  const q = new Map(parseRawQuery(target.rawQuery));
  const need = (k: string) => {
    const v = q.get(k);
    if (v === undefined || v === "") {
      throw new S3Error("AuthorizationQueryParametersError", {
        message:
          `Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.`,
      });
    }
    return v;
  };
  if (need("X-Amz-Algorithm") !== ALGORITHM) {
    throw new S3Error("AuthorizationQueryParametersError", {
      message: 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"',
    });
  }
  const scope: Scope = parseCredential(
    need("X-Amz-Credential"),
    "AuthorizationQueryParametersError",
  );
  const amzDate = need("X-Amz-Date");
  const t = parseAmzDate(amzDate);
  if (t === null) {
    throw new S3Error("AuthorizationQueryParametersError", {
      message: "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"",
    });
  }
  if (amzDate.slice(0, 8) !== scope.date) {
    throw new S3Error("AuthorizationQueryParametersError", {
      message:
        `Invalid credential date "${scope.date}". This date is not the same as X-Amz-Date: "${
          amzDate.slice(0, 8)
        }".`,
    });
  }
  const expiresRaw = need("X-Amz-Expires");
  const expires = /^\d+$/.test(expiresRaw) ? Number(expiresRaw) : NaN;
  if (!(expires >= 1)) {
    throw new S3Error("AuthorizationQueryParametersError", {
      message: "X-Amz-Expires must be non-negative",
    });
  }
  if (expires > MAX_PRESIGN_SECONDS) {
    throw new S3Error("AuthorizationQueryParametersError", {
      message: "X-Amz-Expires must be less than a week (in seconds) that is 604800",
    });
  }
  const signedHeaders = need("X-Amz-SignedHeaders").split(";").map((s) => s.toLowerCase());
  const signature = need("X-Amz-Signature").toLowerCase();
  const { secret, principal } = await lookupSecret(deps, scope.accessKeyId);
  const now = deps.now();
  if (t - now > MAX_SKEW_MS) {
    throw new S3Error("AccessDenied", { message: "Request is not valid yet" });
  }
  if (now > t + expires * 1000) {
    throw new S3Error("AccessDenied", {
      message: "Request has expired",
      fields: {
        Expires: new Date(t + expires * 1000).toISOString(),
        ServerTime: new Date(now).toISOString(),
      },
    });
  }
  // Presigned URLs sign UNSIGNED-PAYLOAD unless X-Amz-Content-Sha256 is in the query. Some
  // generic SigV4 signers sign the empty-body hash instead; accepting it weakens nothing.
  const queryHash = q.get("X-Amz-Content-Sha256");
  const candidates = queryHash !== undefined ? [queryHash] : ["UNSIGNED-PAYLOAD", EMPTY_SHA256];
  let first: { sts: string; canonical: string } | null = null;
  let matched: string | null = null;
  for (const candidate of candidates) {
    const canonicals = canonicalRequests({
      method: req.method,
      target,
      headers: req.headers,
      signedHeaders,
      payloadHash: candidate,
      omitQuery: "X-Amz-Signature",
    });
    for (const canonical of canonicals) {
      const sts = stringToSign(amzDate, scope, canonical);
      first ??= { sts, canonical };
      if (hexEqual(signature, signatureFor(deps.signingKeys.of(secret, scope), sts))) {
        matched = candidate;
        break;
      }
    }
    if (matched !== null) break;
  }
  if (matched === null) throw signatureMismatch(first!.sts, first!.canonical, scope.accessKeyId);
  // The body is checked against a signed hash: the query's, the empty one, or the header's.
  const headerHash = req.headers.get("x-amz-content-sha256") ?? "";
  const payloadHash = matched !== "UNSIGNED-PAYLOAD" ? matched : headerHash;
  deps.credentials.touch?.(scope.accessKeyId);
  const trailers = new Map<string, string>();
  const { body, contentLength } = verifiedBody(
    req,
    // An unsigned aws-chunked body still has to be decoded (never stored with its framing).
    /^[0-9a-f]{64}$/.test(payloadHash) || payloadHash.startsWith("STREAMING-")
      ? payloadHash
      : "UNSIGNED-PAYLOAD",
    null,
    trailers,
  );
  return {
    principal,
    accessKeyId: scope.accessKeyId,
    method: "v4-presigned",
    body,
    contentLength,
    trailers,
  };
}

/**
 * A request whose principal the server itself has authenticated (see `S3Front.handleAs`): no
 * signature to check, so the body is taken as sent, as with UNSIGNED-PAYLOAD.
 */
export function authenticatedAs(req: Request, principal: Principal): AuthResult {
  const trailers = new Map<string, string>();
  const { body, contentLength } = verifiedBody(req, "UNSIGNED-PAYLOAD", null, trailers);
  return { principal, accessKeyId: null, method: "in-process", body, contentLength, trailers };
}

/**
 * Authenticates a request. Anonymous requests return a null principal; the authorizer decides
 * (until policies and ACLs exist, it denies them).
 */
export async function authenticate(
  req: Request,
  target: RequestTarget,
  deps: AuthDeps,
): Promise<AuthResult> {
  const auth = req.headers.get("authorization");
  if (auth !== null) {
    if (auth.startsWith(ALGORITHM + " ")) {
      return await authenticateV4Header(req, target, deps, auth);
    }
    if (auth.startsWith("AWS ")) return await authenticateV2(req, target, deps, auth);
    throw new S3Error("InvalidArgument", {
      message: "Unsupported Authorization Type",
      fields: { ArgumentName: "Authorization", ArgumentValue: auth.split(" ")[0] },
    });
  }
  if (target.query.has("X-Amz-Algorithm") || target.query.has("X-Amz-Signature")) {
    return await authenticateV4Presigned(req, target, deps);
  }
  if (target.query.has("AWSAccessKeyId") && target.query.has("Signature")) {
    return await authenticateV2(req, target, deps, null);
  }
  return {
    principal: null,
    accessKeyId: null,
    method: "anonymous",
    body: req.body,
    contentLength: contentLengthOf(req),
    trailers: new Map(),
  };
}
