/**
 * Browser POST upload authentication: the form's signature over the base64 policy (V4 and
 * V2), and the policy document's expiration and conditions checked against the form fields.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { Buffer } from "node:buffer";
import { S3Error } from "../errors.ts";
import type { CredentialStore, Principal } from "../../iam/types.ts";
import { ALGORITHM, deriveSigningKey, hexEqual, parseAmzDate, parseCredential } from "./sigv4.ts";

/** Form fields, keyed by lower-case name (S3 treats POST field names case-insensitively). */
export type FormFields = Map<string, string>;

export interface PostAuth {
  principal: Principal | null;
  accessKeyId: string | null;
  method: "v4" | "v2" | "anonymous";
}

/** Fields never named by policy conditions. */
const EXEMPT_FIELDS = new Set([
  "policy",
  "signature",
  "x-amz-signature",
  "awsaccesskeyid",
  "file",
]);

const invalidArg = (field: string) =>
  new S3Error("InvalidArgument", {
    message:
      `Bucket POST must contain a field named '${field}'.  If it is specified, please check the order of the fields.`,
    fields: { ArgumentName: field, ArgumentValue: "" },
  });

const policyDenied = (why: string) =>
  new S3Error("AccessDenied", { message: `Invalid according to Policy: ${why}` });

function need(fields: FormFields, name: string, display = name): string {
  const v = fields.get(name);
  if (v === undefined || v === "") throw invalidArg(display);
  return v;
}

/** Verifies the form's signature; anonymous forms (no credential fields) have no principal. */
export async function authenticatePostForm(
  fields: FormFields,
  credentials: CredentialStore,
): Promise<PostAuth> {
  const algorithm = fields.get("x-amz-algorithm");
  if (algorithm !== undefined || fields.has("x-amz-credential") || fields.has("x-amz-signature")) {
    if (need(fields, "x-amz-algorithm", "X-Amz-Algorithm") !== ALGORITHM) {
      throw new S3Error("InvalidArgument", {
        message: "Only AWS4-HMAC-SHA256 is supported for X-Amz-Algorithm",
        fields: { ArgumentName: "X-Amz-Algorithm", ArgumentValue: algorithm ?? "" },
      });
    }
    const scope = parseCredential(
      need(fields, "x-amz-credential", "X-Amz-Credential"),
      "AuthorizationQueryParametersError",
    );
    const amzDate = need(fields, "x-amz-date", "X-Amz-Date");
    if (parseAmzDate(amzDate) === null) {
      throw new S3Error("InvalidArgument", {
        message: "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"",
        fields: { ArgumentName: "X-Amz-Date", ArgumentValue: amzDate },
      });
    }
    const signature = need(fields, "x-amz-signature", "X-Amz-Signature").toLowerCase();
    const policy = need(fields, "policy", "Policy");
    const cred = await credentials.lookup(scope.accessKeyId);
    if (!cred) {
      throw new S3Error("InvalidAccessKeyId", { fields: { AWSAccessKeyId: scope.accessKeyId } });
    }
    const key = deriveSigningKey(cred.secretAccessKey, scope.date, scope.region, scope.service);
    const expected = createHmac("sha256", key).update(policy).digest("hex");
    if (!hexEqual(signature, expected)) {
      throw new S3Error("SignatureDoesNotMatch", {
        fields: { AWSAccessKeyId: scope.accessKeyId, StringToSign: policy },
      });
    }
    credentials.touch?.(scope.accessKeyId);
    return { principal: cred.principal, accessKeyId: scope.accessKeyId, method: "v4" };
  }
  if (fields.has("awsaccesskeyid") || fields.has("signature") || fields.has("policy")) {
    const accessKeyId = need(fields, "awsaccesskeyid", "AWSAccessKeyId");
    const signature = need(fields, "signature", "Signature");
    const policy = need(fields, "policy", "Policy");
    const cred = await credentials.lookup(accessKeyId);
    if (!cred) throw new S3Error("InvalidAccessKeyId", { fields: { AWSAccessKeyId: accessKeyId } });
    const expected = createHmac("sha1", cred.secretAccessKey).update(policy).digest();
    const got = Buffer.from(signature, "base64");
    if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
      throw new S3Error("SignatureDoesNotMatch", {
        fields: { AWSAccessKeyId: accessKeyId, StringToSign: policy },
      });
    }
    credentials.touch?.(accessKeyId);
    return { principal: cred.principal, accessKeyId, method: "v2" };
  }
  return { principal: null, accessKeyId: null, method: "anonymous" };
}

type Condition =
  | { kind: "eq"; field: string; value: string }
  | { kind: "starts-with"; field: string; value: string }
  | { kind: "content-length-range"; min: number; max: number };

