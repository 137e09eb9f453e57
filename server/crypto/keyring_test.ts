import { assert, assertEquals, assertRejects } from "../../tests/_helpers/assert.ts";
import { Keyring, keyringPath } from "./keyring.ts";

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "maxiofs-keyring-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const dk = () => crypto.getRandomValues(new Uint8Array(32));

Deno.test("the keyring is made at first start, private, and the same when reopened", async () => {
  await withDir(async (dir) => {
    const a = await Keyring.open(dir);
    const st = await Deno.stat(keyringPath(dir));
    assertEquals(st.mode! & 0o777, 0o600);
    assertEquals(a.ids(), [a.activeId]);
    const key = dk();
    const { wrapped, kek } = a.wrap(key);
    assertEquals(kek, `m:${a.activeId}`);
    assertEquals(wrapped.length, 60);
    const b = await Keyring.open(dir);
    assertEquals([b.activeId, b.secret], [a.activeId, a.secret]);
    assertEquals(b.unwrap(kek, wrapped), key);
    // Another data dir gets other keys.
    await withDir(async (other) => {
      const c = await Keyring.open(other);
      assert(c.activeId !== a.activeId);
      await assertRejects(() => Promise.resolve().then(() => c.unwrap(kek, wrapped)));
    });
  });
});

Deno.test("a wrapped key opens only under its kek, unchanged", async () => {
  await withDir(async (dir) => {
    const k = await Keyring.open(dir);
    const { wrapped, kek } = k.wrap(dk());
    const bad = wrapped.slice();
    bad[20] ^= 1;
    for (const [kk, w] of [[kek, bad], [kek + "x", wrapped], ["c", wrapped]] as const) {
      await assertRejects(() => Promise.resolve().then(() => k.unwrap(kk, w)));
    }
  });
});

Deno.test("rotate adds an active key; retire removes old ones, never the active one", async () => {
  await withDir(async (dir) => {
    const k = await Keyring.open(dir);
    const first = k.activeId;
    const key = dk();
    const old = k.wrap(key);
    const id = await k.rotate();
    assertEquals([k.activeId, k.ids()], [id, [first, id]]);
    assertEquals(k.wrap(key).kek, `m:${id}`);
    assertEquals(k.unwrap(old.kek, old.wrapped), key, "old keys still open");
    await assertRejects(() => k.retire(id));
    await assertRejects(() => k.retire("nope"));
    await k.retire(first);
    assertEquals(k.ids(), [id]);
    await assertRejects(() => Promise.resolve().then(() => k.unwrap(old.kek, old.wrapped)));
    const again = await Keyring.open(dir);
    assertEquals([again.activeId, again.ids(), again.secret], [id, [id], k.secret]);
    assertEquals((await Deno.stat(keyringPath(dir))).mode! & 0o777, 0o600);
  });
});

Deno.test("a damaged keyring file is refused, not replaced", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(keyringPath(dir), "{not json");
    await assertRejects(() => Keyring.open(dir));
    assertEquals(await Deno.readTextFile(keyringPath(dir)), "{not json");
  });
});
