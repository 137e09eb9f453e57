/**
 * AWS-style JSON policies: validation and evaluation. A request is allowed when some statement
 * allows it and none denies it; an explicit Deny always wins. Supported condition operators:
 * String(Not)Equals(IgnoreCase), String(Not)Like, Bool, IpAddress/NotIpAddress,
 * Numeric*, Date*, each with an optional `IfExists` suffix.
 */
import { ipInCidr, isCidr } from "./net.ts";

export interface PolicyStatement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[] | boolean | number>>;
}

export interface PolicyDocument {
  Version?: string;
  Statement: PolicyStatement[] | PolicyStatement;
}

/** What a statement is matched against. */
export interface RequestFacts {
  /** e.g. `s3:GetObject` */
  action: string;
  /** e.g. `arn:aws:s3:::bucket/key` */
  resource: string;
  /** Condition keys in lower case: `aws:sourceip`, `s3:prefix`, `aws:securetransport`... */
  context: Record<string, string | undefined>;
}

export type Decision = "Allow" | "Deny" | "NoMatch";

const OPERATORS = new Set([
  "StringEquals",
  "StringNotEquals",
  "StringEqualsIgnoreCase",
  "StringNotEqualsIgnoreCase",
  "StringLike",
  "StringNotLike",
  "Bool",
  "IpAddress",
  "NotIpAddress",
  "NumericEquals",
  "NumericNotEquals",
  "NumericLessThan",
  "NumericLessThanEquals",
  "NumericGreaterThan",
  "NumericGreaterThanEquals",
  "DateEquals",
  "DateNotEquals",
  "DateLessThan",
  "DateLessThanEquals",
  "DateGreaterThan",
  "DateGreaterThanEquals",
  "Null",
]);

function list<T>(v: T | T[] | undefined): T[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/** Validates a parsed document; returns the problem or null. */
export function policyProblem(doc: unknown): string | null {
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) return "document must be an object";
  const d = doc as Record<string, unknown>;
  if (d.Version !== undefined && d.Version !== "2012-10-17" && d.Version !== "2008-10-17") {
    return `unsupported Version "${d.Version}"`;
  }
  const stmts = list(d.Statement as unknown);
  if (stmts.length === 0) return "Statement is required";
  for (const [i, s] of stmts.entries()) {
    if (!s || typeof s !== "object") return `Statement[${i}] must be an object`;
    const st = s as Record<string, unknown>;
    if (st.Effect !== "Allow" && st.Effect !== "Deny") {
      return `Statement[${i}].Effect must be Allow or Deny`;
    }
    for (const field of ["Action", "Resource"]) {
      const v = list(st[field] as unknown);
      if (v.length === 0 || v.some((a) => typeof a !== "string" || a === "")) {
        return `Statement[${i}].${field} must be a string or a list of strings`;
      }
    }
    for (const a of list(st.Action as string[])) {
      if (a !== "*" && !/^s3:[A-Za-z*?]+$/.test(a)) return `Statement[${i}] action "${a}"`;
    }
    for (const r of list(st.Resource as string[])) {
      if (r !== "*" && !r.startsWith("arn:aws:s3:::")) return `Statement[${i}] resource "${r}"`;
    }
    if (st.Condition !== undefined) {
      if (!st.Condition || typeof st.Condition !== "object") {
        return `Statement[${i}].Condition must be an object`;
      }
      for (const [op, body] of Object.entries(st.Condition as Record<string, unknown>)) {
        const base = op.replace(/IfExists$/, "").replace(/^ForAnyValue:|^ForAllValues:/, "");
        if (!OPERATORS.has(base)) return `Statement[${i}] condition operator "${op}"`;
        if (!body || typeof body !== "object") {
          return `Statement[${i}].Condition.${op} must be an object`;
        }
        if (base === "IpAddress" || base === "NotIpAddress") {
          for (const v of Object.values(body).flat()) {
            if (typeof v !== "string" || !isCidr(v)) {
              return `Statement[${i}].Condition.${op}: ${
                JSON.stringify(v)
              } is not an IP address or CIDR block`;
            }
          }
        }
      }
    }
  }
  return null;
}

