/**
 * The ACL model of decision 0011: grants of READ, WRITE, READ_ACP, WRITE_ACP and FULL_CONTROL to
 * canonical users (a user id, `root` for the root key), the groups AllUsers, AuthenticatedUsers
 * and LogDelivery, and email addresses (resolved to a user when the ACL is written, so a stored
 * ACL holds only users and groups). Canned ACLs and `x-amz-grant-*` headers become the same
 * `StoredAcl`, and so does an `AccessControlPolicy` document; the document is written back in
 * AWS's form.
 */
import { S3Error } from "../s3/errors.ts";
import { buildXmlWithTail, child, children, escapeXml, type XmlNode } from "../s3/xml.ts";
import type { Grant, Grantee, Permission, StoredAcl } from "../storage/types.ts";

// Records store ACLs (ObjectRecord.acl, the bucket configuration `acl`), so storage types hold
// their shape; this module is where they mean something.
export type { Grant, Grantee, Permission, StoredAcl };
export const PERMISSIONS: readonly Permission[] = [
  "READ",
  "WRITE",
  "READ_ACP",
  "WRITE_ACP",
  "FULL_CONTROL",
];

export const ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers";
export const AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";
export const LOG_DELIVERY = "http://acs.amazonaws.com/groups/s3/LogDelivery";
const GROUPS = [ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY];

export type CanonicalUser = StoredAcl["owner"];

/** Where grantee ids and email addresses are resolved (IAM's users; `root` for the root key). */
export interface GranteeLookup {
  userById(id: string): CanonicalUser | null;
  /** The users whose address this is (case-insensitive); more than one is an ambiguous grant. */
  usersByEmail(email: string): CanonicalUser[];
}

export const CANNED_ACLS = [
  "private",
  "public-read",
  "public-read-write",
  "authenticated-read",
  "aws-exec-read",
  "bucket-owner-read",
  "bucket-owner-full-control",
  "log-delivery-write",
] as const;
export type CannedAcl = typeof CANNED_ACLS[number];

/** An AWS limit: an ACL holds at most 100 grants. */
export const MAX_GRANTS = 100;

const user = (u: CanonicalUser): Grantee => ({
  type: "CanonicalUser",
  id: u.id,
  displayName: u.displayName,
});
const group = (uri: string): Grantee => ({ type: "Group", uri });

/** The private ACL: the owner's FULL_CONTROL. */
export function privateAcl(owner: CanonicalUser): StoredAcl {
  return { owner, grants: [{ grantee: user(owner), permission: "FULL_CONTROL" }] };
}

/**
 * Expands a canned ACL as the S3 user guide's table does. Group grants come before the owner's,
 * as S3 answers them (ceph s3-tests compare GetBucketAcl's grants in that order). `bucketOwner` matters only for objects: on a bucket the two bucket-owner ACLs
 * are ignored (private). aws-exec-read's EC2 reader has no counterpart here: the owner's grant.
 */
export function cannedAcl(
  canned: CannedAcl,
  owner: CanonicalUser,
  opts: { bucketOwner: CanonicalUser; forBucket: boolean },
): StoredAcl {
  const acl = privateAcl(owner);
  const add = (grantee: Grantee, permission: Permission) =>
    acl.grants.push({ grantee, permission });
  switch (canned) {
    case "public-read":
      add(group(ALL_USERS), "READ");
      break;
    case "public-read-write":
      add(group(ALL_USERS), "READ");
      add(group(ALL_USERS), "WRITE");
      break;
    case "authenticated-read":
      add(group(AUTHENTICATED_USERS), "READ");
      break;
    case "bucket-owner-read":
      if (!opts.forBucket) add(user(opts.bucketOwner), "READ");
      break;
    case "bucket-owner-full-control":
      if (!opts.forBucket) add(user(opts.bucketOwner), "FULL_CONTROL");
      break;
    case "log-delivery-write":
      add(group(LOG_DELIVERY), "WRITE");
      add(group(LOG_DELIVERY), "READ_ACP");
      break;
    case "private":
    case "aws-exec-read":
      break;
  }
  const groups = acl.grants.filter((g) => g.grantee.type === "Group");
  const users = acl.grants.filter((g) => g.grantee.type !== "Group");
  return dedupe({ owner: acl.owner, grants: [...groups, ...users] });
}