export interface PostPolicy {
  expiration: number;
  conditions: Condition[];
}

const invalidPolicy = (why: string) =>
  new S3Error("InvalidPolicyDocument", { message: `Invalid Policy: ${why}` });

function fieldName(raw: unknown): string {
  if (typeof raw !== "string" || !raw.startsWith("$")) {
    throw invalidPolicy(`Invalid condition field ${JSON.stringify(raw)}`);
  }
  return raw.slice(1).toLowerCase();
}

function lengthBound(v: unknown): number {
  const n = typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) {
    throw invalidPolicy("Invalid content-length-range bound");
  }
  return n;
}

/** Decodes and validates the base64 JSON policy document. */
export function parsePostPolicy(b64: string): PostPolicy {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(b64, "base64").toString("utf8"));
  } catch {
    throw invalidPolicy("Invalid JSON.");
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw invalidPolicy("Invalid JSON.");
  }
  const d = doc as { expiration?: unknown; conditions?: unknown };
  if (typeof d.expiration !== "string") {
    throw invalidPolicy("Policy missing expiration.");
  }
  const expiration = Date.parse(d.expiration);
  if (Number.isNaN(expiration) || !/^\d{4}-\d{2}-\d{2}T/.test(d.expiration)) {
    throw invalidPolicy(`Invalid 'expiration' value: '${d.expiration}'`);
  }
  if (!Array.isArray(d.conditions)) throw invalidPolicy("Policy missing conditions.");
  const conditions: Condition[] = [];
  for (const c of d.conditions) {
    if (Array.isArray(c)) {
      const op = typeof c[0] === "string" ? c[0].toLowerCase() : "";
      if (op === "content-length-range" && c.length === 3) {
        conditions.push({ kind: op, min: lengthBound(c[1]), max: lengthBound(c[2]) });
      } else if ((op === "eq" || op === "starts-with") && c.length === 3) {
        if (typeof c[2] !== "string") throw invalidPolicy(`Invalid condition value in ${op}`);
        conditions.push({ kind: op, field: fieldName(c[1]), value: c[2] });
      } else {
        throw invalidPolicy(`Invalid condition ${JSON.stringify(c)}`);
      }
    } else if (typeof c === "object" && c !== null) {
      const entries = Object.entries(c);
      if (entries.length !== 1 || typeof entries[0][1] !== "string") {
        throw invalidPolicy(`Invalid condition ${JSON.stringify(c)}`);
      }
      conditions.push({ kind: "eq", field: entries[0][0].toLowerCase(), value: entries[0][1] });
    } else {
      throw invalidPolicy(`Invalid condition ${JSON.stringify(c)}`);
    }
  }
  return { expiration, conditions };
}

function conditionText(c: Condition): string {
  return c.kind === "content-length-range"
    ? `["content-length-range", ${c.min}, ${c.max}]`
    : `["${c.kind}", "$${c.field}", "${c.value}"]`;
}

/**
 * Checks expiration and the field conditions. `values` maps lower-case field names to what
 * the form sent (with `bucket` set from the request); `keyAlternatives` are the accepted key
 * readings (as sent, and with `${filename}` substituted). Returns the length range, if any.
 */
export function checkPostPolicy(
  policy: PostPolicy,
  values: FormFields,
  opts: { now: number; keyAlternatives: string[] },
): { min: number; max: number } | null {
  if (opts.now > policy.expiration) throw policyDenied("Policy expired.");
  let range: { min: number; max: number } | null = null;
  const named = new Set<string>();
  for (const c of policy.conditions) {
    if (c.kind === "content-length-range") {
      range = { min: c.min, max: c.max };
      continue;
    }
    named.add(c.field);
    const candidates = c.field === "key"
      ? opts.keyAlternatives
      : values.has(c.field)
      ? [values.get(c.field)!]
      : [];
    const ok = candidates.some((v) => {
      if (c.kind === "eq") return v === c.value;
      if (c.field === "content-type") {
        // A list of content types must all satisfy the prefix.
        return v.split(",").every((t) => t.trim().startsWith(c.value));
      }
      return v.startsWith(c.value);
    });
    if (!ok) throw policyDenied(`Policy Condition failed: ${conditionText(c)}`);
  }
  const extra: string[] = [];
  for (const name of values.keys()) {
    if (EXEMPT_FIELDS.has(name) || name.startsWith("x-ignore-") || name === "bucket") continue;
    if (!named.has(name)) extra.push(name);
  }
  if (extra.length) throw policyDenied(`Extra input fields: ${extra.join(", ")}`);
  return range;
}
