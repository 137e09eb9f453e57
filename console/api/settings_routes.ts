/**
 * Server settings (global administrators): `GET /settings` answers them with secrets replaced
 * by whether they are set; `PATCH /settings` changes some, all or nothing (an invalid value is
 * 400 naming the field), in effect at once, with one audit event naming the fields changed.
 * Open in maintenance mode, which is one of them.
 */
import { IamError } from "../../server/iam/errors.ts";
import { CATEGORY_OF, isSettingsProblem, settingsView } from "../../server/iam/settings.ts";
import { requireGlobalAdmin } from "./access.ts";
import { audit } from "./admin_routes.ts";
import { json, readJson, type Route, route } from "./http.ts";

export const settingsRoutes: Route[] = [
  route("GET", "/settings", (ctx) => {
    requireGlobalAdmin(ctx);
    return json(settingsView(ctx.deps.iam.settings.current()));
  }),
  route("GET", "/settings/categories", (ctx) => {
    requireGlobalAdmin(ctx);
    return json({ categories: CATEGORY_OF });
  }),
  route("PATCH", "/settings", async (ctx) => {
    requireGlobalAdmin(ctx);
    const body = await readJson(ctx.req);
    const out = await ctx.deps.iam.settings.update(body);
    if (isSettingsProblem(out)) {
      throw new IamError("InvalidRequest", out.message, { field: out.field });
    }
    if (out.changed.length > 0) {
      // Names only: values may be secrets (email.password, metrics.token).
      audit(ctx, {
        action: "settings.update",
        resource: "settings",
        tenantId: null,
        detail: `changed ${out.changed.join(", ")}`,
      });
    }
    return json(settingsView(ctx.deps.iam.settings.current()));
  }, { audit: "settings.update", duringMaintenance: true }),
];
