/** What an S3 operation receives, and what it returns for the handler to write. */
import type { Endpoint, RequestTarget } from "./endpoint.ts";
import type { AuthResult } from "./auth/mod.ts";
import type { Principal } from "../iam/types.ts";
import type { Backend } from "../storage/backend.ts";
import type { BucketRecord } from "../storage/types.ts";
import type { Clock, Logger } from "../storage/core.ts";
import type { CredentialStore } from "../iam/types.ts";

/** Decides whether a principal may run an operation; throws `AccessDenied` if not. */
export interface Authorizer {
  authorize(ctx: OpContext, bucket: BucketRecord | null): Promise<void>;
}

export interface S3Deps {
  storage: Backend;
  credentials: CredentialStore;
  authorizer: Authorizer;
  region: string;
  domain: string | null;
  clock: Clock;
  log: Logger;
  /** Called once per request after the response status is known (metrics, audit). */
  onRequest?: (info: RequestInfo) => void;
}

export interface RequestInfo {
  op: string;
  status: number;
  durationMs: number;
  bucket: string | null;
  principal: Principal | null;
  requestId: string;
  bytesIn: number | null;
  /** The request itself (client address and user agent for the audit, even when it failed). */
  req?: Request;
}

export interface OpContext {
  req: Request;
  ep: Endpoint;
  target: RequestTarget;
  auth: AuthResult;
  /** The authenticated caller; ops run only after authorization, so anonymous is null here. */
  principal: Principal | null;
  /** Bucket namespace of the caller ("" = global). */
  ns: string;
  deps: S3Deps;
  requestId: string;
  /** Resolves the addressed bucket in the caller's namespace (cached). */
  bucket(): Promise<BucketRecord>;
}

export interface OpResult {
  status?: number;
  headers?: Record<string, string>;
  /** An XML document (Content-Type application/xml). */
  xml?: string;
  body?: ReadableStream<Uint8Array> | Uint8Array | string | null;
}
