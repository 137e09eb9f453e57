import { throws as assertThrows } from "node:assert/strict";
import { assertEquals } from "../tests/_helpers/assert.ts";
import { compileRoutes, fileToSegments, isSpecialFile, matchRoute } from "./router.ts";

Deno.test("fileToSegments maps Fresh-style file names", () => {
  assertEquals(fileToSegments("index.tsx"), []);
  assertEquals(fileToSegments("buckets/index.tsx"), ["buckets"]);
  assertEquals(fileToSegments("buckets/[bucket].tsx"), ["buckets", ":bucket"]);
  assertEquals(fileToSegments("files/[...path].tsx"), ["files", "*path"]);
  assertThrows(() => fileToSegments("a/[b.tsx"));
});

Deno.test("special files are not routes", () => {
  assertEquals(isSpecialFile("_app.tsx"), true);
  assertEquals(isSpecialFile("admin/_layout.tsx"), true);
  assertEquals(isSpecialFile("login.tsx"), false);
});

Deno.test("matchRoute prefers static segments and decodes params", () => {
  const routes = compileRoutes({
    "index.tsx": "home",
    "buckets/index.tsx": "list",
    "buckets/new.tsx": "new",
    "buckets/[bucket].tsx": "browser",
    "files/[...path].tsx": "files",
    "_404.tsx": "nf",
  });
  assertEquals(matchRoute(routes, "/")?.route.module, "home");
  assertEquals(matchRoute(routes, "/buckets")?.route.module, "list");
  assertEquals(matchRoute(routes, "/buckets/")?.route.module, "list");
  assertEquals(matchRoute(routes, "/buckets/new")?.route.module, "new");
  const m = matchRoute(routes, "/buckets/my%2Fbucket");
  assertEquals(m?.route.module, "browser");
  assertEquals(m?.params, { bucket: "my/bucket" });
  assertEquals(matchRoute(routes, "/files/a/b/c")?.params, { path: "a/b/c" });
  assertEquals(matchRoute(routes, "/buckets/x/y"), null);
  assertEquals(matchRoute(routes, "/nope"), null);
  assertEquals(matchRoute(routes, "/buckets/%E0%A4%A"), null);
});

Deno.test("compileRoutes refuses two files with the same pattern", () => {
  assertThrows(() => compileRoutes({ "a/[x].tsx": 1, "a/[y].tsx": 2 }));
});
