import { assertEquals } from "../tests/_helpers/assert.ts";
import { checkLayers, findImports, resolveLocal } from "./check_layers.ts";

/**
 * An import line of `spec`. The fixtures of the seam test are built with it, so that this file's
 * own text holds no import of storage internals for the repository check to find.
 */
const importOf = (spec: string) => `import { x } from "${spec}";`;

async function tree(files: Record<string, string>): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "maxiofs-layers-" });
  for (const [path, text] of Object.entries(files)) {
    await Deno.mkdir(`${root}/${path.split("/").slice(0, -1).join("/")}`, { recursive: true });
    await Deno.writeTextFile(`${root}/${path}`, text);
  }
  return root;
}

Deno.test("findImports sees static, type, re-export, side-effect and dynamic imports", () => {
  const src = [
    `import { a } from "./a.ts";`,
    `import type { B } from '../b.ts';`,
    `export * from "./c.ts";`,
    `import "./d.ts";`,
    `const e = await import("./e.ts");`,
    `import {`,
    `  f,`,
    `  g,`,
    `} from "./fg.ts";`,
    `import x from "npm:preact";`,
  ].join("\n");
  assertEquals(findImports(src).map((i) => [i.line, i.specifier]), [
    [1, "./a.ts"],
    [2, "../b.ts"],
    [3, "./c.ts"],
    [4, "./d.ts"],
    [5, "./e.ts"],
    [6, "./fg.ts"],
    [10, "npm:preact"],
  ]);
});

Deno.test("resolveLocal follows relative paths and local import-map aliases only", () => {
  assertEquals(resolveLocal("server/s3/handler.ts", "../../console/mod.ts"), "console/mod.ts");
  assertEquals(resolveLocal("server/s3/handler.ts", "./errors.ts"), "server/s3/errors.ts");
  assertEquals(resolveLocal("server/a.ts", "npm:preact"), null);
  assertEquals(
    resolveLocal("server/a.ts", "@aws-sdk/client-s3", { "@aws-sdk/client-s3": "npm:x" }),
    null,
  );
  assertEquals(
    resolveLocal("islands/x.tsx", "@/server/config.ts", { "@/": "./" }),
    "server/config.ts",
  );
});

Deno.test("checkLayers flags server -> console/routes/islands and islands -> server", async () => {
  const root = await tree({
    "deno.json": JSON.stringify({ imports: { "@/": "./" } }),
    "server/ok.ts": `import { x } from "./util.ts";\nimport "npm:preact";`,
    "server/util.ts": `export const x = 1;`,
    "server/s3/bad.ts": `import { c } from "../../console/mod.ts";`,
    "server/bad_route.ts": `export { r } from "../routes/index.tsx";`,
    "server/bad_island.ts": `const m = await import("../islands/Counter.tsx");`,
    "islands/Counter.tsx": `import { cfg } from "@/server/config.ts";`,
    "islands/Fine.tsx": `import { h } from "preact";`,
    "console/mod.ts": `import { x } from "../server/util.ts";`, // console may use server
    "routes/index.tsx": `import { y } from "../islands/Fine.tsx";`,
    "components/Bar.tsx": `import { k } from "../server/storage/types.ts";`,
    "server/bad_component.ts": `import { Bar } from "../components/Bar.tsx";`,
  });
  try {
    const v = await checkLayers(root);
    assertEquals(
      v.map((x) => `${x.file}:${x.line}->${x.target}`).sort(),
      [
        "components/Bar.tsx:1->server",
        "islands/Counter.tsx:1->server",
        "server/bad_component.ts:1->components",
        "server/bad_island.ts:1->islands",
        "server/bad_route.ts:1->routes",
        "server/s3/bad.ts:1->console",
      ],
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("checkLayers flags imports past the storage seam, outside server/storage/ and tests/", async () => {
  const root = await tree({
    "server/storage/mod.ts": importOf("./objects.ts"),
    "server/storage/objects.ts": importOf("./meta/keys.ts"),
    "server/storage/meta/keys.ts": "",
    "server/storage/types.ts": "",
    "server/s3/ops/ok.ts": [importOf("../../storage/mod.ts"), importOf("../../storage/types.ts")]
      .join("\n"),
    "server/s3/ops/bad.ts": importOf("../../storage/objects.ts"),
    "server/features/lifecycle/bad.ts": `import "x";\n${importOf("../../storage/meta/keys.ts")}`,
    "console/bad.ts": importOf("../server/storage/objects.ts"),
    "main.ts": importOf("./server/storage/objects.ts"),
    "scripts/bad.ts": `const m = await import("${"../server/storage/objects.ts"}");`,
    "tests/white_box_test.ts": importOf("../server/storage/meta/keys.ts"),
  });
  try {
    const v = await checkLayers(root);
    assertEquals(
      v.map((x) => `${x.file}:${x.line}->${x.target}:${x.rule}`).sort(),
      [
        "console/bad.ts:1->server/storage/objects.ts:seam",
        "main.ts:1->server/storage/objects.ts:seam",
        "scripts/bad.ts:1->server/storage/objects.ts:seam",
        "server/features/lifecycle/bad.ts:2->server/storage/meta/keys.ts:seam",
        "server/s3/ops/bad.ts:1->server/storage/objects.ts:seam",
      ],
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", new URL("./check_layers.ts", import.meta.url).pathname, root],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(out.code, 1);
    const err = new TextDecoder().decode(out.stderr);
    assertEquals(err.includes("server/s3/ops/bad.ts:1"), true);
    assertEquals(err.includes("storage's internal server/storage/objects.ts"), true);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("the command exits 1 on a violation and 0 on a clean tree", async () => {
  const script = new URL("./check_layers.ts", import.meta.url).pathname;
  const bad = await tree({ "server/a.ts": `import "../console/mod.ts";` });
  const good = await tree({ "server/a.ts": `import "./b.ts";`, "server/b.ts": "" });
  try {
    const run = (root: string) =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "--allow-read", script, root],
        stdout: "piped",
        stderr: "piped",
      }).output();
    const b = await run(bad);
    assertEquals(b.code, 1);
    assertEquals(new TextDecoder().decode(b.stderr).includes("server/a.ts:1"), true);
    assertEquals((await run(good)).code, 0);
  } finally {
    await Deno.remove(bad, { recursive: true });
    await Deno.remove(good, { recursive: true });
  }
});

Deno.test("this repository follows the layer rules", async () => {
  const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
  assertEquals(await checkLayers(root), []);
});
