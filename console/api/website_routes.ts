/**
 * `GET /buckets/:bucket/website-endpoint`: the address a bucket's static website answers on
 * (`<bucket>.<website domain>`, `<bucket>.<tenant>.<website domain>` for a tenant's bucket), for
 * the console's Website tab; `url` is null when the server has no website domain. The
 * configuration itself goes through the S3 passthrough (`?website`).
 */
import { getTenant } from "../../server/iam/tenants.ts";
import { scopeTenant } from "./access.ts";
import { json, type Route, route } from "./http.ts";

/** The website URL of bucket `name` in namespace `ns` (tenant name `account`, "" global). */
export function websiteUrl(
  site: { domain: string; scheme: "http" | "https" },
  name: string,
  account: string,
): string {
  const domain = site.domain.toLowerCase().replace(/\.$/, "");
  return `${site.scheme}://${name}${account ? "." + account : ""}.${domain}/`;
}

export const websiteRoutes: Route[] = [
  route("GET", "/buckets/:bucket/website-endpoint", (ctx) => {
    const site = ctx.deps.website;
    const ns = scopeTenant(ctx, ctx.url.searchParams.get("tenantId") ?? undefined) ?? "";
    if (!site) return json({ url: null });
    const account = ns ? getTenant(ctx.deps.iam.core, ns)?.name ?? "" : "";
    return json({ url: websiteUrl(site, ctx.params.bucket, account) });
  }),
];
