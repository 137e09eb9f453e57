/**
 * The one access evaluator (docs/decisions/0011, docs/security.md): every source of permission
 * answers Allow, Deny or nothing, and the decision follows AWS's order.
 *
 * 1. An explicit Deny of the caller's own policies, or of the bucket policy, refuses.
 * 2. A caller of the bucket's own namespace needs one Allow from any source: the namespace's
 *    rules (root key, admins, the bucket owner, a console bucket grant), its identity policies,
 *    the bucket policy or an ACL.
 * 3. A caller of another namespace, or an anonymous one, needs an Allow from the bucket's side:
 *    its policy or an ACL. Its own policies only count when they deny.
 *
 * Sources are functions, asked in that order and only when the decision still needs them, so a
 * bucket owner's request never reads an object's ACL. The result names what decided it, which
 * the console's policy simulator shows.
 */

export type Effect = "Allow" | "Deny" | "NoMatch";

/** One source's answer and, when it decided something, what decided it. */
export interface Verdict {
  effect: Effect;
  /** e.g. `bucket policy, statement "PublicRead"`; empty when nothing matched. */
  by: string;
}

export const NO_MATCH: Verdict = Object.freeze({ effect: "NoMatch", by: "" });

export interface AccessSources {
  /** The caller is of the bucket's namespace (false for anonymous callers). */
  sameNamespace: boolean;
  /** The caller's identity policies (user and groups); NoMatch for anonymous and root. */
  identity(): Verdict;
  /** Root key, admins of the namespace, the bucket owner, console bucket grants. */
  namespaceRules(): Verdict;
  /** The bucket's policy, public access blocks applied. */
  bucketPolicy(): Promise<Verdict>;
  /** The bucket's or the object's ACL (whichever the action reads), public blocks applied. */
  acl(): Promise<Verdict>;
}

export interface AccessDecision {
  allowed: boolean;
  /** What decided: the deciding statement, grant or rule, or "no statement, grant or rule allows it". */
  by: string;
}

export const DEFAULT_DENY = "implicit deny: no policy statement, ACL grant or rule allows it";

export async function decideAccess(s: AccessSources): Promise<AccessDecision> {
  const identity = s.identity();
  if (identity.effect === "Deny") return { allowed: false, by: identity.by };
  // Cheap Allows of the namespace are still subject to the bucket policy's Deny below.
  const rules = s.sameNamespace ? s.namespaceRules() : NO_MATCH;
  const policy = await s.bucketPolicy();
  if (policy.effect === "Deny") return { allowed: false, by: policy.by };
  if (s.sameNamespace) {
    if (rules.effect === "Allow") return { allowed: true, by: rules.by };
    if (identity.effect === "Allow") return { allowed: true, by: identity.by };
  }
  if (policy.effect === "Allow") return { allowed: true, by: policy.by };
  const acl = await s.acl();
  if (acl.effect === "Allow") return { allowed: true, by: acl.by };
  return { allowed: false, by: DEFAULT_DENY };
}
