/**
 * Requests to the website endpoint: fetch always sends the URL's own Host, so these go through
 * node:http, which sends the Host given (`<bucket>.<website domain>`) to the server's address.
 */
import http from "node:http";
import type { TestServer } from "./server.ts";

export interface WebsiteResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** `path`: as it goes on the wire (already percent-encoded). */
export function websiteRequest(
  srv: TestServer,
  host: string,
  path: string,
  init: { method?: string; headers?: Record<string, string> } = {},
): Promise<WebsiteResponse> {
  const u = new URL(srv.endpoint);
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: u.hostname,
      port: Number(u.port),
      method: init.method ?? "GET",
      path,
      headers: { ...init.headers, host },
      agent: false,
    }, (res) => {
      const chunks: Uint8Array[] = [];
      res.on("data", (c: Uint8Array) => chunks.push(c));
      res.on("end", () => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) {
          if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(", ") : String(v);
        }
        const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
        let off = 0;
        for (const c of chunks) {
          bytes.set(c, off);
          off += c.byteLength;
        }
        resolve({ status: res.statusCode ?? 0, headers, body: new TextDecoder().decode(bytes) });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}
