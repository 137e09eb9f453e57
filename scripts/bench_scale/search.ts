/**
 * The scale benchmark's object search step: pages of the console API's search
 * (`GET /api/v1/buckets/:bucket/search`, server/features/search/search.ts) on the listed bucket,
 * with filters that match nothing so each page spends its whole scan budget: a size filter (the
 * listing entries alone) and a content-type filter (every entry's record read as well). Their
 * p50 is what one page of a search costs at the checkpoint's size.
 */
import type { Answer } from "./client.ts";
import { listShape } from "./steps.ts";

/** Listing entries one search page examines (the API's default scan budget). */
const SCAN_BUDGET = 10_000;

/** Signs in to the console API; the bearer token of the session. */
export async function consoleToken(
  consoleUrl: string,
  user: { username: string; password: string },
): Promise<string> {
  const res = await fetch(`${consoleUrl}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(user),
  });
  const body = await res.json();
  if (res.status !== 200 || typeof body.token !== "string") {
    throw new Error(`Cannot sign in to the console: ${res.status} ${JSON.stringify(body)}`);
  }
  return body.token;
}

async function searchPage(
  consoleUrl: string,
  token: string,
  bucket: string,
  query: string,
): Promise<Answer> {
  const t0 = performance.now();
  const res = await fetch(`${consoleUrl}/api/v1/buckets/${bucket}/search?${query}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const text = await res.text();
  return { status: res.status, ms: performance.now() - t0, text };
}

/** The two search shapes on `bucket`, which holds `objects` keys. */
export async function searchShapes(
  consoleUrl: string,
  user: { username: string; password: string },
  bucket: string,
  objects: number,
) {
  const token = await consoleToken(consoleUrl, user);
  const scanned = Math.min(SCAN_BUDGET, objects);
  const expect = (text: string) => {
    const page = JSON.parse(text) as { items: unknown[]; scanned: number };
    if (page.items.length !== 0) return `expected no match, got ${page.items.length}`;
    return page.scanned === scanned ? null : `expected ${scanned} scanned, got ${page.scanned}`;
  };
  return {
    scan: await listShape(
      () => searchPage(consoleUrl, token, bucket, `minSize=${2 ** 40}`),
      expect,
    ),
    records: await listShape(
      () => searchPage(consoleUrl, token, bucket, "contentType=image%2F"),
      expect,
    ),
  };
}
