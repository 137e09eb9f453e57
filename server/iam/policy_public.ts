/**
 * Whether a bucket policy is "public" in AWS's sense (S3 user guide, "The meaning of public"):
 * it is, unless every statement that allows everyone (`"*"`, `{"AWS": "*"}`, or a NotPrincipal)
 * is tied down by a condition that fixes who may use it: `aws:SourceIp` limited to CIDR blocks
 * (none as wide as an IPv4 /8 or an IPv6 /32... see `WIDEST_FIXED_BITS`), or a fixed value of
 * one of the keys below. A value is fixed when it has no wildcard and no policy variable, under a
 * positive operator, without `IfExists` and without `ForAllValues:` (which an absent key passes).
 */
import { isNegatedOperator, type ParsedCondition } from "./policy_conditions.ts";
import { literalOf } from "./policy_pattern.ts";
import type { ParsedPolicy, ParsedStatement } from "./policy.ts";

const FIXED_KEYS = new Set([
  "aws:principalaccount",
  "aws:principalarn",
  "aws:principalorgid",
  "aws:principalorgpaths",
  "aws:sourcearn",
  "aws:sourceaccount",
  "aws:sourceorgid",
  "aws:sourceorgpaths",
  "aws:sourceowner",
  "aws:sourcevpc",
  "aws:sourcevpce",
  "aws:userid",
  "s3:dataaccesspointaccount",
  "s3:dataaccesspointarn",
  "s3:x-amz-server-side-encryption-aws-kms-key-id",
]);
const FIXING_OPERATORS = new Set([
  "StringEquals",
  "StringEqualsIgnoreCase",
  "StringLike",
  "ArnEquals",
  "ArnLike",
]);

/** The widest CIDR blocks that still count as a fixed set of addresses. */
const WIDEST_FIXED_BITS = { v4: 8, v6: 32 };

function fixesAccess(c: ParsedCondition): boolean {
  if (c.ifExists || c.set === "all" || isNegatedOperator(c.base)) return false;
  if (c.key === "aws:sourceip") {
    return c.base === "IpAddress" && c.blocks.length > 0 &&
      c.blocks.every((b) => b.bits >= (b.v6 ? WIDEST_FIXED_BITS.v6 : WIDEST_FIXED_BITS.v4));
  }
  return FIXED_KEYS.has(c.key) && FIXING_OPERATORS.has(c.base) && c.patterns.length > 0 &&
    c.patterns.every((p) => literalOf(p) !== null && literalOf(p) !== "");
}

/** Whether one statement grants access to everyone (see the module comment). */
export function isPublicStatement(st: ParsedStatement): boolean {
  if (st.effect !== "Allow" || !st.principals) return false;
  if (!st.notPrincipal && !st.principals.any) return false;
  return !st.conditions.some(fixesAccess);
}

/** Whether a bucket policy is public: one of its statements is. */
export function isPublicPolicy(p: ParsedPolicy): boolean {
  return p.statements.some(isPublicStatement);
}
