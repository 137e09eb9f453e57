/**
 * The Condition element: operators parsed once into plain data (patterns compiled, numbers, dates
 * and CIDR blocks read) and evaluated against the request context. Semantics follow AWS's
 * condition operator reference: values of one key are ORed, keys and operators are ANDed; a
 * negated operator holds when the key is absent; `...IfExists` holds when the key is absent;
 * `ForAnyValue:` needs one request value to match, `ForAllValues:` every one (and holds when the
 * key is absent).
 */
import { type CidrBlock, ipInBlock, parseCidr, parseIp } from "./net.ts";
import {
  compilePattern,
  matchPattern,
  type Pattern,
  type PolicyContext,
} from "./policy_pattern.ts";

type Family = "string" | "like" | "arn" | "binary" | "numeric" | "date" | "bool" | "ip" | "null";
type Compare = "eq" | "lt" | "le" | "gt" | "ge";

interface OperatorInfo {
  family: Family;
  negated: boolean;
  ignoreCase?: boolean;
  compare?: Compare;
}

const OPERATORS: Record<string, OperatorInfo> = {
  StringEquals: { family: "string", negated: false },
  StringNotEquals: { family: "string", negated: true },
  StringEqualsIgnoreCase: { family: "string", negated: false, ignoreCase: true },
  StringNotEqualsIgnoreCase: { family: "string", negated: true, ignoreCase: true },
  StringLike: { family: "like", negated: false },
  StringNotLike: { family: "like", negated: true },
  ArnEquals: { family: "arn", negated: false },
  ArnLike: { family: "arn", negated: false },
  ArnNotEquals: { family: "arn", negated: true },
  ArnNotLike: { family: "arn", negated: true },
  BinaryEquals: { family: "binary", negated: false },
  Bool: { family: "bool", negated: false },
  IpAddress: { family: "ip", negated: false },
  NotIpAddress: { family: "ip", negated: true },
  Null: { family: "null", negated: false },
};
for (const [fam, prefix] of [["numeric", "Numeric"], ["date", "Date"]] as const) {
  OPERATORS[`${prefix}Equals`] = { family: fam, negated: false, compare: "eq" };
  OPERATORS[`${prefix}NotEquals`] = { family: fam, negated: true, compare: "eq" };
  OPERATORS[`${prefix}LessThan`] = { family: fam, negated: false, compare: "lt" };
  OPERATORS[`${prefix}LessThanEquals`] = { family: fam, negated: false, compare: "le" };
  OPERATORS[`${prefix}GreaterThan`] = { family: fam, negated: false, compare: "gt" };
  OPERATORS[`${prefix}GreaterThanEquals`] = { family: fam, negated: false, compare: "ge" };
}

/** One operator over one key, with its values read. Plain data (stored with the policy). */
export interface ParsedCondition {
  /** The operator as written, e.g. `ForAnyValue:StringLikeIfExists`. */
  operator: string;
  /** The operator without qualifier and suffix, e.g. `StringLike`. */
  base: string;
  set: "any" | "all" | null;
  ifExists: boolean;
  /** Lower case. */
  key: string;
  /** The key as written (for "is public" and messages). */
  keyAsWritten: string;
  /** String, ARN and binary values (lower case for `...IgnoreCase`). */
  patterns: Pattern[];
  /** Numbers, or dates in epoch milliseconds. */
  numbers: number[];
  /** Bool values (lower case) and Null's `true`/`false`. */
  flags: string[];
  blocks: CidrBlock[];
}

/** A fault of a Condition element; the message is AWS's `MalformedPolicy` text. */
export class ConditionError extends Error {}

const S3_KEYS = new Set([
  "s3:accesspointnetworkorigin",
  "s3:authtype",
  "s3:dataaccesspointaccount",
  "s3:dataaccesspointarn",
  "s3:delimiter",
  "s3:locationconstraint",
  "s3:max-keys",
  "s3:object-lock-legal-hold",
  "s3:object-lock-mode",
  "s3:object-lock-remaining-retention-days",
  "s3:object-lock-retain-until-date",
  "s3:prefix",
  "s3:requestobjecttagkeys",
  "s3:resourceaccount",
  "s3:signatureage",
  "s3:signatureversion",
  "s3:tlsversion",
  "s3:versionid",
  "s3:x-amz-acl",
  "s3:x-amz-content-sha256",
  "s3:x-amz-copy-source",
  "s3:x-amz-grant-full-control",
  "s3:x-amz-grant-read",
  "s3:x-amz-grant-read-acp",
  "s3:x-amz-grant-write",
  "s3:x-amz-grant-write-acp",
  "s3:x-amz-metadata-directive",
  "s3:x-amz-object-ownership",
  "s3:x-amz-server-side-encryption",
  "s3:x-amz-server-side-encryption-aws-kms-key-id",
  "s3:x-amz-storage-class",
  "s3:x-amz-website-redirect-location",
]);
const S3_KEY_PREFIXES = ["s3:existingobjecttag/", "s3:requestobjecttag/", "s3:buckettag/"];

/** Whether a condition key (lower case) is one AWS accepts in an S3 policy. */
export function isKnownConditionKey(key: string): boolean {
  if (/^aws:[a-z0-9]/.test(key)) return true;
  return S3_KEYS.has(key) ||
    S3_KEY_PREFIXES.some((p) => key.startsWith(p) && key.length > p.length);
}

/** Reads a Date condition value: ISO 8601, or seconds since the epoch. NaN when neither. */
function dateValue(s: string): number {
  if (/^\d+$/.test(s)) return Number(s) * 1000;
  return /^\d{4}-\d{2}-\d{2}/.test(s) ? Date.parse(s) : NaN;
}

