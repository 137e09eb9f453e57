/**
 * Bucket CORS as S3 defines it: the `CORSConfiguration` document (parsed and validated once, at
 * PutBucketCors, into the rules stored as the bucket configuration `cors`), the answer to a
 * preflight `OPTIONS` and the headers of an actual cross-origin request. Rules are matched in
 * their order; the first whose origin, method and (for a preflight) every requested header
 * match decides.
 */
import { S3Error } from "./errors.ts";
import { escapeXml, parseXmlDocument, S3_NS, type XmlNode } from "./xml.ts";

/** Bucket configuration kind of the stored rules (Backend `getBucketConfig`). */
export const CORS_CONFIG = "cors";

/** The methods a rule may allow, and a preflight may ask for. */
export const CORS_METHODS: readonly string[] = ["GET", "PUT", "HEAD", "POST", "DELETE"];

/** AWS's limit on the rules of one configuration. */
export const MAX_CORS_RULES = 100;

/** One rule, values as sent (GetBucketCors returns them unchanged). */
export interface CorsRule {
  id?: string;
  allowedOrigins: string[];
  allowedMethods: string[];
  allowedHeaders: string[];
  exposeHeaders: string[];
  maxAgeSeconds?: number;
}

/** What a bucket stores: the rules, and the allowed headers lowercased for matching. */
export interface CorsConfig {
  v: 1;
  rules: CorsRule[];
  /** Per rule, its AllowedHeader patterns in lower case (header names match in any case). */
  headerPatterns: string[][];
}

const VARY = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method";
const NOT_ENABLED = "CORSResponse: CORS is not enabled for this bucket.";
const NOT_ALLOWED = "CORSResponse: This CORS request is not allowed. This is usually because " +
  "the evalution of Origin, request method / Access-Control-Request-Method or " +
  "Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.";

const RULE_ELEMENTS = new Set([
  "ID",
  "AllowedOrigin",
  "AllowedMethod",
  "AllowedHeader",
  "ExposeHeader",
  "MaxAgeSeconds",
]);
const MAX_ID_LENGTH = 255;
const MAX_AGE = 2147483647;

const malformed = () => new S3Error("MalformedXML");
const invalid = (message: string) => new S3Error("InvalidRequest", { message });

/**
 * Parses and validates a PutBucketCors body. The document's structure is checked whole first
 * (`MalformedXML`), then each rule's values in order (`InvalidRequest`, naming the value).
 */
export function parseCorsConfiguration(text: string): CorsConfig {
  const doc = parseXmlDocument(text, "CORSConfiguration");
  if (doc.text.trim() !== "") throw malformed();
  if (doc.children.length === 0 || doc.children.length > MAX_CORS_RULES) throw malformed();
  const rules = doc.children.map(readRule);
  for (const rule of rules) validateRuleValues(rule);
  return corsConfigOf(rules);
}

/** The stored form of rules that passed validation. */
export function corsConfigOf(rules: CorsRule[]): CorsConfig {
  return {
    v: 1,
    rules,
    headerPatterns: rules.map((r) => r.allowedHeaders.map((h) => h.toLowerCase())),
  };
}

function readRule(node: XmlNode): CorsRule {
  if (node.name !== "CORSRule" || node.text.trim() !== "") throw malformed();
  const rule: CorsRule = {
    allowedOrigins: [],
    allowedMethods: [],
    allowedHeaders: [],
    exposeHeaders: [],
  };
  let sawId = false;
  let sawMaxAge = false;
  for (const c of node.children) {
    if (!RULE_ELEMENTS.has(c.name) || c.children.length > 0) throw malformed();
    switch (c.name) {
      case "ID":
        if (sawId || c.text.length > MAX_ID_LENGTH) throw malformed();
        sawId = true;
        rule.id = c.text;
        break;
      case "MaxAgeSeconds":
        if (sawMaxAge || !/^\d+$/.test(c.text) || Number(c.text) > MAX_AGE) throw malformed();
        sawMaxAge = true;
        rule.maxAgeSeconds = Number(c.text);
        break;
      case "AllowedOrigin":
        rule.allowedOrigins.push(c.text);
        break;
      case "AllowedMethod":
        rule.allowedMethods.push(c.text);
        break;
      case "AllowedHeader":
        rule.allowedHeaders.push(c.text);
        break;
      case "ExposeHeader":
        rule.exposeHeaders.push(c.text);
        break;
    }
  }
  if (rule.allowedOrigins.length === 0 || rule.allowedMethods.length === 0) throw malformed();
  return rule;
}

function validateRuleValues(rule: CorsRule): void {
  for (const m of rule.allowedMethods) {
    if (!CORS_METHODS.includes(m)) {
      throw invalid(`Found unsupported HTTP method in CORS config. Unsupported method is ${m}`);
    }
  }
  for (const o of rule.allowedOrigins) {
    if (wildcards(o) > 1) {
      throw invalid(`AllowedOrigin "${o}" can not have more than one wildcard.`);
    }
  }
  for (const h of rule.allowedHeaders) {
    if (wildcards(h) > 1) {
      throw invalid(`AllowedHeader "${h}" can not have more than one wildcard.`);
    }
  }
  for (const h of rule.exposeHeaders) {
    if (h.includes("*")) {
      throw invalid(
        `ExposeHeader "${h}" contains wildcard. We currently do not support wildcard for ExposeHeader.`,
      );
    }
  }
}

