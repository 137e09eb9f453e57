/** Who is calling: resolved from an access key by a CredentialStore. */

export interface Principal {
  /** "root" is the bootstrap S3 identity; "user" comes from the IAM store. */
  kind: "root" | "user";
  userId: string;
  /** null = global (root and global admins); otherwise the tenant id. */
  tenantId: string | null;
  /** Global administrators may act on every bucket in their namespace without grants. */
  isAdmin: boolean;
  displayName: string;
  /** IAM role of a user principal (tenant admins have `isAdmin` inside their tenant). */
  role?: "global_admin" | "tenant_admin" | "tenant_user";
}

export interface Credential {
  accessKeyId: string;
  secretAccessKey: string;
  principal: Principal;
}

/** Resolves access keys. The IAM issue's SQLite store implements this next to the root key. */
export interface CredentialStore {
  lookup(accessKeyId: string): Promise<Credential | null>;
  /** Called after a successful authentication (last-used bookkeeping). */
  touch?(accessKeyId: string): void;
}

/** Tries each store in order. */
export function chainCredentialStores(...stores: CredentialStore[]): CredentialStore {
  return {
    async lookup(id) {
      for (const s of stores) {
        const c = await s.lookup(id);
        if (c) return c;
      }
      return null;
    },
    touch(id) {
      for (const s of stores) s.touch?.(id);
    },
  };
}

/** The namespace of buckets a principal addresses. */
export function namespaceOf(p: Principal): string {
  return p.tenantId ?? "";
}
