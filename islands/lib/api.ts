/** Browser-side client for the console JSON API (/api/v1). Islands never import server/. */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Seconds until a lockout or rate limit ends, when the API says. */
    readonly retryAfter: number | null = null,
  ) {
    super(message);
  }
}

type Json = Record<string, unknown>;

/** Reads the API's error document leniently: `{error: {code, message}}` or flat fields. */
export function errorFrom(status: number, doc: unknown): ApiError {
  const d = (doc && typeof doc === "object" ? doc : {}) as Json;
  const e = (d.error && typeof d.error === "object" ? d.error : d) as Json;
  const code = String(e.code ?? (typeof d.error === "string" ? d.error : "") ?? "") ||
    `HTTP${status}`;
  const message = String(
    e.message ?? d.message ?? (typeof d.error === "string" ? d.error : "") ?? "",
  ) || `Request failed (${status})`;
  const retry = Number(e.retryAfter ?? d.retryAfter);
  return new ApiError(status, code, message, Number.isFinite(retry) && retry > 0 ? retry : null);
}

export async function api<T = Json>(
  path: string,
  opts: { method?: string; body?: unknown; query?: Record<string, unknown> } = {},
): Promise<T> {
  const url = new URL(path.startsWith("/") ? path : `/api/v1/${path}`, location.origin);
  for (const [k, v] of Object.entries(opts.query ?? {})) {
    if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, String(v));
  }
  const init: RequestInit = {
    method: opts.method ?? (opts.body === undefined ? "GET" : "POST"),
    credentials: "same-origin",
    headers: { accept: "application/json" },
  };
  if (opts.body !== undefined) {
    init.body = JSON.stringify(opts.body);
    (init.headers as Record<string, string>)["content-type"] = "application/json";
  }
  let res: Response;
  try {
    res = await fetch(url, init);
  } catch {
    throw new ApiError(0, "NetworkError", "The server cannot be reached. Check your connection.");
  }
  const text = await res.text();
  let doc: unknown = null;
  try {
    doc = text ? JSON.parse(text) : null;
  } catch {
    doc = { message: text.slice(0, 200) };
  }
  if (!res.ok) {
    if (res.status === 401 && !path.includes("auth/")) {
      location.href = `/login?next=${encodeURIComponent(location.pathname + location.search)}`;
    }
    throw errorFrom(res.status, doc);
  }
  return doc as T;
}

/** "Code: Message" of an S3 or API error, as the access-control editors show it inline. */
export function errorText(e: unknown): string {
  const err = e as ApiError;
  return err.code && err.code !== err.message ? `${err.code}: ${err.message}` : String(err.message);
}

/** Picks the first array found under common list keys (`items`, `users`, `keys`, ...). */
export function listOf<T = Json>(doc: unknown, ...keys: string[]): T[] {
  if (Array.isArray(doc)) return doc as T[];
  const d = (doc ?? {}) as Json;
  for (const k of [...keys, "items", "data", "results"]) {
    if (Array.isArray(d[k])) return d[k] as T[];
  }
  return [];
}

export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return "—";
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

export function formatTime(t: unknown): string {
  if (t === null || t === undefined || t === "") return "—";
  const d = typeof t === "number" ? new Date(t < 1e12 ? t * 1000 : t) : new Date(String(t));
  return Number.isNaN(d.getTime()) ? String(t) : d.toLocaleString();
}

/** Quota bar color: amber from 80 %, red from 90 %. */
export function quotaLevel(used: number, max: number): "" | "amber" | "red" {
  if (!max || max <= 0) return "";
  const r = used / max;
  return r >= 0.9 ? "red" : r >= 0.8 ? "amber" : "";
}
