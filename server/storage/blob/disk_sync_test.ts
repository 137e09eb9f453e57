import { assertEquals, assertRejects } from "../../../tests/_helpers/assert.ts";
import { GroupSync } from "./disk_sync.ts";

/** An operation whose runs finish only when the test says so. */
function controlled() {
  const runs: PromiseWithResolvers<void>[] = [];
  const run = () => {
    const r = Promise.withResolvers<void>();
    runs.push(r);
    return r.promise;
  };
  return { runs, run };
}

/** Lets every queued promise reaction run. */
const settle = () => new Promise<void>((r) => setTimeout(r, 0));

Deno.test("group sync: callers arriving during a run share the next one, not the running one", async () => {
  const op = controlled();
  const g = new GroupSync(op.run);
  const done: string[] = [];
  const a = g.sync().then(() => done.push("a"));
  const b = g.sync().then(() => done.push("b"));
  const c = g.sync().then(() => done.push("c"));
  assertEquals(op.runs.length, 1);
  op.runs[0].resolve();
  await a;
  await settle();
  // b and c may have renamed after run 1 began: they wait for run 2.
  assertEquals(done, ["a"]);
  assertEquals(op.runs.length, 2);
  const d = g.sync().then(() => done.push("d"));
  op.runs[1].resolve();
  await Promise.all([b, c]);
  await settle();
  assertEquals(done, ["a", "b", "c"]);
  assertEquals(op.runs.length, 3);
  op.runs[2].resolve();
  await d;
  assertEquals(done, ["a", "b", "c", "d"]);
  // Idle again: the next caller starts a run of its own at once.
  const e = g.sync();
  assertEquals(op.runs.length, 4);
  op.runs[3].resolve();
  await e;
});

Deno.test("group sync: a failed run fails its callers only; the queued run still happens", async () => {
  const op = controlled();
  const g = new GroupSync(op.run);
  const first = g.sync();
  const second = g.sync();
  op.runs[0].reject(new Error("EIO"));
  await assertRejects(() => first);
  await settle();
  assertEquals(op.runs.length, 2);
  op.runs[1].resolve();
  await second;
});
