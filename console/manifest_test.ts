import { assertEquals } from "../tests/_helpers/assert.ts";
import { bundleClient, clientSource, manifestSource } from "../scripts/build_islands.ts";

// The generated files are committed (they carry routes and the bundle into `deno compile`);
// this fails when routes/ or islands/ changed without `deno task build:islands`.
Deno.test("console/manifest.gen.ts and client.gen.ts match routes/ and islands/", async () => {
  const read = (p: string) => Deno.readTextFile(new URL(p, import.meta.url));
  assertEquals(await read("./manifest.gen.ts"), await manifestSource());
  assertEquals(await read("./client.gen.ts"), await clientSource());
});

Deno.test("console/assets.gen.ts carries the current console/static/app.css", async () => {
  const { assets } = await import("./assets.gen.ts");
  const css = await Deno.readTextFile(new URL("./static/app.css", import.meta.url));
  assertEquals(assets["app.css"].body, css);
});

// The browser bundle is committed too, and `deno bundle` output is deterministic: an island
// changed without `deno task build:islands` would otherwise ship its old code unnoticed.
Deno.test("console/assets.gen.ts carries the bundle of the current islands", async () => {
  const { assets } = await import("./assets.gen.ts");
  assertEquals(assets["islands.js"].body, await bundleClient(), "run deno task build:islands");
});
