/** The rule for missing client programs (programs.ts), and how programs are found on PATH. */
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { copiesOf, findProgram, needs, type Program } from "./programs.ts";

const missing: Program = { name: "s3cmd", installed: [], path: "" };
const present: Program = {
  name: "restic",
  installed: [{ path: "/opt/restic", version: "0.14.0" }],
  path: "/opt/restic",
};
const body = (_t: Deno.TestContext) => {};

Deno.test("needs: an installed program runs the test as written", () => {
  const def = { name: "t", fn: body };
  assertEquals(needs(present, def, { ci: true }), def);
  assertEquals(needs(present, def, { ci: false }), def);
});

Deno.test("needs: a missing program is a skip locally and a failure under CI", async (t) => {
  const local = needs([present, missing], { name: "t", fn: body }, { ci: false });
  assertEquals(local.ignore, true);
  const ci = needs([present, missing], { name: "t", fn: body }, { ci: true });
  assert(!ci.ignore, "under CI the test must run (and fail)");
  const err = await assertRejects(async () => await ci.fn(t));
  assert(String(err).includes("s3cmd is not installed"), String(err));
});

Deno.test("copiesOf: a stand-in when missing, every copy when installed", () => {
  assertEquals(copiesOf(missing), [{ path: "s3cmd", version: "s3cmd" }]);
  assertEquals(copiesOf(present), present.installed);
});

Deno.test("findProgram: each working copy on PATH once, with its version", async () => {
  const dir = await Deno.makeTempDir({ prefix: "maxiofs-programs-" });
  const path = Deno.env.get("PATH");
  try {
    // A working copy, a link to it in a second directory (the same file: listed once), and a
    // copy that fails its probe (like a pyenv shim without the tool behind it).
    for (const d of ["a", "b", "c"]) await Deno.mkdir(`${dir}/${d}`);
    await Deno.writeTextFile(`${dir}/a/rclone`, '#!/bin/sh\necho "rclone v9.9.9"\n', {
      mode: 0o755,
    });
    await Deno.symlink(`${dir}/a/rclone`, `${dir}/b/rclone`);
    await Deno.writeTextFile(`${dir}/c/rclone`, "#!/bin/sh\nexit 127\n", { mode: 0o755 });
    Deno.env.set("PATH", `${dir}/c:${dir}/b:${dir}/a:${dir}/none`);
    const found = await findProgram("rclone");
    assertEquals(found.installed, [{ path: `${dir}/b/rclone`, version: "rclone v9.9.9" }]);
    assertEquals(found.path, `${dir}/b/rclone`);
    Deno.env.set("PATH", `${dir}/c`);
    assertEquals((await findProgram("rclone")).installed, []);
  } finally {
    if (path !== undefined) Deno.env.set("PATH", path);
    await Deno.remove(dir, { recursive: true });
  }
});
