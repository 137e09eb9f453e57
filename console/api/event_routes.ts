/**
 * `GET /events`: the consoles' server-sent event stream (server/http/events.ts), for the signed-in
 * user of the session. It opens with the current maintenance state, so a console that connects
 * (or reconnects) during a maintenance window shows its banner at once.
 */
import { IamError } from "../../server/iam/errors.ts";
import { type Route, route } from "./http.ts";

export const eventRoutes: Route[] = [
  route("GET", "/events", (ctx) => {
    const s = ctx.deps.iam.settings.current().system;
    const stream = ctx.deps.events.subscribe(
      { userId: ctx.user.id, role: ctx.user.role, tenantId: ctx.user.tenantId },
      [{
        type: "maintenance",
        data: { enabled: s.maintenanceMode, message: s.maintenanceMessage },
      }],
    );
    if (!stream) {
      throw new IamError("ServiceUnavailable", "too many open event streams", {
        retryAfter: 30,
      });
    }
    return new Response(stream, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        // Proxies (nginx) must pass each event on as it comes.
        "x-accel-buffering": "no",
      },
    });
  }, { duringPasswordChange: true }),
];
