/** The console listener: health endpoints now; pages and the JSON API plug in here. */
import type { Logger } from "../server/storage/core.ts";

export interface ConsoleDeps {
  log: Logger;
}

export function createConsoleHandler(_deps: ConsoleDeps): (req: Request) => Response {
  return (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/health" || path === "/api/v1/health") {
      return Response.json({ status: "ok" });
    }
    return new Response("MaxIOFS console is not available in this build yet.\n", {
      status: 404,
      headers: { "content-type": "text/plain; charset=utf-8" },
    });
  };
}
