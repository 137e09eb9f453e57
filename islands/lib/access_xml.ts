/**
 * The S3 access-control documents the console's editors send and read: AccessControlPolicy (ACL),
 * PublicAccessBlockConfiguration and OwnershipControls, as AWS writes them. Read with small
 * regular expressions over these flat documents (no DOMParser, so the tests run in Deno too).
 */

const S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/";
const XSI_NS = "http://www.w3.org/2001/XMLSchema-instance";
export const ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers";
export const AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";
export const LOG_DELIVERY = "http://acs.amazonaws.com/groups/s3/LogDelivery";

export const PERMISSIONS = ["FULL_CONTROL", "READ", "WRITE", "READ_ACP", "WRITE_ACP"] as const;
export type Permission = typeof PERMISSIONS[number];

export const CANNED_ACLS = [
  "private",
  "public-read",
  "public-read-write",
  "authenticated-read",
] as const;

export const OWNERSHIP = ["BucketOwnerEnforced", "BucketOwnerPreferred", "ObjectWriter"] as const;
export type Ownership = typeof OWNERSHIP[number];

export type GranteeType = "CanonicalUser" | "Group" | "AmazonCustomerByEmail";

export interface Grant {
  type: GranteeType;
  /** Canonical id, group URI or email address, by `type`. */
  value: string;
  displayName?: string;
  permission: Permission;
}

export interface Acl {
  owner: { id: string; displayName?: string };
  grants: Grant[];
}

export const PAB_FLAGS = [
  "BlockPublicAcls",
  "IgnorePublicAcls",
  "BlockPublicPolicy",
  "RestrictPublicBuckets",
] as const;
export type PublicAccessBlock = Record<typeof PAB_FLAGS[number], boolean>;

export const esc = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

const unesc = (s: string) =>
  s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&apos;/g, "'")
    .replace(/&amp;/g, "&");

/** The text of the first `<tag>` in `xml` (entities decoded), or "" when there is none. */
export function tagText(xml: string, tag: string): string {
  const m = new RegExp(`<${tag}(?:\\s[^>]*)?>([\\s\\S]*?)</${tag}>`).exec(xml);
  return m ? unesc(m[1].trim()) : "";
}

/** The inner text of every `<tag>` element in `xml`, in order (entities left as written). */
export function blocks(xml: string, tag: string): string[] {
  return Array.from(xml.matchAll(new RegExp(`<${tag}(?:\\s[^>]*)?>([\\s\\S]*?)</${tag}>`, "g")))
    .map((m) => m[1]);
}

/** Reads a GetBucketAcl / GetObjectAcl answer. */
export function parseAcl(xml: string): Acl {
  const owner = blocks(xml, "Owner")[0] ?? "";
  const grants: Grant[] = [];
  for (const g of blocks(xml, "Grant")) {
    const grantee = /<Grantee\b([^>]*)>([\s\S]*?)<\/Grantee>/.exec(g);
    const attrs = grantee?.[1] ?? "";
    const inner = grantee?.[2] ?? "";
    const declared = /type="([^"]+)"/.exec(attrs)?.[1];
    const type: GranteeType = declared === "Group" || tagText(inner, "URI")
      ? "Group"
      : declared === "AmazonCustomerByEmail" || tagText(inner, "EmailAddress")
      ? "AmazonCustomerByEmail"
      : "CanonicalUser";
    const value = type === "Group"
      ? tagText(inner, "URI")
      : type === "AmazonCustomerByEmail"
      ? tagText(inner, "EmailAddress")
      : tagText(inner, "ID");
    const displayName = tagText(inner, "DisplayName") || undefined;
    grants.push({
      type,
      value,
      ...(displayName ? { displayName } : {}),
      permission: tagText(g, "Permission") as Permission,
    });
  }
  const ownerName = tagText(owner, "DisplayName");
  return {
    owner: { id: tagText(owner, "ID"), ...(ownerName ? { displayName: ownerName } : {}) },
    grants,
  };
}

function granteeXml(g: Grant): string {
  const inner = g.type === "Group"
    ? `<URI>${esc(g.value)}</URI>`
    : g.type === "AmazonCustomerByEmail"
    ? `<EmailAddress>${esc(g.value)}</EmailAddress>`
    : `<ID>${esc(g.value)}</ID>`;
  return `<Grantee xmlns:xsi="${XSI_NS}" xsi:type="${g.type}">${inner}</Grantee>`;
}