function wildcards(s: string): number {
  let n = 0;
  for (let i = s.indexOf("*"); i >= 0; i = s.indexOf("*", i + 1)) n++;
  return n;
}

/** The GetBucketCors document: elements of a rule in the order AWS writes them. */
export function corsXml(cfg: CorsConfig): string {
  let out = `<?xml version="1.0" encoding="UTF-8"?>\n<CORSConfiguration xmlns="${S3_NS}">`;
  const each = (name: string, values: string[]) =>
    values.map((v) => `<${name}>${escapeXml(v)}</${name}>`).join("");
  for (const r of cfg.rules) {
    out += "<CORSRule>";
    if (r.id !== undefined) out += `<ID>${escapeXml(r.id)}</ID>`;
    out += each("AllowedMethod", r.allowedMethods) + each("AllowedOrigin", r.allowedOrigins) +
      each("AllowedHeader", r.allowedHeaders);
    if (r.maxAgeSeconds !== undefined) out += `<MaxAgeSeconds>${r.maxAgeSeconds}</MaxAgeSeconds>`;
    out += each("ExposeHeader", r.exposeHeaders) + "</CORSRule>";
  }
  return out + "</CORSConfiguration>";
}

/** `value` against a pattern with at most one `*` (any text, possibly empty). */
export function wildcardMatch(pattern: string, value: string): boolean {
  const star = pattern.indexOf("*");
  if (star < 0) return pattern === value;
  const prefix = pattern.slice(0, star);
  const suffix = pattern.slice(star + 1);
  return value.length >= prefix.length + suffix.length && value.startsWith(prefix) &&
    value.endsWith(suffix);
}

/** The rule that decides, and the Access-Control-Allow-Origin it answers. */
export interface CorsMatch {
  rule: CorsRule;
  allowOrigin: string;
}

/**
 * The first rule allowing `origin` and `method` and, for a preflight, every header of
 * `requestHeaders` (lowercased names); null when none does.
 */
export function matchCorsRule(
  cfg: CorsConfig,
  origin: string,
  method: string,
  requestHeaders: readonly string[] = [],
): CorsMatch | null {
  for (let i = 0; i < cfg.rules.length; i++) {
    const rule = cfg.rules[i];
    if (!rule.allowedMethods.includes(method)) continue;
    if (!rule.allowedOrigins.some((o) => wildcardMatch(o, origin))) continue;
    const patterns = cfg.headerPatterns[i];
    if (!requestHeaders.every((h) => patterns.some((p) => wildcardMatch(p, h)))) continue;
    return { rule, allowOrigin: rule.allowedOrigins.includes("*") ? "*" : origin };
  }
  return null;
}

/** The names of an Access-Control-Request-Headers value: trimmed, lowercased, empty ones dropped. */
export function requestedHeaders(value: string | null): string[] {
  if (!value) return [];
  return value.split(",").map((h) => h.trim().toLowerCase()).filter((h) => h !== "");
}

function corsHeaders(m: CorsMatch, allowHeaders: readonly string[]): Record<string, string> {
  const h: Record<string, string> = {
    "access-control-allow-origin": m.allowOrigin,
    "access-control-allow-methods": m.rule.allowedMethods.join(", "),
  };
  if (allowHeaders.length) h["access-control-allow-headers"] = allowHeaders.join(", ");
  if (m.rule.exposeHeaders.length) {
    h["access-control-expose-headers"] = m.rule.exposeHeaders.join(", ");
  }
  if (m.rule.maxAgeSeconds !== undefined) {
    h["access-control-max-age"] = String(m.rule.maxAgeSeconds);
  }
  if (m.allowOrigin !== "*") h["access-control-allow-credentials"] = "true";
  h["vary"] = VARY;
  return h;
}

/** Who a preflight is about: a bucket or an object (`ResourceType` of AWS's error). */
export type CorsResourceType = "BUCKET" | "OBJECT";

/**
 * The answer to a preflight: its headers when a rule allows it; otherwise the S3 error AWS
 * answers (no Origin or no valid Access-Control-Request-Method: `BadRequest`; no configuration
 * or no matching rule: `AccessForbidden`).
 */
export function preflightHeaders(
  cfg: CorsConfig | null,
  headers: { get(name: string): string | null },
  resourceType: CorsResourceType,
): Record<string, string> {
  const origin = headers.get("origin");
  if (!origin) {
    throw new S3Error("BadRequest", {
      message: "Insufficient information. Origin request header needed.",
    });
  }
  const method = headers.get("access-control-request-method");
  if (method === null || !CORS_METHODS.includes(method)) {
    throw new S3Error("BadRequest", {
      message: `Invalid Access-Control-Request-Method: ${method ?? "null"}`,
    });
  }
  const fields = { Method: method, ResourceType: resourceType };
  if (!cfg) throw new S3Error("AccessForbidden", { message: NOT_ENABLED, fields });
  const wanted = requestedHeaders(headers.get("access-control-request-headers"));
  const m = matchCorsRule(cfg, origin, method, wanted);
  if (!m) throw new S3Error("AccessForbidden", { message: NOT_ALLOWED, fields });
  return corsHeaders(m, wanted);
}

/** Headers of an actual request from `origin` with `method`; null when no rule allows it. */
export function actualRequestHeaders(
  cfg: CorsConfig | null,
  origin: string,
  method: string,
): Record<string, string> | null {
  if (!cfg || !origin) return null;
  const m = matchCorsRule(cfg, origin, method);
  return m ? corsHeaders(m, []) : null;
}
