/**
 * Wildcard patterns of the policy language (`*`, `?`) with policy variables (`${aws:username}`,
 * `${*}`...), compiled once when a policy is parsed into plain data (it is stored with the
 * bucket configuration and shared by every request) and matched without building a RegExp.
 */

/** `*` (any run), `?` (one character), a literal, or a variable resolved from the request. */
export type PatternToken = typeof STAR | typeof ONE | string | { v: string };
const STAR = 0;
const ONE = 1;

/**
 * A compiled pattern: a plain string matches itself only; otherwise a token list. Patterns of
 * case-insensitive elements (actions, `...IgnoreCase` values) are compiled in lower case.
 */
export type Pattern = string | { t: PatternToken[] };

/** Context values by lower-case key, as the request gives them. */
export type PolicyContext = Record<string, string | string[] | undefined>;

const VARIABLE = /\$\{([^}]*)\}/g;

/**
 * Compiles `text`. `wildcards`: whether `*` and `?` are wildcards (StringLike, resources) or
 * literal (StringEquals). `variables`: whether `${...}` is a policy variable (Version
 * 2012-10-17 only). Throws the inner name of a variable it cannot read.
 */
export function compilePattern(
  text: string,
  opts: { wildcards: boolean; variables: boolean; lowerCase?: boolean },
): Pattern {
  const tokens: PatternToken[] = [];
  const literal = (s: string) => {
    if (!s) return;
    if (opts.lowerCase) s = s.toLowerCase();
    const last = tokens[tokens.length - 1];
    if (typeof last === "string") tokens[tokens.length - 1] = last + s;
    else tokens.push(s);
  };
  const plain = (s: string) => {
    if (!opts.wildcards) return literal(s);
    let run = "";
    for (const c of s) {
      if (c === "*" || c === "?") {
        literal(run);
        run = "";
        // Consecutive stars match what one star does.
        if (c === "?" || tokens[tokens.length - 1] !== STAR) tokens.push(c === "*" ? STAR : ONE);
      } else run += c;
    }
    literal(run);
  };
  if (!opts.variables) plain(text);
  else {
    let at = 0;
    for (const m of text.matchAll(VARIABLE)) {
      plain(text.slice(at, m.index));
      const name = m[1].trim();
      // `${*}`, `${?}` and `${$}` stand for the character itself, never a wildcard.
      if (name === "*" || name === "?" || name === "$") literal(name);
      else if (/^[A-Za-z0-9:/_.-]+$/.test(name)) tokens.push({ v: name.toLowerCase() });
      else throw new Error(name);
      at = m.index + m[0].length;
    }
    plain(text.slice(at));
  }
  if (tokens.length === 0) return "";
  if (tokens.length === 1 && typeof tokens[0] === "string") return tokens[0];
  return { t: tokens };
}

/** Whether a compiled pattern contains a wildcard (`*` or `?`). */
export function hasWildcard(p: Pattern): boolean {
  return typeof p !== "string" && p.t.some((t) => t === STAR || t === ONE);
}

/** Whether a compiled pattern is `*` alone. */
export function isMatchAll(p: Pattern): boolean {
  return typeof p !== "string" && p.t.length === 1 && p.t[0] === STAR;
}

/** The literal text of a pattern with no wildcard and no variable, else null. */
export function literalOf(p: Pattern): string | null {
  return typeof p === "string" ? p : null;
}

/**
 * Resolves variables: each becomes a literal (a value's own `*` is no wildcard). A variable
 * missing from the context (or multi-valued) makes the pattern match nothing: null.
 */
function resolve(tokens: PatternToken[], ctx: PolicyContext): PatternToken[] | null {
  let out: PatternToken[] | null = null;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (typeof t !== "object") {
      out?.push(t);
      continue;
    }
    const value = ctx[t.v];
    if (typeof value !== "string") return null;
    out ??= tokens.slice(0, i);
    out.push(value);
  }
  return out ?? tokens;
}

/** Matches `value` against a compiled pattern (lower-case `value` for lower-case patterns). */
export function matchPattern(p: Pattern, value: string, ctx: PolicyContext): boolean {
  if (typeof p === "string") return p === value;
  const tokens = resolve(p.t, ctx);
  return tokens !== null && matchTokens(tokens, value);
}

/**
 * Greedy matching with backtracking to the last star only: whatever follows a star is tried at
 * each later position, which suffices because a later star can absorb any surplus.
 */
function matchTokens(tokens: PatternToken[], s: string): boolean {
  let ti = 0, si = 0, starTi = -1, starSi = 0;
  while (si < s.length || ti < tokens.length) {
    if (ti < tokens.length) {
      const t = tokens[ti];
      if (t === STAR) {
        starTi = ti++;
        starSi = si;
        continue;
      }
      if (t === ONE) {
        if (si < s.length) {
          si += charLength(s, si);
          ti++;
          continue;
        }
      } else if (typeof t === "string" && s.startsWith(t, si)) {
        si += t.length;
        ti++;
        continue;
      }
    }
    if (starTi < 0 || starSi >= s.length) return false;
    starSi += charLength(s, starSi);
    si = starSi;
    ti = starTi + 1;
  }
  return true;
}

/** UTF-16 units of the character at `i` (a `?` matches one character, not half of a pair). */
function charLength(s: string, i: number): number {
  const c = s.charCodeAt(i);
  return c >= 0xd800 && c <= 0xdbff && i + 1 < s.length ? 2 : 1;
}
