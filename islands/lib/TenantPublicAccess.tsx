/**
 * A tenant's public access block (`GET/PUT/DELETE /api/v1/tenants/:id/public-access-block`):
 * global administrators set it for any tenant, tenant administrators for their own. It applies to
 * every bucket of the tenant on top of each bucket's own block. A server without the endpoint
 * (404) shows "not available".
 */
import { api, type ApiError } from "./api.ts";
import { publicAccessBlockFromJson, publicAccessBlockJson } from "./access_xml.ts";
import { PublicAccessSwitches } from "./PublicAccessSwitches.tsx";

export function TenantPublicAccess({ tenantId, title }: { tenantId: string; title: string }) {
  const path = `tenants/${encodeURIComponent(tenantId)}/public-access-block`;
  return (
    <PublicAccessSwitches
      id={`tenant-public-access-${tenantId}`}
      title={title}
      load={async () => {
        try {
          return publicAccessBlockFromJson(await api(path));
        } catch (e) {
          if ((e as ApiError).status === 404) return null;
          throw e;
        }
      }}
      save={async (pab) => {
        await api(path, { method: "PUT", body: publicAccessBlockJson(pab) });
      }}
      remove={async () => {
        await api(path, { method: "DELETE" });
      }}
    />
  );
}
