/** What an S3 operation receives, and what it returns for the handler to write. */
import type { Endpoint, RequestTarget } from "./endpoint.ts";
import type { AuthResult } from "./auth/mod.ts";
import type { Principal } from "../iam/types.ts";
import type { Backend, QuotaPolicy } from "../storage/mod.ts";
import type { S3Gate } from "./gate.ts";
import type { BucketRecord } from "../storage/types.ts";
import type { Clock } from "../clock.ts";
import type { Logger } from "../log.ts";
import type { CredentialStore } from "../iam/types.ts";
import type { Client } from "../iam/net.ts";
import type { Tuning } from "../tuning.ts";
import type { ListDocuments } from "./ops/list_documents.ts";
import type { Namespaces } from "./bucket_ref.ts";
import type { PrincipalLookup } from "../iam/policy.ts";
import type { GranteeLookup } from "../iam/acl.ts";
import type { ObjectOwnership } from "../iam/ownership.ts";
import type { PublicAccessBlock } from "../iam/public_access.ts";
import type { BucketLogging } from "../features/access_logging/config.ts";
import type { Replication } from "../features/replication/service.ts";

/** Decides whether a principal may run an operation; throws `AccessDenied` if not. */
export interface Authorizer {
  authorize(ctx: OpContext, bucket: BucketRecord | null): Promise<void>;
  /**
   * Whether the caller of `ctx` may list `bucket`: a missing key answers 404 only to callers
   * who may (AWS), 403 to everyone else.
   */
  mayList(ctx: OpContext, bucket: BucketRecord): Promise<boolean>;
  /**
   * The public access block in force for a bucket of namespace `ns` (its own, its tenant's and
   * the server's flags ORed; `bucket` null for one being created): operations refuse public ACLs
   * and policies with it.
   */
  publicAccessBlock(ns: string, bucket: BucketRecord | null): Promise<PublicAccessBlock>;
}

export interface S3Deps {
  storage: Backend;
  /** Tenant names to namespaces, for `tenant:bucket` names (bucket_ref.ts). */
  namespaces: Namespaces;
  credentials: CredentialStore;
  authorizer: Authorizer;
  /** Resolves ACL grantees (canonical ids, email addresses) to users. */
  grantees: GranteeLookup;
  /** Object Ownership of buckets created without `x-amz-object-ownership` (ObjectWriter if absent). */
  defaultObjectOwnership?: ObjectOwnership;
  region: string;
  domain: string | null;
  /**
   * Requests whose Host is `<bucket>.<websiteDomain>` are answered as a static website
   * (website_serve.ts); none when absent.
   */
  websiteDomain?: string | null;
  clock: Clock;
  log: Logger;
  /** Whether principals a bucket policy names exist (IAM); any well-formed one when absent. */
  principals?: PrincipalLookup;
  /** Performance mechanisms turned off (benchmarks); all on when absent. */
  tuning?: Tuning;
  /** Namespaces' quota limits (Veeam's capacity.xml); the disk alone when absent. */
  quotas?: QuotaPolicy;
  /** Maintenance mode and rate limits (gate.ts); nothing is refused without it. */
  gate?: S3Gate;
  /**
   * SSE-S3 for every new object that asks for no encryption and whose bucket has no default
   * (`--encrypt-new-objects`).
   */
  encryptNewObjects?: boolean;
  /** SSE-C keys accepted over plain HTTP (`--sse-c-over-http`); refused otherwise, as AWS. */
  sseCOverHttp?: boolean;
  /**
   * The webhook targets notification configurations may name, and the queue their `s3:TestEvent`
   * goes through (features/notifications); without it every destination is refused.
   */
  notificationTargets?: NotificationDestinations;
  /** Server access logging, told of each PutBucketLogging; logging changes nothing without it. */
  accessLogs?: { configured(bucket: BucketRecord, cfg: BucketLogging | null): void };
  /** Bucket replication (rules, destinations); its S3 operations answer NotImplemented without. */
  replication?: Pick<Replication, "configure">;
  /** Called once per request after the response status is known (metrics, audit). */
  onRequest?: (info: RequestInfo) => void;
}

/** The destinations of notification configurations, as PutBucketNotificationConfiguration sees them. */
export interface NotificationDestinations {
  /** Whether a bucket of a namespace may name an ARN as a destination of a configuration kind. */
  usableBy(bucketNs: string, arn: string, kind: "Queue" | "Topic" | "CloudFunction"): boolean;
  /**
   * Queues AWS's `s3:TestEvent` message for each target the configuration `rules` name that the
   * `previous` rules did not (delivered by the worker, not in the request). Returns how many.
   */
  queueTestEvents(
    bucket: { ns: string; name: string },
    rules: readonly { id: string; arn: string }[],
    previous: readonly { arn: string }[],
    requestId: string,
  ): number;
}

export interface RequestInfo {
  op: string;
  status: number;
  durationMs: number;
  bucket: string | null;
  /** The object key the request addressed, if any. */
  key: string | null;
  principal: Principal | null;
  requestId: string;
  /** The body's declared (decoded) length, when the request had one. */
  bytesIn: number | null;
  /** The response body's length (its Content-Length), when known. */
  bytesOut: number | null;
  /** The S3 error code of an error answer; null when the request succeeded. */
  errorCode: string | null;
  /**
   * Whether the request failed authentication (unknown key, bad or expired signature, a skewed
   * clock, a malformed Authorization; also a chunk signature that fails in the body).
   */
  authFailed: boolean;
  /** The request itself (user agent for the audit, even when it failed). */
  req: Request;
  /** Who sent it (address for the audit). */
  client: Client;
  /**
   * The bucket the request resolved, when it got that far (server access logging looks its
   * configuration up by id); absent for requests built outside the handler.
   */
  bucketRecord?: BucketRecord | null;
  /** How the request authenticated (null when authentication did not finish). */
  authMethod?: AuthResult["method"] | null;
  /** The response's headers (version id, content range). */
  responseHeaders?: Headers;
}

export interface OpContext {
  req: Request;
  /** Who sent the request (the listener resolved it; an argument of the handler). */
  client: Client;
  ep: Endpoint;
  target: RequestTarget;
  auth: AuthResult;
  /** The authenticated caller; ops run only after authorization, so anonymous is null here. */
  principal: Principal | null;
  /** Bucket namespace of the caller ("" = global, also for anonymous callers). */
  ns: string;
  deps: S3Deps;
  requestId: string;
  /**
   * Resolves the addressed bucket (cached): `tenant:bucket`, else the caller's namespace, then
   * the global one (bucket_ref.ts).
   */
  bucket(): Promise<BucketRecord>;
  /** Resolves another bucket name (a copy source) as the request's own is resolved. */
  bucketNamed(name: string): Promise<BucketRecord>;
  /** Documents of recent listing pages (the S3 front end's; absent for requests built elsewhere). */
  listDocuments?: ListDocuments;
}

/** The S3 front end: a request and who sent it, to a response. */
export type S3Handler = (req: Request, client: Client) => Promise<Response>;

export interface OpResult {
  status?: number;
  headers?: Record<string, string>;
  /** An XML document (Content-Type application/xml), as text or as its UTF-8 bytes. */
  xml?: string | Uint8Array<ArrayBuffer>;
  body?: ReadableStream<Uint8Array> | Uint8Array | string | null;
}
