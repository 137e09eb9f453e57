/**
 * The policy language of AWS, for identity policies (attached to users and groups) and bucket
 * policies: JSON text is parsed and validated once into a `ParsedPolicy` (plain data, stored with
 * the bucket configuration), which `evaluatePolicy` matches against requests without parsing or
 * building anything per request. Faults are `PolicyError`s whose message is the text AWS answers
 * in `MalformedPolicy`. The evaluation order of every source together is `evaluate.ts`'s business.
 */
import { type ActionTarget, targetsOfAction } from "./policy_actions.ts";
import {
  ConditionError,
  conditionHolds,
  parseConditions,
  type ParsedCondition,
} from "./policy_conditions.ts";
import {
  compilePattern,
  matchPattern,
  type Pattern,
  type PolicyContext,
} from "./policy_pattern.ts";

export type { ParsedCondition } from "./policy_conditions.ts";
export type { PolicyContext } from "./policy_pattern.ts";
export { isPublicPolicy, isPublicStatement } from "./policy_public.ts";

/** The largest bucket policy AWS accepts, in bytes of its text. */
export const MAX_BUCKET_POLICY_BYTES = 20480;

/** A policy document that cannot be accepted; `message` is AWS's `MalformedPolicy` text. */
export class PolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PolicyError";
  }
}

/** Whom a statement's Principal (or NotPrincipal) names. */
export interface ParsedPrincipals {
  /** `"*"` or `{"AWS": "*"}`: everyone, anonymous included. */
  any: boolean;
  /** Account ids (tenant names; "" is the global namespace): every principal of the account. */
  accounts: string[];
  /** ARNs of users (`arn:aws:iam::<account>:user/<name>`). */
  arns: string[];
  canonicalIds: string[];
}

export interface ParsedStatement {
  sid?: string;
  effect: "Allow" | "Deny";
  /** Absent in identity policies: the statement applies to whoever the policy is attached to. */
  principals?: ParsedPrincipals;
  /** `principals` came from NotPrincipal: the statement applies to everyone else. */
  notPrincipal: boolean;
  /** Lower case. */
  actions: Pattern[];
  notAction: boolean;
  resources: Pattern[];
  notResource: boolean;
  conditions: ParsedCondition[];
}

export interface ParsedPolicy {
  v: 1;
  kind: "identity" | "bucket";
  version: "2012-10-17" | "2008-10-17";
  id?: string;
  statements: ParsedStatement[];
}

/** Who asks: an authenticated principal (see decision 0011 for the ARN and id forms). */
export interface PolicyPrincipal {
  arn: string;
  /** The namespace's account id: the tenant name, "" for the global namespace. */
  account: string;
  canonicalId: string;
  username: string;
  userId: string;
}

export interface PolicyRequest {
  /** e.g. `s3:GetObject` (any case). */
  action: string;
  /**
   * The resource ARN as the policy's namespace names it: `arn:aws:s3:::bucket/key` for a bucket
   * of the policy's namespace, `arn:aws:s3:::tenant:bucket/key` for another one (`resourceArn`).
   */
  resource: string;
  /** null: anonymous. */
  principal: PolicyPrincipal | null;
  /** Condition keys in lower case. */
  context: PolicyContext;
}

export interface PolicyDecision {
  decision: "Allow" | "Deny" | "NoMatch";
  /** The statement that decided: the first matching Deny, else the first matching Allow. */
  statement?: { policy: number; index: number; sid?: string };
}

/** Tells whether a principal ARN names an existing user or account (IAM implements it). */
export interface PrincipalLookup {
  principalExists(arn: string): boolean;
}

export type ParseOptions =
  | { kind: "identity" }
  | {
    kind: "bucket";
    /** The bucket the policy is for. */
    bucket: string;
    /** The account id of its namespace: the tenant name ("" = global namespace). */
    account: string;
    /** Checks principal ARNs; every well-formed one is accepted without it. */
    principals?: PrincipalLookup;
  };

