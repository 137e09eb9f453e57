/**
 * Every `pattern` attribute of the console's forms compiles as browsers compile it: as
 * `^(?:pattern)$` with the `v` flag (Chromium since 112), where `/`, `(`, `)`, `[`, `{`, `}`, `|`
 * and `-` need escaping inside a class. An invalid one is silently ignored by the browser, so the
 * check it stands for never runs.
 */
import { assert, assertEquals } from "../tests/_helpers/assert.ts";

const ROOTS = ["islands", "routes", "components"];

/** The value of each `pattern="..."` attribute in the console's source, with its file. */
async function patterns(): Promise<{ file: string; pattern: string }[]> {
  const out: { file: string; pattern: string }[] = [];
  const walk = async (dir: URL, rel: string) => {
    for await (const e of Deno.readDir(dir)) {
      if (e.isDirectory) await walk(new URL(`${e.name}/`, dir), `${rel}${e.name}/`);
      else if (/\.tsx$/.test(e.name)) {
        const text = await Deno.readTextFile(new URL(e.name, dir));
        for (const m of text.matchAll(/\bpattern="((?:[^"\\]|\\.)*)"/g)) {
          // JSX attribute strings keep backslashes as written.
          out.push({ file: `${rel}${e.name}`, pattern: m[1] });
        }
      }
    }
  };
  for (const r of ROOTS) await walk(new URL(`../${r}/`, import.meta.url), `${r}/`);
  return out;
}

Deno.test("form patterns compile with the v flag, as browsers compile them", async () => {
  const found = await patterns();
  assert(found.length >= 3, `expected the console's patterns, found ${found.length}`);
  const bad = found.filter(({ pattern }) => !compiles(pattern));
  assertEquals(bad, []);
});

Deno.test("the v-flag check tells an invalid class from a valid one", () => {
  assert(!compiles("[^/].*"), "an unescaped / in a class is invalid with v");
  assert(compiles("[^\\/].*"));
});

function compiles(p: string): boolean {
  try {
    new RegExp(`^(?:${p})$`, "v");
    return true;
  } catch {
    return false;
  }
}