/** `*` and `?` wildcards, case-sensitive. */
export function wildcardMatch(pattern: string, value: string): boolean {
  let re = "^";
  for (const c of pattern) {
    if (c === "*") re += ".*";
    else if (c === "?") re += ".";
    else re += c.replace(/[.+^${}()|[\]\\/]/g, "\\$&");
  }
  return new RegExp(re + "$", "s").test(value);
}

function actionMatches(pattern: string, action: string): boolean {
  // Action names are case-insensitive in AWS.
  return wildcardMatch(pattern.toLowerCase(), action.toLowerCase());
}

function conditionHolds(op: string, key: string, want: unknown, facts: RequestFacts): boolean {
  const ifExists = op.endsWith("IfExists");
  const base = op.replace(/IfExists$/, "").replace(/^ForAnyValue:|^ForAllValues:/, "");
  const actual = facts.context[key.toLowerCase()];
  const wants = list(want as string | string[]).map(String);
  if (base === "Null") {
    const isNull = actual === undefined;
    return wants.some((w) => (w === "true") === isNull);
  }
  if (actual === undefined) return ifExists || base.includes("Not");
  switch (base) {
    case "StringEquals":
      return wants.includes(actual);
    case "StringNotEquals":
      return !wants.includes(actual);
    case "StringEqualsIgnoreCase":
      return wants.some((w) => w.toLowerCase() === actual.toLowerCase());
    case "StringNotEqualsIgnoreCase":
      return !wants.some((w) => w.toLowerCase() === actual.toLowerCase());
    case "StringLike":
      return wants.some((w) => wildcardMatch(w, actual));
    case "StringNotLike":
      return !wants.some((w) => wildcardMatch(w, actual));
    case "Bool":
      return wants.some((w) => w.toLowerCase() === actual.toLowerCase());
    case "IpAddress":
      return wants.some((w) => ipInCidr(actual, w));
    case "NotIpAddress":
      return !wants.some((w) => ipInCidr(actual, w));
  }
  if (base.startsWith("Numeric") || base.startsWith("Date")) {
    const parse = (s: string) => base.startsWith("Date") ? Date.parse(s) : Number(s);
    const a = parse(actual);
    const cmp = wants.map(parse);
    if (Number.isNaN(a) || cmp.some(Number.isNaN)) return false;
    const rel = base.replace(/^Numeric|^Date/, "");
    return cmp.some((b) => {
      switch (rel) {
        case "Equals":
          return a === b;
        case "NotEquals":
          return a !== b;
        case "LessThan":
          return a < b;
        case "LessThanEquals":
          return a <= b;
        case "GreaterThan":
          return a > b;
        case "GreaterThanEquals":
          return a >= b;
      }
      return false;
    });
  }
  return false;
}

function statementMatches(st: PolicyStatement, facts: RequestFacts): boolean {
  if (!list(st.Action).some((a) => actionMatches(a, facts.action))) return false;
  if (!list(st.Resource).some((r) => wildcardMatch(r, facts.resource))) return false;
  for (const [op, body] of Object.entries(st.Condition ?? {})) {
    for (const [key, want] of Object.entries(body)) {
      if (!conditionHolds(op, key, want, facts)) return false;
    }
  }
  return true;
}

/** Evaluates documents together: any matching Deny wins, then any Allow. */
export function evaluatePolicies(docs: PolicyDocument[], facts: RequestFacts): Decision {
  let allowed = false;
  for (const d of docs) {
    for (const st of list(d.Statement)) {
      if (!statementMatches(st, facts)) continue;
      if (st.Effect === "Deny") return "Deny";
      allowed = true;
    }
  }
  return allowed ? "Allow" : "NoMatch";
}
