/** The metrics history behind the console's charts (global administrators: server-wide figures). */
import { IamError } from "../../server/iam/errors.ts";
import { type HistoryRange, RANGES } from "../../server/features/history/recorder.ts";
import { json, type Route, route } from "./http.ts";
import { requireGlobalAdmin } from "./access.ts";

const OP = /^(\*|[A-Za-z]{1,64})$/;

export const historyRoutes: Route[] = [
  route("GET", "/metrics/history", (ctx) => {
    requireGlobalAdmin(ctx);
    const history = ctx.deps.history;
    if (!history) throw new IamError("NotFound", "the metrics history is not kept here");
    const range = ctx.url.searchParams.get("range") ?? "24h";
    if (!(range in RANGES)) {
      throw new IamError(
        "InvalidRequest",
        `range must be one of ${Object.keys(RANGES).join(", ")}`,
      );
    }
    const op = ctx.url.searchParams.get("op") ?? "*";
    if (!OP.test(op)) throw new IamError("InvalidRequest", "op must be an S3 operation name");
    return json({ range, op, ...history.history(range as HistoryRange, op) });
  }),
];