/** The same grantee and permission twice (the bucket owner writing `bucket-owner-*`) is one. */
function dedupe(acl: StoredAcl): StoredAcl {
  const seen = new Set<string>();
  const grants = acl.grants.filter((g) => {
    const k = `${granteeKey(g.grantee)} ${g.permission}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  return { owner: acl.owner, grants };
}

function granteeKey(g: Grantee): string {
  return g.type === "Group" ? `g:${g.uri}` : `u:${g.id}`;
}

/** `x-amz-acl`: null when absent; an unknown value is `InvalidArgument`. */
export function cannedAclFrom(h: Headers): CannedAcl | null {
  const v = h.get("x-amz-acl");
  if (v === null) return null;
  if (!(CANNED_ACLS as readonly string[]).includes(v)) {
    throw new S3Error("InvalidArgument", {
      fields: { ArgumentName: "x-amz-acl", ArgumentValue: v },
    });
  }
  return v as CannedAcl;
}

const GRANT_HEADERS: [string, Permission][] = [
  ["x-amz-grant-read", "READ"],
  ["x-amz-grant-write", "WRITE"],
  ["x-amz-grant-read-acp", "READ_ACP"],
  ["x-amz-grant-write-acp", "WRITE_ACP"],
  ["x-amz-grant-full-control", "FULL_CONTROL"],
];

/** What a write request says about the ACL: nothing, a canned ACL, or explicit grants. */
export type AclSpec =
  | { kind: "none" }
  | { kind: "canned"; canned: CannedAcl }
  | { kind: "grants"; grants: Grant[] };

/**
 * Reads `x-amz-acl` and `x-amz-grant-*` (both at once is `InvalidRequest`). Grant headers hold
 * comma-separated `id="..."`, `uri="..."` or `emailAddress="..."` entries; ids and addresses are
 * resolved now, so an unknown one fails the request before anything is written.
 */
export function aclSpecFrom(h: Headers, lookup: GranteeLookup): AclSpec {
  const canned = cannedAclFrom(h);
  const present = GRANT_HEADERS.filter(([name]) => h.has(name));
  if (canned !== null && present.length) {
    throw new S3Error("InvalidRequest", {
      message: "Specifying both Canned ACLs and Header Grants is not allowed",
    });
  }
  if (canned !== null) return { kind: "canned", canned };
  if (!present.length) return { kind: "none" };
  const grants: Grant[] = [];
  for (const [name, permission] of present) {
    for (const grantee of parseGrantHeader(name, h.get(name)!, lookup)) {
      grants.push({ grantee, permission });
    }
  }
  if (grants.length > MAX_GRANTS) throw new S3Error("MalformedACLError");
  return { kind: "grants", grants };
}

const GRANT_ENTRY = /^\s*([A-Za-z]+)\s*=\s*(?:"([^"]*)"|([^,"\s]+))\s*(?:,|$)/;

function parseGrantHeader(name: string, value: string, lookup: GranteeLookup): Grantee[] {
  const bad = () =>
    new S3Error("InvalidArgument", {
      message: "Argument format not recognized",
      fields: { ArgumentName: name, ArgumentValue: value },
    });
  const out: Grantee[] = [];
  let rest = value;
  if (!rest.trim()) throw bad();
  while (rest.trim()) {
    const m = GRANT_ENTRY.exec(rest);
    if (!m) throw bad();
    rest = rest.slice(m[0].length);
    const v = m[2] ?? m[3];
    switch (m[1].toLowerCase()) {
      case "id":
        out.push(resolveId(v, lookup));
        break;
      case "uri":
        out.push(resolveGroup(v));
        break;
      case "emailaddress":
        out.push(resolveEmail(v, lookup));
        break;
      default:
        throw bad();
    }
  }
  return out;
}

function resolveId(id: string, lookup: GranteeLookup): Grantee {
  const u = lookup.userById(id);
  if (!u) {
    throw new S3Error("InvalidArgument", {
      message: "Invalid id",
      fields: { ArgumentName: "CanonicalUser/ID", ArgumentValue: id },
    });
  }
  return user(u);
}

function resolveGroup(uri: string): Grantee {
  if (!GROUPS.includes(uri)) {
    throw new S3Error("InvalidArgument", {
      message: "Invalid group uri",
      fields: { ArgumentName: "Group/URI", ArgumentValue: uri },
    });
  }
  return group(uri);
}

function resolveEmail(email: string, lookup: GranteeLookup): Grantee {
  const found = email ? lookup.usersByEmail(email) : [];
  if (found.length === 0) throw new S3Error("UnresolvableGrantByEmailAddress");
  if (found.length > 1) throw new S3Error("AmbiguousGrantByEmailAddress");
  return user(found[0]);
}

/**
 * The ACL a write stores: the canned ACL expanded for `owner`, the header grants as they are,
 * or (nothing said) the private ACL.
 */
export function aclFromSpec(
  spec: AclSpec,
  owner: CanonicalUser,
  opts: { bucketOwner: CanonicalUser; forBucket: boolean },
): StoredAcl {
  if (spec.kind === "canned") return cannedAcl(spec.canned, owner, opts);
  if (spec.kind === "grants") return dedupe({ owner, grants: spec.grants });
  return privateAcl(owner);
}

/**
 * Parses an `AccessControlPolicy` document. The Owner, when given, must be the resource's
 * owner (`AccessDenied` otherwise: an ACL cannot change who owns a resource).
 */
export function parseAclDocument(
  doc: XmlNode,
  owner: CanonicalUser,
  lookup: GranteeLookup,
): StoredAcl {
  if (doc.name !== "AccessControlPolicy") throw new S3Error("MalformedACLError");
  const ownerNode = child(doc, "Owner");
  if (ownerNode) {
    const id = child(ownerNode, "ID")?.text.trim();
    if (!id) throw new S3Error("MalformedACLError");
    if (id !== owner.id) throw new S3Error("AccessDenied");
  }
  const list = child(doc, "AccessControlList");
  if (!list) throw new S3Error("MalformedACLError");
  const nodes = children(list, "Grant");
  if (nodes.length > MAX_GRANTS) throw new S3Error("MalformedACLError");
  const grants: Grant[] = nodes.map((n) => {
    const g = child(n, "Grantee");
    const permission = child(n, "Permission")?.text.trim();
    if (!g || !permission || !(PERMISSIONS as readonly string[]).includes(permission)) {
      throw new S3Error("MalformedACLError");
    }
    return { grantee: parseGrantee(g, lookup), permission: permission as Permission };
  });
  return dedupe({ owner, grants });
}

export function parseGrantee(g: XmlNode, lookup: GranteeLookup): Grantee {
  const text = (name: string) => child(g, name)?.text.trim();
  switch (g.attrs["type"]) {
    case "CanonicalUser": {
      const id = text("ID");
      if (!id) throw new S3Error("MalformedACLError");
      return resolveId(id, lookup);
    }
    case "Group": {
      const uri = text("URI");
      if (!uri) throw new S3Error("MalformedACLError");
      return resolveGroup(uri);
    }
    case "AmazonCustomerByEmail": {
      const email = text("EmailAddress");
      if (!email) throw new S3Error("MalformedACLError");
      return resolveEmail(email, lookup);
    }
    default:
      throw new S3Error("MalformedACLError");
  }
}

const XSI = "http://www.w3.org/2001/XMLSchema-instance";

/** One `<Grant>` element (of an ACL document, or a logging configuration's TargetGrants). */
export function grantXml(g: Grant): string {
  const inner = g.grantee.type === "Group"
    ? `<URI>${escapeXml(g.grantee.uri)}</URI>`
    : `<ID>${escapeXml(g.grantee.id)}</ID><DisplayName>${
      escapeXml(g.grantee.displayName)
    }</DisplayName>`;
  return `<Grant><Grantee xmlns:xsi="${XSI}" xsi:type="${g.grantee.type}">${inner}</Grantee>` +
    `<Permission>${g.permission}</Permission></Grant>`;
}

/** The `AccessControlPolicy` document of GetBucketAcl and GetObjectAcl. */
export function aclDocument(acl: StoredAcl): string {
  const grants = acl.grants.map(grantXml);
  // Grantees carry xsi attributes, which the element builder does not write.
  return buildXmlWithTail(
    "AccessControlPolicy",
    { Owner: { ID: acl.owner.id, DisplayName: acl.owner.displayName } },
    `<AccessControlList>${grants.join("")}</AccessControlList>`,
  );
}

/** Who asks: a canonical id (null when anonymous) and whether the request was signed. */
export interface AclSubject {
  canonicalId: string | null;
  authenticated: boolean;
}

/** Whether `acl` grants `perm` to the subject; FULL_CONTROL implies every permission. */
export function aclPermits(acl: StoredAcl, subject: AclSubject, perm: Permission): boolean {
  return aclGrantFor(acl, subject, perm) !== null;
}

/** The first grant giving `perm` to the subject (what decided, for the evaluator), or null. */
export function aclGrantFor(acl: StoredAcl, subject: AclSubject, perm: Permission): Grant | null {
  return acl.grants.find((g) =>
    (g.permission === perm || g.permission === "FULL_CONTROL") && matches(g.grantee, subject)
  ) ?? null;
}

/** A grant as the evaluator names it: `READ to AllUsers`, `FULL_CONTROL to u1 (alice)`. */
export function describeGrant(g: Grant): string {
  const who = g.grantee.type === "Group"
    ? g.grantee.uri.slice(g.grantee.uri.lastIndexOf("/") + 1)
    : `${g.grantee.id} (${g.grantee.displayName})`;
  return `${g.permission} to ${who}`;
}

/** The ACL without its public grants (a public access block's IgnorePublicAcls). */
export function withoutPublicGrants(acl: StoredAcl): StoredAcl {
  return { owner: acl.owner, grants: acl.grants.filter((g) => !isPublicGrant(g)) };
}

function matches(g: Grantee, s: AclSubject): boolean {
  if (g.type === "CanonicalUser") return s.canonicalId !== null && g.id === s.canonicalId;
  if (g.uri === ALL_USERS) return true;
  if (g.uri === AUTHENTICATED_USERS) return s.authenticated;
  return false; // LogDelivery: no caller of this server is the log delivery service
}

/** AWS's "public" for ACLs: a grant to AllUsers or AuthenticatedUsers. */
export function isPublicAcl(acl: StoredAcl): boolean {
  return acl.grants.some(isPublicGrant);
}

function isPublicGrant(g: Grant): boolean {
  return g.grantee.type === "Group" &&
    (g.grantee.uri === ALL_USERS || g.grantee.uri === AUTHENTICATED_USERS);
}

/** Whether the ACL is the private one: the owner's FULL_CONTROL and nothing else. */
export function isPrivateAcl(acl: StoredAcl): boolean {
  return acl.grants.length === 1 && onlyFullControlOf(acl, acl.owner.id);
}

/** Whether every grant is FULL_CONTROL of `id` (and there is one): "owner only" for `id`. */
export function onlyFullControlOf(acl: StoredAcl, id: string): boolean {
  return acl.grants.length > 0 &&
    acl.grants.every((g) =>
      g.permission === "FULL_CONTROL" && g.grantee.type === "CanonicalUser" && g.grantee.id === id
    );
}
