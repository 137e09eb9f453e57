import { assertEquals } from "../tests/_helpers/assert.ts";
import { parseVariants, syncsObjects } from "./bench.ts";

Deno.test("bench --variant: name=flags, a default sync-off variant, and none", () => {
  assertEquals(parseVariants([]), [{ name: "nosync", flags: ["--fsync=false"] }]);
  assertEquals(parseVariants(["none"]), []);
  assertEquals(parseVariants(["big-cache=--object-cache 512 --list-cache=0"]), [
    { name: "big-cache", flags: ["--object-cache", "512", "--list-cache=0"] },
  ]);
  // Another checkout's main.ts, for before/after figures in one run.
  assertEquals(parseVariants(["before=@/tmp/old/main.ts --fsync=false"]), [
    { name: "before", flags: ["--fsync=false"], main: "/tmp/old/main.ts" },
  ]);
  assertEquals(parseVariants(["plain="]), [{ name: "plain", flags: [] }]);
  for (const bad of ["=--fsync=false", "server=--fsync", "Upper=x", "noequals"]) {
    let threw = false;
    try {
      parseVariants([bad]);
    } catch {
      threw = true;
    }
    assertEquals(threw, true, bad);
  }
});

Deno.test("bench: a server syncs object files unless its flags or environment say otherwise", () => {
  assertEquals(syncsObjects([], {}), true);
  assertEquals(syncsObjects(["--fsync=false"], {}), false);
  assertEquals(syncsObjects(["--fsync", "off"], {}), false);
  assertEquals(syncsObjects(["--fsync"], { MAXIOFS_FSYNC: "0" }), true);
  assertEquals(syncsObjects([], { MAXIOFS_FSYNC: "no" }), false);
});