const TOP_FIELDS = new Set(["Version", "Id", "Statement"]);
const STATEMENT_FIELDS = new Set([
  "Sid",
  "Effect",
  "Principal",
  "NotPrincipal",
  "Action",
  "NotAction",
  "Resource",
  "NotResource",
  "Condition",
]);
const ACCOUNT = /^(?:[a-z0-9][a-z0-9-]{1,62}|\d{12})$/;
const ACCOUNT_ROOT = /^arn:aws:iam::([a-z0-9-]*):root$/;
const USER_ARN = /^arn:aws:iam::([a-z0-9-]*):(?:user|role)\/[\w+=,.@/-]+$/;

/**
 * Parses and validates a policy (JSON text, or an already parsed JSON value) into the form
 * `evaluatePolicy` reads. Throws `PolicyError` with AWS's message.
 */
export function parsePolicy(doc: unknown, opts: ParseOptions): ParsedPolicy {
  if (typeof doc === "string") {
    if (!doc.startsWith("{")) {
      throw new PolicyError("Policies must be valid JSON and the first byte must be '{'");
    }
    try {
      doc = JSON.parse(doc);
    } catch {
      throw new PolicyError("This policy contains invalid Json");
    }
  }
  if (!isObject(doc)) {
    throw new PolicyError("Policies must be valid JSON and the first byte must be '{'");
  }
  for (const k of Object.keys(doc)) {
    if (!TOP_FIELDS.has(k)) throw new PolicyError(`Unknown field ${k}`);
  }
  const version = doc.Version ?? "2008-10-17";
  if (version !== "2012-10-17" && version !== "2008-10-17") {
    throw new PolicyError("The policy must contain a valid version string");
  }
  if (doc.Id !== undefined && typeof doc.Id !== "string") {
    throw new PolicyError("Policy has an invalid Id");
  }
  if (doc.Statement === undefined) throw new PolicyError("Missing required field Statement");
  const raw = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
  if (raw.length === 0) throw new PolicyError("Could not parse the policy: Statement is empty!");
  const sids = new Set<string>();
  const statements = raw.map((s) => {
    const st = parseStatement(s, opts, version === "2012-10-17");
    if (st.sid !== undefined && opts.kind === "bucket") {
      if (sids.has(st.sid)) {
        throw new PolicyError("Statement IDs (SID) in a single policy must be unique");
      }
      sids.add(st.sid);
    }
    return st;
  });
  return {
    v: 1,
    kind: opts.kind,
    version,
    ...(doc.Id !== undefined ? { id: doc.Id as string } : {}),
    statements,
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A string or a non-empty list of strings, else null. */
function stringList(v: unknown): string[] | null {
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0 || list.some((s) => typeof s !== "string" || s === "")) return null;
  return list as string[];
}

function parseStatement(s: unknown, opts: ParseOptions, variables: boolean): ParsedStatement {
  if (!isObject(s)) throw new PolicyError("This policy contains invalid Json");
  for (const k of Object.keys(s)) {
    if (!STATEMENT_FIELDS.has(k)) throw new PolicyError(`Unknown field ${k}`);
  }
  if (s.Sid !== undefined && typeof s.Sid !== "string") {
    throw new PolicyError("Policy has an invalid Sid");
  }
  if (s.Effect === undefined) throw new PolicyError("Missing required field Effect");
  if (s.Effect !== "Allow" && s.Effect !== "Deny") {
    throw new PolicyError(`Invalid effect: ${String(s.Effect)}`);
  }
  const st: ParsedStatement = {
    ...(s.Sid !== undefined ? { sid: s.Sid as string } : {}),
    effect: s.Effect,
    notPrincipal: s.NotPrincipal !== undefined,
    actions: [],
    notAction: s.NotAction !== undefined,
    resources: [],
    notResource: s.NotResource !== undefined,
    conditions: [],
  };
  const principal = s.Principal ?? s.NotPrincipal;
  if (opts.kind === "identity") {
    if (principal !== undefined) {
      throw new PolicyError("Policy document should not specify a principal.");
    }
  } else {
    if (principal === undefined) throw new PolicyError("Missing required field Principal");
    if (s.Principal !== undefined && s.NotPrincipal !== undefined) {
      throw new PolicyError("Invalid principal in policy");
    }
    st.principals = parsePrincipals(principal, opts.principals);
  }
  const targets = parseActions(s, st, opts.kind);
  parseResources(s, st, opts, variables);
  if (opts.kind === "bucket" && !st.notAction && !st.notResource) {
    const present = new Set<ActionTarget>(
      st.resources.map((r) => resourceTarget(r)),
    );
    if (![...targets].some((t) => present.has(t))) {
      throw new PolicyError("Action does not apply to any resource(s) in statement");
    }
  }
  if (s.Condition !== undefined) {
    if (!isObject(s.Condition)) throw new PolicyError("This policy contains invalid Json");
    try {
      // IAM accepts condition keys of every service in identity policies; S3 checks its own.
      st.conditions = parseConditions(s.Condition, variables, opts.kind === "bucket");
    } catch (e) {
      if (e instanceof ConditionError) throw new PolicyError(e.message);
      throw e;
    }
  }
  return st;
}

function parsePrincipals(p: unknown, lookup?: PrincipalLookup): ParsedPrincipals {
  const out: ParsedPrincipals = { any: false, accounts: [], arns: [], canonicalIds: [] };
  const invalid = () => new PolicyError("Invalid principal in policy");
  if (p === "*") return { ...out, any: true };
  if (!isObject(p) || Object.keys(p).length === 0) throw invalid();
  for (const [type, value] of Object.entries(p)) {
    const list = stringList(value);
    if (!list) throw invalid();
    if (type === "CanonicalUser") {
      if (list.some((id) => /\s/.test(id))) throw invalid();
      out.canonicalIds.push(...list);
    } else if (type === "AWS") {
      for (const v of list) {
        if (v === "*") {
          out.any = true;
          continue;
        }
        const root = ACCOUNT_ROOT.exec(v);
        const account = root ? root[1] : ACCOUNT.test(v) ? v : null;
        if (account !== null) {
          if (lookup && !lookup.principalExists(`arn:aws:iam::${account}:root`)) throw invalid();
          out.accounts.push(account);
        } else if (USER_ARN.test(v)) {
          if (lookup && !lookup.principalExists(v)) throw invalid();
          out.arns.push(v);
        } else throw invalid();
      }
    } else if (type !== "Service") {
      // Service principals are accepted as AWS accepts them; no service calls this server.
      throw invalid();
    }
  }
  return out;
}

/** The strings of `Action`/`NotAction` (or `Resource`/`NotResource`): exactly one is required. */
function elementList(
  s: Record<string, unknown>,
  field: "Action" | "Resource",
  noun: string,
): string[] {
  if (s[field] !== undefined && s[`Not${field}`] !== undefined) {
    throw new PolicyError(`Statement can not have both ${field} and Not${field}`);
  }
  const raw = s[field] ?? s[`Not${field}`];
  if (raw === undefined) throw new PolicyError(`Missing required field ${field}`);
  const list = stringList(raw);
  if (!list) throw new PolicyError(`Policy has invalid ${noun}`);
  return list;
}

function parseActions(
  s: Record<string, unknown>,
  st: ParsedStatement,
  kind: ParsedPolicy["kind"],
): Set<ActionTarget> {
  const list = elementList(s, "Action", "action");
  const targets = new Set<ActionTarget>();
  for (const a of list) {
    const found = targetsOfAction(a);
    // IAM accepts well-formed names of actions it does not know in identity policies.
    const wellFormed = a === "*" || /^s3:[a-z0-9*?]+$/i.test(a);
    if (!wellFormed || (kind === "bucket" && found.size === 0)) {
      throw new PolicyError("Policy has invalid action");
    }
    for (const t of found) targets.add(t);
    st.actions.push(compilePattern(a.toLowerCase(), { wildcards: true, variables: false }));
  }
  return targets;
}

function parseResources(
  s: Record<string, unknown>,
  st: ParsedStatement,
  opts: ParseOptions,
  variables: boolean,
): void {
  const list = elementList(s, "Resource", "resource");
  for (let r of list) {
    if (opts.kind === "bucket") r = ownBucketResource(r, opts.bucket, opts.account);
    else if (r !== "*" && !r.startsWith("arn:aws:s3:::")) {
      throw new PolicyError("Policy has invalid resource");
    }
    try {
      st.resources.push(compilePattern(r, { wildcards: true, variables }));
    } catch {
      throw new PolicyError("Policy has invalid resource");
    }
  }
}

/**
 * A bucket policy's resource must name its bucket or objects in it; the `tenant:bucket` form of
 * the policy's own namespace is read as the plain name (requests name it so).
 */
function ownBucketResource(r: string, bucket: string, account: string): string {
  const prefix = "arn:aws:s3:::";
  if (!r.startsWith(prefix)) throw new PolicyError("Policy has invalid resource");
  const rest = r.slice(prefix.length);
  const slash = rest.indexOf("/");
  const name = slash < 0 ? rest : rest.slice(0, slash);
  const own = name === bucket || (account !== "" && name === `${account}:${bucket}`);
  if (!own) throw new PolicyError("Policy has invalid resource");
  return prefix + bucket + (slash < 0 ? "" : rest.slice(slash));
}

function resourceTarget(p: Pattern): ActionTarget {
  const text = typeof p === "string" ? p : p.t.map((t) => typeof t === "string" ? t : "*").join("");
  return text.slice("arn:aws:s3:::".length).includes("/") ? "object" : "bucket";
}

/**
 * The resource ARN a policy of account `policyAccount` sees for a bucket of account
 * `bucket.account` (tenant names, "" = global): plain for its own namespace and for the global
 * one, `tenant:bucket` otherwise (decision 0011); `arn:aws:s3:::*` for service-level requests.
 */
export function resourceArn(
  bucket: { name: string; account: string } | null,
  key: string | null,
  policyAccount: string,
): string {
  if (!bucket) return "arn:aws:s3:::*";
  const own = bucket.account === policyAccount || bucket.account === "";
  const name = own ? bucket.name : `${bucket.account}:${bucket.name}`;
  return `arn:aws:s3:::${name}${key === null ? "" : `/${key}`}`;
}

function principalMatches(p: ParsedPrincipals, who: PolicyPrincipal | null): boolean {
  if (p.any) return true;
  if (!who) return false;
  return p.accounts.includes(who.account) || p.arns.includes(who.arn) ||
    p.canonicalIds.includes(who.canonicalId);
}

function anyMatch(patterns: Pattern[], value: string, ctx: PolicyContext): boolean {
  for (const p of patterns) if (matchPattern(p, value, ctx)) return true;
  return false;
}

/** Whether a statement applies to a request (Effect aside). */
export function statementMatches(st: ParsedStatement, req: PolicyRequest, action: string): boolean {
  if (st.principals && principalMatches(st.principals, req.principal) === st.notPrincipal) {
    return false;
  }
  if (anyMatch(st.actions, action, req.context) === st.notAction) return false;
  if (anyMatch(st.resources, req.resource, req.context) === st.notResource) return false;
  for (const c of st.conditions) if (!conditionHolds(c, req.context)) return false;
  return true;
}

/**
 * Evaluates policies together: a matching Deny anywhere decides, else a matching Allow, else
 * nothing matched. Reports the deciding statement.
 */
export function evaluatePolicy(policies: ParsedPolicy[], req: PolicyRequest): PolicyDecision {
  const action = req.action.toLowerCase();
  let allow: PolicyDecision["statement"];
  for (let pi = 0; pi < policies.length; pi++) {
    const sts = policies[pi].statements;
    for (let i = 0; i < sts.length; i++) {
      const st = sts[i];
      if (!statementMatches(st, req, action)) continue;
      const at = { policy: pi, index: i, ...(st.sid !== undefined ? { sid: st.sid } : {}) };
      if (st.effect === "Deny") return { decision: "Deny", statement: at };
      allow ??= at;
    }
  }
  return allow ? { decision: "Allow", statement: allow } : { decision: "NoMatch" };
}
