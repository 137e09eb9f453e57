/**
 * `GET /metrics` in Prometheus's text format, on the console listener and on `--metrics-listen`.
 * With `--metrics-token` a scrape must send `Authorization: Bearer <token>`; without it, or with
 * another token, the answer is 401 with a body that says which, and nothing is rendered.
 */
import { timingSafeEqual } from "node:crypto";
import type { Metrics } from "../features/metrics/mod.ts";

export const METRICS_PATH = "/metrics";

export interface MetricsEndpoint {
  metrics: Metrics;
  /** The bearer token a scrape must send; null: none. */
  token: string | null;
}

const enc = new TextEncoder();

/** Whether `got` is `want`, in a time that does not tell how much of it matched. */
function sameToken(got: string, want: string): boolean {
  const a = enc.encode(got);
  const b = enc.encode(want);
  return a.length === b.length && timingSafeEqual(a, b);
}

function refuse(message: string): Response {
  return new Response(message + "\n", {
    status: 401,
    headers: {
      "content-type": "text/plain; charset=utf-8",
      "www-authenticate": 'Bearer realm="maxiofs metrics"',
      "cache-control": "no-store",
    },
  });
}

/** The answer to a scrape, or null when `req` is not for `/metrics` (the path is compared raw). */
export function metricsResponse(req: Request, ep: MetricsEndpoint): Promise<Response> | null {
  const url = req.url;
  const start = url.indexOf("/", url.indexOf("//") + 2);
  const end = url.indexOf("?", start);
  const path = end < 0 ? url.slice(start) : url.slice(start, end);
  if (path !== METRICS_PATH) return null;
  if (req.method !== "GET" && req.method !== "HEAD") {
    return Promise.resolve(
      new Response("Method Not Allowed: /metrics answers GET and HEAD\n", {
        status: 405,
        headers: { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" },
      }),
    );
  }
  if (ep.token !== null) {
    const auth = req.headers.get("authorization");
    const m = auth === null ? null : /^Bearer[ ]+(\S+)\s*$/i.exec(auth);
    if (!m) {
      return Promise.resolve(refuse(
        "Unauthorized: /metrics needs the header `Authorization: Bearer <token>` with the token " +
          "the server was given (--metrics-token or MAXIOFS_METRICS_TOKEN)",
      ));
    }
    if (!sameToken(m[1], ep.token)) {
      return Promise.resolve(refuse(
        "Unauthorized: the bearer token does not match the server's metrics token",
      ));
    }
  }
  return ep.metrics.render().then((text) =>
    new Response(req.method === "HEAD" ? null : text, {
      headers: { "content-type": ep.metrics.contentType, "cache-control": "no-store" },
    })
  );
}

/** The `--metrics-listen` listener's handler: `/metrics`, and 404 for anything else. */
export function metricsOnly(ep: MetricsEndpoint): (req: Request) => Promise<Response> {
  return (req) =>
    metricsResponse(req, ep) ??
      Promise.resolve(
        new Response("Not Found: this listener answers only /metrics\n", {
          status: 404,
          headers: { "content-type": "text/plain; charset=utf-8" },
        }),
      );
}
