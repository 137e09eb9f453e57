/**
 * File-based routing in Fresh's shape: `routes/buckets/[bucket].tsx` answers `/buckets/:bucket`,
 * `routes/index.tsx` answers `/`, `[...rest].tsx` catches the remainder. Files whose name starts
 * with `_` are special (`_app` layout, `_404`, `_500`) and never routes.
 */

/** One compiled route: a pattern from a file path, matched segment by segment. */
export interface CompiledRoute<M> {
  /** The file path relative to routes/, e.g. `buckets/[bucket].tsx`. */
  file: string;
  /** Literal segments, `:name` params and a trailing `*name` catch-all. */
  segments: string[];
  module: M;
}

export interface RouteMatch<M> {
  route: CompiledRoute<M>;
  params: Record<string, string>;
}

/** Turns `buckets/[bucket].tsx` into `["buckets", ":bucket"]`; `index` collapses. */
export function fileToSegments(file: string): string[] {
  const noExt = file.replace(/\.(tsx|ts|jsx|js)$/, "");
  const parts = noExt.split("/").filter((p) => p !== "");
  if (parts.at(-1) === "index") parts.pop();
  return parts.map((p) => {
    const rest = /^\[\.\.\.([A-Za-z_][\w]*)\]$/.exec(p);
    if (rest) return `*${rest[1]}`;
    const param = /^\[([A-Za-z_][\w]*)\]$/.exec(p);
    if (param) return `:${param[1]}`;
    if (/[[\]]/.test(p)) throw new Error(`Cannot parse route file "${file}": bad segment "${p}"`);
    return p;
  });
}

/** True for files that are not routes (`_app.tsx`, `_404.tsx`, `_manifest.ts` ...). */
export function isSpecialFile(file: string): boolean {
  return file.split("/").some((p) => p.startsWith("_"));
}

/** Static segments outrank params, params outrank catch-alls; longer beats shorter. */
function rank(segments: string[]): number[] {
  return segments.map((s) => s.startsWith("*") ? 0 : s.startsWith(":") ? 1 : 2);
}

function compareRoutes(a: string[], b: string[]): number {
  const ra = rank(a), rb = rank(b);
  for (let i = 0; i < Math.max(ra.length, rb.length); i++) {
    const x = ra[i] ?? -1, y = rb[i] ?? -1;
    if (x !== y) return y - x;
  }
  return 0;
}

export function compileRoutes<M>(files: Record<string, M>): CompiledRoute<M>[] {
  const out: CompiledRoute<M>[] = [];
  const seen = new Map<string, string>();
  for (const [file, module] of Object.entries(files)) {
    if (isSpecialFile(file)) continue;
    const segments = fileToSegments(file);
    const shape = segments.map((s) => s[0] === ":" ? ":" : s[0] === "*" ? "*" : s).join("/");
    const clash = seen.get(shape);
    if (clash) throw new Error(`Cannot add route "${file}": it has the same pattern as "${clash}"`);
    seen.set(shape, file);
    out.push({ file, segments, module });
  }
  return out.sort((a, b) => compareRoutes(a.segments, b.segments));
}

/**
 * Matches a URL path. Segments are percent-decoded one by one, so `%2F` inside a bucket or key
 * stays inside its parameter; a path that does not decode is no match.
 */
export function matchRoute<M>(routes: CompiledRoute<M>[], pathname: string): RouteMatch<M> | null {
  let parts: string[];
  try {
    parts = pathname.split("/").filter((p) => p !== "").map(decodeURIComponent);
  } catch {
    return null;
  }
  outer: for (const route of routes) {
    const params: Record<string, string> = {};
    const segs = route.segments;
    for (let i = 0; i < segs.length; i++) {
      const s = segs[i];
      if (s.startsWith("*")) {
        params[s.slice(1)] = parts.slice(i).join("/");
        return { route, params };
      }
      if (i >= parts.length) continue outer;
      if (s.startsWith(":")) params[s.slice(1)] = parts[i];
      else if (s !== parts[i]) continue outer;
    }
    if (parts.length === segs.length) return { route, params };
  }
  return null;
}
