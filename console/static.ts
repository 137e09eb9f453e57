/**
 * Static assets embedded in the module graph (see console/assets.gen.ts), so the single-file
 * bundle and `deno compile` carry them. URLs carry a content hash: `/static/app.css?v=<hash>`
 * is cached for a year; without the matching hash, clients revalidate with the ETag.
 */

export interface Asset {
  contentType: string;
  body: string;
  /** Hex SHA-256 prefix of the body. */
  hash: string;
}

export type AssetTable = Record<string, Asset>;

/** The URL to reference an asset with (hash-busted). */
export function assetUrl(assets: AssetTable, name: string): string {
  const a = assets[name];
  if (!a) throw new Error(`Cannot find asset "${name}"`);
  return `/static/${name}?v=${a.hash}`;
}

export function serveAsset(assets: AssetTable, req: Request, url: URL): Response | null {
  if (!url.pathname.startsWith("/static/")) return null;
  const name = url.pathname.slice("/static/".length);
  const asset = Object.hasOwn(assets, name) ? assets[name] : undefined;
  if (!asset) return null;
  if (req.method !== "GET" && req.method !== "HEAD") {
    return new Response("Method Not Allowed\n", { status: 405, headers: { allow: "GET, HEAD" } });
  }
  const etag = `"${asset.hash}"`;
  const immutable = url.searchParams.get("v") === asset.hash;
  const headers = new Headers({
    "content-type": asset.contentType,
    etag,
    "cache-control": immutable ? "public, max-age=31536000, immutable" : "no-cache",
  });
  if (req.headers.get("if-none-match") === etag) {
    return new Response(null, { status: 304, headers });
  }
  return new Response(req.method === "HEAD" ? null : asset.body, { headers });
}
