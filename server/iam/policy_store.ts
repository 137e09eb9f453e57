/** Stored policies and their attachments to users and groups. */
import { type IamCore, newId, type Row, sql } from "./core.ts";
import { IamError } from "./errors.ts";
import { type ParsedPolicy, parsePolicy, PolicyError } from "./policy.ts";

/** A policy document as written (JSON). */
export type PolicyDocument = Record<string, unknown>;

export interface Policy {
  id: string;
  tenantId: string | null;
  name: string;
  document: PolicyDocument;
  attachments: { users: string[]; groups: string[] };
  createdAt: number;
  updatedAt: number;
}

function toPolicy(core: IamCore, r: Row): Policy {
  const att = sql(
    core,
    "SELECT subject_type, subject_id FROM policy_attachments WHERE policy_id = ?",
  ).all(r.id as string) as Row[];
  return {
    id: r.id as string,
    tenantId: (r.tenant_id as string) || null,
    name: r.name as string,
    document: JSON.parse(r.document as string),
    attachments: {
      users: att.filter((a) => a.subject_type === "user").map((a) => a.subject_id as string),
      groups: att.filter((a) => a.subject_type === "group").map((a) => a.subject_id as string),
    },
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

export function getPolicy(core: IamCore, id: string): Policy | null {
  const r = sql(core, "SELECT * FROM policies WHERE id = ?").get(id) as Row | undefined;
  return r ? toPolicy(core, r) : null;
}

export function listPolicies(core: IamCore, tenantId?: string | null): Policy[] {
  const rows = tenantId === undefined
    ? sql(core, "SELECT * FROM policies ORDER BY tenant_id, name").all()
    : sql(core, "SELECT * FROM policies WHERE tenant_id = ? ORDER BY name").all(
      tenantId ?? "",
    );
  return (rows as Row[]).map((r) => toPolicy(core, r));
}

function validDocument(doc: unknown): string {
  const parsed = typeof doc === "string" ? safeParse(doc) : doc;
  try {
    parsePolicy(parsed, { kind: "identity" });
  } catch (e) {
    if (e instanceof PolicyError) {
      throw new IamError("InvalidRequest", `policy document: ${e.message}`);
    }
    throw e;
  }
  return JSON.stringify(parsed);
}

function safeParse(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    throw new IamError("InvalidRequest", "policy document is not valid JSON");
  }
}

export function createPolicy(
  core: IamCore,
  input: { name: unknown; document: unknown; tenantId: string | null },
): Policy {
  if (
    typeof input.name !== "string" || !/^[A-Za-z0-9][A-Za-z0-9 ._+=,@-]{0,127}$/.test(input.name)
  ) {
    throw new IamError("InvalidRequest", "name must be 1-128 characters");
  }
  const doc = validDocument(input.document);
  const id = newId("pol");
  const now = core.clock.now();
  try {
    sql(
      core,
      "INSERT INTO policies (id, tenant_id, name, document, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
    ).run(id, input.tenantId ?? "", input.name, doc, now, now);
  } catch (e) {
    if (/UNIQUE/.test(String(e))) throw new IamError("Conflict", "policy name already exists");
    throw e;
  }
  return getPolicy(core, id)!;
}

export function updatePolicy(
  core: IamCore,
  id: string,
  patch: { name?: unknown; document?: unknown },
): Policy {
  const p = getPolicy(core, id);
  if (!p) throw new IamError("NotFound", "no such policy");
  if (patch.name !== undefined && typeof patch.name !== "string") {
    throw new IamError("InvalidRequest", "name must be a string");
  }
  const doc = patch.document === undefined
    ? JSON.stringify(p.document)
    : validDocument(patch.document);
  try {
    sql(core, "UPDATE policies SET name = ?, document = ?, updated_at = ? WHERE id = ?").run(
      (patch.name as string | undefined) ?? p.name,
      doc,
      core.clock.now(),
      id,
    );
  } catch (e) {
    if (/UNIQUE/.test(String(e))) throw new IamError("Conflict", "policy name already exists");
    throw e;
  }
  return getPolicy(core, id)!;
}

export function deletePolicy(core: IamCore, id: string): void {
  const res = sql(core, "DELETE FROM policies WHERE id = ?").run(id);
  if (Number(res.changes) === 0) throw new IamError("NotFound", "no such policy");
}

export function attachPolicy(
  core: IamCore,
  policyId: string,
  subjectType: "user" | "group",
  subjectId: string,
): void {
  const p = getPolicy(core, policyId);
  if (!p) throw new IamError("NotFound", "no such policy");
  const ns = p.tenantId ?? "";
  const ok = subjectType === "user"
    ? sql(core, "SELECT 1 FROM users WHERE id = ? AND IFNULL(tenant_id, '') = ?").get(
      subjectId,
      ns,
    )
    : sql(core, "SELECT 1 FROM groups WHERE id = ? AND tenant_id = ?").get(subjectId, ns);
  if (!ok) throw new IamError("NotFound", `no such ${subjectType} in the policy's tenant`);
  sql(
    core,
    "INSERT OR IGNORE INTO policy_attachments (policy_id, subject_type, subject_id) VALUES (?, ?, ?)",
  ).run(policyId, subjectType, subjectId);
}

export function detachPolicy(
  core: IamCore,
  policyId: string,
  subjectType: "user" | "group",
  subjectId: string,
): void {
  sql(
    core,
    "DELETE FROM policy_attachments WHERE policy_id = ? AND subject_type = ? AND subject_id = ?",
  ).run(policyId, subjectType, subjectId);
}

/**
 * Every policy that applies to a user (directly or through a group), parsed. A stored document
 * the current language refuses (written under older rules) denies everything: failing closed
 * keeps any Deny it held in force.
 */
export function documentsFor(core: IamCore, userId: string, groupIds: string[]): ParsedPolicy[] {
  const marks = groupIds.map(() => "?").join(",");
  const rows = sql(
    core,
    `SELECT DISTINCT p.document FROM policies p JOIN policy_attachments a ON a.policy_id = p.id
      WHERE (a.subject_type = 'user' AND a.subject_id = ?)
         ${groupIds.length ? `OR (a.subject_type = 'group' AND a.subject_id IN (${marks}))` : ""}`,
  ).all(userId, ...groupIds) as Row[];
  return rows.map((r) => {
    try {
      return parsePolicy(r.document as string, { kind: "identity" });
    } catch {
      return DENY_ALL;
    }
  });
}

const DENY_ALL: ParsedPolicy = parsePolicy(
  { Version: "2012-10-17", Statement: [{ Effect: "Deny", Action: "*", Resource: "*" }] },
  { kind: "identity" },
);