/**
 * Parses `Condition` (already known to be an object). `variables`: Version 2012-10-17;
 * `checkKeys`: refuse keys S3 does not know.
 */
export function parseConditions(
  block: Record<string, unknown>,
  variables: boolean,
  checkKeys: boolean,
): ParsedCondition[] {
  const out: ParsedCondition[] = [];
  for (const [operator, body] of Object.entries(block)) {
    const m = /^(?:(ForAnyValue|ForAllValues):)?(.+?)(IfExists)?$/.exec(operator)!;
    const base = m[2];
    const info = OPERATORS[base];
    if (!info || (m[3] && base === "Null")) {
      throw new ConditionError(`Invalid Condition type : ${operator}`);
    }
    if (!body || typeof body !== "object" || Array.isArray(body)) {
      throw new ConditionError(`Invalid Condition type : ${operator}`);
    }
    for (const [keyAsWritten, raw] of Object.entries(body as Record<string, unknown>)) {
      const key = keyAsWritten.toLowerCase();
      if (checkKeys && !isKnownConditionKey(key)) {
        throw new ConditionError("Policy has an invalid condition key");
      }
      const values = Array.isArray(raw) ? raw : [raw];
      if (values.some((v) => !["string", "number", "boolean"].includes(typeof v))) {
        throw new ConditionError(`Invalid Condition value for ${operator}: ${keyAsWritten}`);
      }
      const cond: ParsedCondition = {
        operator,
        base,
        set: m[1] === "ForAnyValue" ? "any" : m[1] === "ForAllValues" ? "all" : null,
        ifExists: m[3] !== undefined,
        key,
        keyAsWritten,
        patterns: [],
        numbers: [],
        flags: [],
        blocks: [],
      };
      for (const v of values.map(String)) readValue(cond, info, v, variables);
      out.push(cond);
    }
  }
  return out;
}

function readValue(c: ParsedCondition, info: OperatorInfo, v: string, variables: boolean) {
  const bad = () => new ConditionError(`Invalid Condition value for ${c.operator}: ${v}`);
  switch (info.family) {
    case "string":
    case "binary":
      c.patterns.push(
        compilePatternOr(v, { wildcards: false, variables, lowerCase: info.ignoreCase }, bad),
      );
      return;
    case "like":
    case "arn":
      c.patterns.push(compilePatternOr(v, { wildcards: true, variables }, bad));
      return;
    case "numeric": {
      if (!/^-?\d+(\.\d+)?$/.test(v.trim())) throw bad();
      c.numbers.push(Number(v));
      return;
    }
    case "date": {
      const d = dateValue(v);
      if (Number.isNaN(d)) throw bad();
      c.numbers.push(d);
      return;
    }
    case "bool":
    case "null": {
      const f = v.toLowerCase();
      if (f !== "true" && f !== "false") throw bad();
      c.flags.push(f);
      return;
    }
    case "ip": {
      const b = parseCidr(v);
      if (!b) throw new ConditionError("Invalid IP address in Conditions");
      c.blocks.push(b);
      return;
    }
  }
}

function compilePatternOr(
  v: string,
  opts: { wildcards: boolean; variables: boolean; lowerCase?: boolean },
  bad: () => Error,
): Pattern {
  try {
    return compilePattern(v, opts);
  } catch {
    throw bad();
  }
}

function compare(rel: Compare, a: number, b: number): boolean {
  switch (rel) {
    case "eq":
      return a === b;
    case "lt":
      return a < b;
    case "le":
      return a <= b;
    case "gt":
      return a > b;
    case "ge":
      return a >= b;
  }
}

/** Whether one request value matches one of the condition's values (before negation). */
function matchesOne(c: ParsedCondition, info: OperatorInfo, v: string, ctx: PolicyContext) {
  switch (info.family) {
    case "string":
    case "binary":
    case "like":
    case "arn": {
      const s = info.ignoreCase ? v.toLowerCase() : v;
      for (const p of c.patterns) if (matchPattern(p, s, ctx)) return true;
      return false;
    }
    case "numeric": {
      if (!/^-?\d+(\.\d+)?$/.test(v)) return false;
      const n = Number(v);
      return c.numbers.some((b) => compare(info.compare!, n, b));
    }
    case "date": {
      const d = dateValue(v);
      return !Number.isNaN(d) && c.numbers.some((b) => compare(info.compare!, d, b));
    }
    case "bool":
      return c.flags.includes(v.toLowerCase());
    case "ip": {
      const ip = parseIp(v);
      return ip !== null && c.blocks.some((b) => ipInBlock(ip, b));
    }
    case "null":
      return false;
  }
}

/** Whether a condition holds for the request context (keys in lower case). */
export function conditionHolds(c: ParsedCondition, ctx: PolicyContext): boolean {
  const info = OPERATORS[c.base];
  const actual = ctx[c.key];
  const absent = actual === undefined || (Array.isArray(actual) && actual.length === 0);
  if (info.family === "null") return c.flags.includes(absent ? "true" : "false");
  if (absent) {
    if (c.set === "all") return true;
    if (c.set === "any") return false;
    return c.ifExists || info.negated;
  }
  const one = (v: string) => matchesOne(c, info, v, ctx) !== info.negated;
  if (typeof actual === "string") return one(actual);
  return c.set === "all" ? actual.every(one) : actual.some(one);
}

/** Whether the operator is one of the negated ones (`StringNotEquals`, `NotIpAddress`...). */
export function isNegatedOperator(base: string): boolean {
  return OPERATORS[base]?.negated ?? false;
}
