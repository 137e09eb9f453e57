/**
 * Layer check (STYLE.md rule 9): `server/` never imports from `console/`, `routes/`,
 * `islands/` or `components/`, and `islands/` and `components/` never import from `server/`.
 * The S3 data path must not depend on the console, and browser bundles must not pull server
 * code (secrets, KV, files).
 *
 * The storage seam: code outside `server/storage/` imports only its public modules
 * (`STORAGE_PUBLIC`: `mod.ts`, the Backend and helpers, and `types.ts`), never its internals, so
 * every caller goes through the `Backend` interface another implementation can stand behind.
 * `tests/` is exempt: its white-box tests look at storage's keys and caches on purpose.
 *
 * Run: `deno run --allow-read scripts/check_layers.ts [root]`; exits 1 and lists every
 * offending import when a rule is broken.
 */

/**
 * Top-level folders a layer may not import from. `components/` holds console UI shared by
 * routes and islands, so it follows the islands' rule and is off limits to server/.
 */
export const RULES: Record<string, string[]> = {
  server: ["console", "routes", "islands", "components"],
  islands: ["server"],
  components: ["server"],
};

/** The storage layer, and the only modules of it that code outside it may import. */
export const STORAGE_DIR = "server/storage/";
export const STORAGE_PUBLIC = ["server/storage/mod.ts", "server/storage/types.ts"];
/** Folders whose files may reach past the storage seam. */
const SEAM_EXEMPT = ["tests/"];

export interface Violation {
  /** File that imports, relative to the root. */
  file: string;
  line: number;
  specifier: string;
  /**
   * Top-level folder the specifier resolves into (a layer rule), or the storage module it
   * reaches past the seam (`rule: "seam"`).
   */
  target: string;
  rule: "layer" | "seam";
}

const SOURCE_EXT = /\.(ts|tsx|js|jsx|mts|mjs)$/;
/** Top-level folders that hold no source of the project (build output, data, test output). */
const NOT_SOURCE = new Set(["dist", "data", "test-artifacts"]);

// Static imports/exports (incl. `import type`, side-effect imports) and dynamic `import("x")`.
const IMPORT_PATTERNS = [
  /\b(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?["']([^"']+)["']/g,
  /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
];

/** Every module specifier in a source text, with its 1-based line number. */
export function findImports(source: string): { specifier: string; line: number }[] {
  const out: { specifier: string; line: number }[] = [];
  for (const re of IMPORT_PATTERNS) {
    re.lastIndex = 0;
    for (const m of source.matchAll(re)) {
      const line = source.slice(0, m.index).split("\n").length;
      out.push({ specifier: m[1], line });
    }
  }
  return out.sort((a, b) => a.line - b.line);
}

/** Joins and normalizes a POSIX-style relative path ("a/b/../c" -> "a/c"). */
function normalize(path: string): string {
  const parts: string[] = [];
  for (const p of path.split("/")) {
    if (p === "" || p === ".") continue;
    if (p === "..") parts.pop();
    else parts.push(p);
  }
  return parts.join("/");
}

/**
 * The root-relative path a specifier points at, or null for packages and URLs.
 * Import-map entries that map to local paths (e.g. `"@/": "./"`) are followed.
 */
export function resolveLocal(
  fromFile: string,
  specifier: string,
  importMap: Record<string, string> = {},
): string | null {
  let spec = specifier;
  for (const [alias, target] of Object.entries(importMap)) {
    const matches = alias.endsWith("/") ? spec.startsWith(alias) : spec === alias;
    if (matches && (target.startsWith("./") || target.startsWith("../"))) {
      return normalize(target + spec.slice(alias.length));
    }
  }
  if (spec.startsWith("file://")) spec = new URL(spec).pathname;
  if (spec.startsWith("./") || spec.startsWith("../")) {
    const dir = fromFile.split("/").slice(0, -1).join("/");
    return normalize(`${dir}/${spec}`);
  }
  return null;
}

async function* walk(dir: string, rel: string): AsyncGenerator<string> {
  const prefix = rel === "" ? "" : `${rel}/`;
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw e;
  }
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.name === "node_modules" || e.name.startsWith(".")) continue;
    if (rel === "" && NOT_SOURCE.has(e.name)) continue;
    if (e.isDirectory) yield* walk(`${dir}/${e.name}`, `${prefix}${e.name}`);
    else if (e.isFile && SOURCE_EXT.test(e.name)) yield `${prefix}${e.name}`;
  }
}

async function readImportMap(root: string): Promise<Record<string, string>> {
  try {
    const cfg = JSON.parse(await Deno.readTextFile(`${root}/deno.json`));
    return cfg.imports ?? {};
  } catch {
    return {};
  }
}

/** Whether `file` importing `target` reaches past the storage seam. */
export function crossesSeam(file: string, target: string): boolean {
  if (file.startsWith(STORAGE_DIR) || SEAM_EXEMPT.some((d) => file.startsWith(d))) return false;
  return target.startsWith(STORAGE_DIR) && !STORAGE_PUBLIC.includes(target);
}

/** Checks every source file of `root`: the layer rules and the storage seam. */
export async function checkLayers(root: string): Promise<Violation[]> {
  const importMap = await readImportMap(root);
  const violations: Violation[] = [];
  for await (const file of walk(root, "")) {
    const forbidden = RULES[file.split("/")[0]] ?? [];
    const source = await Deno.readTextFile(`${root}/${file}`);
    for (const imp of findImports(source)) {
      const target = resolveLocal(file, imp.specifier, importMap);
      if (target === null) continue;
      const at = { file, line: imp.line, specifier: imp.specifier };
      const top = target.split("/")[0];
      if (forbidden.includes(top)) violations.push({ ...at, target: top, rule: "layer" });
      if (crossesSeam(file, target)) violations.push({ ...at, target, rule: "seam" });
    }
  }
  return violations;
}

if (import.meta.main) {
  const root = Deno.args[0] ?? new URL("..", import.meta.url).pathname.replace(/\/$/, "");
  const violations = await checkLayers(root);
  for (const v of violations) {
    console.error(
      v.rule === "seam"
        ? `${v.file}:${v.line}: imports "${v.specifier}", storage's internal ${v.target} (outside ${STORAGE_DIR} only ${
          STORAGE_PUBLIC.join(" and ")
        })`
        : `${v.file}:${v.line}: imports "${v.specifier}" from ${v.target}/ (not allowed from ${
          v.file.split("/")[0]
        }/)`,
    );
  }
  if (violations.length) {
    console.error(`layer check failed: ${violations.length} forbidden import(s)`);
    Deno.exit(1);
  }
  console.log("layer check passed");
}
