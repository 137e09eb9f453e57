/**
 * Public access block: the four flags of AWS, at three levels. A bucket's block is its bucket
 * configuration `public-access-block` (PutPublicAccessBlock); a tenant's is an IAM settings row
 * set by its tenant admins or a global admin; the global default is the `publicAccessBlock`
 * setting of global admins. The block in force for a bucket ORs each flag of the three.
 *
 * This module reads and writes them; what each flag refuses or ignores is decided by the one
 * evaluator (decision 0011).
 */
import { S3Error } from "../s3/errors.ts";
import { S3_NS, type XmlNode } from "../s3/xml.ts";
import { type IamCore, sql } from "./core.ts";
import { isSettingsProblem, updateSettings } from "./settings.ts";
import { IamError } from "./errors.ts";
import type { Backend } from "../storage/mod.ts";
import type { BucketRecord } from "../storage/types.ts";

export interface PublicAccessBlock {
  /** PUT of a public ACL (canned or grants) is refused with AccessDenied. */
  blockPublicAcls: boolean;
  /** Public ACL grants are ignored when access is decided. */
  ignorePublicAcls: boolean;
  /** PUT of a public bucket policy is refused with AccessDenied. */
  blockPublicPolicy: boolean;
  /** A public bucket policy allows only callers of the bucket's own namespace. */
  restrictPublicBuckets: boolean;
}

/** Bucket configuration kind of a bucket's block (Backend `getBucketConfig`). */
export const PUBLIC_ACCESS_BLOCK_CONFIG = "public-access-block";

/** The flags in AWS's order: XML element name and field. */
const FLAGS: readonly (readonly [string, keyof PublicAccessBlock])[] = [
  ["BlockPublicAcls", "blockPublicAcls"],
  ["IgnorePublicAcls", "ignorePublicAcls"],
  ["BlockPublicPolicy", "blockPublicPolicy"],
  ["RestrictPublicBuckets", "restrictPublicBuckets"],
];

/** No flag set. */
export function noPublicAccessBlock(): PublicAccessBlock {
  return {
    blockPublicAcls: false,
    ignorePublicAcls: false,
    blockPublicPolicy: false,
    restrictPublicBuckets: false,
  };
}

/**
 * A `PublicAccessBlockConfiguration` document (its root element parsed): absent elements are
 * false; an unknown or repeated element, or a value other than `true`/`false`, is `MalformedXML`.
 */
export function parsePublicAccessBlock(doc: XmlNode): PublicAccessBlock {
  if (doc.name !== "PublicAccessBlockConfiguration" || doc.text.trim() !== "") {
    throw new S3Error("MalformedXML");
  }
  const out = noPublicAccessBlock();
  const seen = new Set<string>();
  for (const c of doc.children) {
    const flag = FLAGS.find(([name]) => name === c.name);
    const value = c.text.trim();
    if (!flag || seen.has(c.name) || c.children.length || (value !== "true" && value !== "false")) {
      throw new S3Error("MalformedXML");
    }
    seen.add(c.name);
    out[flag[1]] = value === "true";
  }
  return out;
}

/** The GetPublicAccessBlock document: every flag, in AWS's order. */
export function publicAccessBlockXml(pab: PublicAccessBlock): string {
  const flags = FLAGS.map(([name, field]) => `<${name}>${pab[field]}</${name}>`).join("");
  return `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<PublicAccessBlockConfiguration xmlns="${S3_NS}">${flags}</PublicAccessBlockConfiguration>`;
}

/**
 * A block from the console API's JSON (`{"blockPublicAcls": true, ...}`): absent fields are
 * false, anything else is `InvalidRequest` naming it.
 */
export function publicAccessBlockFromJson(v: unknown): PublicAccessBlock {
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new IamError("InvalidRequest", "the public access block must be an object");
  }
  const out = noPublicAccessBlock();
  for (const [k, value] of Object.entries(v)) {
    if (!(k in out)) {
      throw new IamError("InvalidRequest", `unknown public access block flag "${k}"`);
    }
    if (typeof value !== "boolean") throw new IamError("InvalidRequest", `${k} must be a boolean`);
    out[k as keyof PublicAccessBlock] = value;
  }
  return out;
}

/** The block in force: each flag set at any level (AWS's "most restrictive combination"). */
export function effectivePublicAccessBlock(
  bucket: PublicAccessBlock | null,
  tenant: PublicAccessBlock | null,
  global: PublicAccessBlock | null,
): PublicAccessBlock {
  const out = noPublicAccessBlock();
  for (const [, field] of FLAGS) {
    out[field] = !!(bucket?.[field] || tenant?.[field] || global?.[field]);
  }
  return out;
}

const tenantKey = (tenantId: string) => `publicAccessBlock/${tenantId}`;
/** The settings key of the global default (a field of `Settings`, settings.ts). */
const GLOBAL_KEY = "publicAccessBlock";

/**
 * A block stored in the settings table; null when the row is absent. One indexed row read: the
 * evaluator asks on every request that a public grant or policy could decide.
 */
function readBlock(core: Pick<IamCore, "db">, key: string): PublicAccessBlock | null {
  const r = sql(core, "SELECT value FROM settings WHERE key = ?").get(key) as
    | { value: string }
    | undefined;
  // Stored blocks were validated when written; flags a stored block does not name are false.
  return r ? { ...noPublicAccessBlock(), ...JSON.parse(r.value) } : null;
}

/** A tenant's block; null when none is set. */
export function getTenantPublicAccessBlock(
  core: Pick<IamCore, "db">,
  tenantId: string,
): PublicAccessBlock | null {
  return readBlock(core, tenantKey(tenantId));
}

/** Sets (or with null removes) a tenant's block. */
export function putTenantPublicAccessBlock(
  core: Pick<IamCore, "db">,
  tenantId: string,
  pab: PublicAccessBlock | null,
): void {
  if (pab === null) {
    sql(core, "DELETE FROM settings WHERE key = ?").run(tenantKey(tenantId));
    return;
  }
  sql(
    core,
    "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
  ).run(tenantKey(tenantId), JSON.stringify(pab));
}

/** The global default block (the `publicAccessBlock` setting; none set: no flag). */
export function getGlobalPublicAccessBlock(core: Pick<IamCore, "db">): PublicAccessBlock {
  return readBlock(core, GLOBAL_KEY) ?? noPublicAccessBlock();
}

/** Sets the global default block. */
export async function putGlobalPublicAccessBlock(
  core: IamCore,
  pab: PublicAccessBlock,
): Promise<void> {
  const out = await updateSettings(core, { [GLOBAL_KEY]: pab });
  if (isSettingsProblem(out)) throw new IamError("InvalidRequest", out.message);
}

/** A bucket's own block (PutPublicAccessBlock); null when none is set. */
export async function getBucketPublicAccessBlock(
  storage: Backend,
  bucket: BucketRecord,
): Promise<PublicAccessBlock | null> {
  return await storage.getBucketConfig<PublicAccessBlock>(bucket.id, PUBLIC_ACCESS_BLOCK_CONFIG);
}

/**
 * The block in force for a bucket: its own, its tenant's (the bucket's namespace) and the
 * global default, ORed.
 */
export async function publicAccessBlockFor(
  core: Pick<IamCore, "db">,
  storage: Backend,
  ns: string,
  bucket: BucketRecord | null,
): Promise<PublicAccessBlock> {
  const own = bucket ? await getBucketPublicAccessBlock(storage, bucket) : null;
  const tenant = ns === "" ? null : getTenantPublicAccessBlock(core, ns);
  return effectivePublicAccessBlock(own, tenant, getGlobalPublicAccessBlock(core));
}
