/**
 * The rows of the built-in key service in IAM's database (migration 3): `kms_keys` (one per key
 * and namespace) and `kms_key_versions` (the key's material, sealed by a master key). Plain SQL
 * over the handle; what the rows mean is builtin_kms.ts's business.
 */
import type { StatementSync } from "node:sqlite";
import { type Db, tx } from "../db/mod.ts";

export interface KeyRow {
  ns: string;
  id: string;
  description: string;
  state: "Enabled" | "Disabled";
  isDefault: boolean;
  created: number;
  rotated: number | null;
  /** The newest version (versions are numbered from 1). */
  versions: number;
}

export interface VersionRow {
  ns: string;
  keyId: string;
  version: number;
  /** What sealed the material: a master key of the keyring (`m:<id>`). */
  kek: string;
  sealed: Uint8Array;
}

type Row = Record<string, unknown>;

const KEY_COLUMNS = `k.ns, k.id, k.description, k.state, k.is_default, k.created_at, k.rotated_at,
  (SELECT MAX(version) FROM kms_key_versions v WHERE v.ns = k.ns AND v.key_id = k.id) AS versions`;

function toKey(r: Row): KeyRow {
  return {
    ns: r.ns as string,
    id: r.id as string,
    description: r.description as string,
    state: r.state as KeyRow["state"],
    isDefault: Number(r.is_default) === 1,
    created: Number(r.created_at),
    rotated: r.rotated_at === null ? null : Number(r.rotated_at),
    versions: Number(r.versions ?? 0),
  };
}

function toVersion(r: Row): VersionRow {
  return {
    ns: r.ns as string,
    keyId: r.key_id as string,
    version: Number(r.version),
    kek: r.kek as string,
    sealed: new Uint8Array(r.sealed as Uint8Array),
  };
}

/** The key service's tables, with prepared statements kept for the data path. */
export class KmsStore {
  readonly #db: Db;
  readonly #statements = new Map<string, StatementSync>();

  constructor(db: Db) {
    this.#db = db;
  }

  #sql(text: string): StatementSync {
    let st = this.#statements.get(text);
    if (!st) this.#statements.set(text, st = this.#db.prepare(text));
    return st;
  }

  key(ns: string, id: string): KeyRow | null {
    const r = this.#sql(`SELECT ${KEY_COLUMNS} FROM kms_keys k WHERE k.ns = ? AND k.id = ?`)
      .get(ns, id) as Row | undefined;
    return r ? toKey(r) : null;
  }

  defaultKey(ns: string): KeyRow | null {
    const r = this.#sql(`SELECT ${KEY_COLUMNS} FROM kms_keys k WHERE k.ns = ? AND k.is_default = 1`)
      .get(ns) as Row | undefined;
    return r ? toKey(r) : null;
  }

  keys(ns: string): KeyRow[] {
    return (this.#sql(
      `SELECT ${KEY_COLUMNS} FROM kms_keys k WHERE k.ns = ? ORDER BY k.created_at, k.id`,
    ).all(ns) as Row[]).map(toKey);
  }

  version(ns: string, id: string, version: number): VersionRow | null {
    const r = this.#sql(
      "SELECT * FROM kms_key_versions WHERE ns = ? AND key_id = ? AND version = ?",
    ).get(ns, id, version) as Row | undefined;
    return r ? toVersion(r) : null;
  }

  /**
   * Inserts a key with its first version; false when `(ns, id)` exists, or when `isDefault` and
   * the namespace has a default key already (nothing is written then).
   */
  insertKey(
    key: { ns: string; id: string; description: string; isDefault: boolean; created: number },
    first: { kek: string; sealed: Uint8Array },
  ): boolean {
    return tx(this.#db, () => {
      if (this.key(key.ns, key.id)) return false;
      if (key.isDefault && this.defaultKey(key.ns)) return false;
      this.#sql(
        `INSERT INTO kms_keys (ns, id, description, state, is_default, created_at)
         VALUES (?, ?, ?, 'Enabled', ?, ?)`,
      ).run(key.ns, key.id, key.description, key.isDefault ? 1 : 0, key.created);
      this.#insertVersion(key.ns, key.id, 1, first, key.created);
      return true;
    });
  }

  /** Sets a key's state; false when there is no such key. */
  setState(ns: string, id: string, state: KeyRow["state"]): boolean {
    const res = this.#sql("UPDATE kms_keys SET state = ? WHERE ns = ? AND id = ?")
      .run(state, ns, id);
    return Number(res.changes) > 0;
  }

  /** Adds the next version of a key's material; its number, or null when there is no such key. */
  addVersion(
    ns: string,
    id: string,
    material: { kek: string; sealed: Uint8Array },
    now: number,
  ): number | null {
    return tx(this.#db, () => {
      const k = this.key(ns, id);
      if (!k) return null;
      const version = k.versions + 1;
      this.#insertVersion(ns, id, version, material, now);
      this.#sql("UPDATE kms_keys SET rotated_at = ? WHERE ns = ? AND id = ?").run(now, ns, id);
      return version;
    });
  }

  #insertVersion(
    ns: string,
    id: string,
    version: number,
    m: { kek: string; sealed: Uint8Array },
    now: number,
  ) {
    this.#sql(
      `INSERT INTO kms_key_versions (ns, key_id, version, kek, sealed, created_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
    ).run(ns, id, version, m.kek, m.sealed, now);
  }

  /** The master keys that seal material, with how many versions each seals. */
  materialKeks(): { kek: string; count: number }[] {
    return (this.#sql("SELECT kek, COUNT(*) AS n FROM kms_key_versions GROUP BY kek")
      .all() as Row[])
      .map((r) => ({ kek: r.kek as string, count: Number(r.n) }));
  }

  /** Every version sealed by `kek`. */
  versionsUnder(kek: string): VersionRow[] {
    return (this.#sql("SELECT * FROM kms_key_versions WHERE kek = ?").all(kek) as Row[])
      .map(toVersion);
  }

  /**
   * Replaces a version's sealed material when it is still sealed by `v.kek` (checked: a
   * concurrent rewrap wins); whether it was replaced.
   */
  resealVersion(v: VersionRow, next: { kek: string; sealed: Uint8Array }): boolean {
    const res = this.#sql(
      `UPDATE kms_key_versions SET kek = ?, sealed = ?
        WHERE ns = ? AND key_id = ? AND version = ? AND kek = ?`,
    ).run(next.kek, next.sealed, v.ns, v.keyId, v.version, v.kek);
    return Number(res.changes) > 0;
  }
}