/** The PutBucketAcl / PutObjectAcl body. */
export function aclXml(acl: Acl): string {
  const owner = `<Owner><ID>${esc(acl.owner.id)}</ID>${
    acl.owner.displayName ? `<DisplayName>${esc(acl.owner.displayName)}</DisplayName>` : ""
  }</Owner>`;
  const grants = acl.grants.map((g) =>
    `<Grant>${granteeXml(g)}<Permission>${g.permission}</Permission></Grant>`
  ).join("");
  return `<AccessControlPolicy xmlns="${S3_NS}">${owner}` +
    `<AccessControlList>${grants}</AccessControlList></AccessControlPolicy>`;
}

/** How the console names a grantee: the display name or id, a group's last URI segment. */
export function granteeLabel(g: Grant): string {
  if (g.type === "Group") return g.value.slice(g.value.lastIndexOf("/") + 1) || g.value;
  return g.displayName ? `${g.displayName} (${g.value})` : g.value;
}

/** Reads a GetPublicAccessBlock answer (a missing flag is false, as S3 treats it). */
export function parsePublicAccessBlock(xml: string): PublicAccessBlock {
  const out = {} as PublicAccessBlock;
  for (const f of PAB_FLAGS) out[f] = tagText(xml, f).toLowerCase() === "true";
  return out;
}

export function publicAccessBlockXml(pab: PublicAccessBlock): string {
  return `<PublicAccessBlockConfiguration xmlns="${S3_NS}">${
    PAB_FLAGS.map((f) => `<${f}>${pab[f]}</${f}>`).join("")
  }</PublicAccessBlockConfiguration>`;
}

const camel = (flag: string) => flag[0].toLowerCase() + flag.slice(1);

/**
 * Reads the console API's tenant public access block: `{publicAccessBlock: {...} | null}` with
 * camelCase flags (null: none set, every flag off); a bare object with AWS's flag names is read
 * too.
 */
export function publicAccessBlockFromJson(doc: unknown): PublicAccessBlock {
  const d = (doc ?? {}) as Record<string, unknown>;
  const inner = ("publicAccessBlock" in d ? d.publicAccessBlock ?? {} : d) as Record<
    string,
    unknown
  >;
  const out = {} as PublicAccessBlock;
  for (const f of PAB_FLAGS) out[f] = (inner[camel(f)] ?? inner[f]) === true;
  return out;
}

/** The console API's PUT body of a tenant public access block (camelCase flags). */
export function publicAccessBlockJson(pab: PublicAccessBlock): Record<string, boolean> {
  return Object.fromEntries(PAB_FLAGS.map((f) => [camel(f), pab[f]]));
}

/** Reads a GetBucketOwnershipControls answer; null when it names no known setting. */
export function parseOwnership(xml: string): Ownership | null {
  const v = tagText(xml, "ObjectOwnership");
  return (OWNERSHIP as readonly string[]).includes(v) ? v as Ownership : null;
}

export function ownershipXml(o: Ownership): string {
  return `<OwnershipControls xmlns="${S3_NS}"><Rule><ObjectOwnership>${o}</ObjectOwnership>` +
    `</Rule></OwnershipControls>`;
}

/** What the CORS editor offers when a bucket has no configuration. */
export const CORS_SAMPLE = `<CORSConfiguration xmlns="${S3_NS}">
  <CORSRule>
    <ID>web-app</ID>
    <AllowedOrigin>https://app.example.com</AllowedOrigin>
    <AllowedMethod>GET</AllowedMethod>
    <AllowedMethod>PUT</AllowedMethod>
    <AllowedHeader>*</AllowedHeader>
    <ExposeHeader>ETag</ExposeHeader>
    <MaxAgeSeconds>3000</MaxAgeSeconds>
  </CORSRule>
</CORSConfiguration>`;

/** What the policy editor offers when a bucket has no policy (`bucket` filled in). */
export function policySample(bucket: string): string {
  return JSON.stringify(
    {
      Version: "2012-10-17",
      Statement: [{
        Sid: "PublicRead",
        Effect: "Allow",
        Principal: "*",
        Action: ["s3:GetObject"],
        Resource: [`arn:aws:s3:::${bucket}/*`],
      }],
    },
    null,
    2,
  );
}
