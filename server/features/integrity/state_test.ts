import { assertEquals } from "../../../tests/_helpers/assert.ts";
import { openDb } from "../../db/mod.ts";
import {
  addFinding,
  emptyPass,
  FINDINGS_KEPT,
  type IntegrityFinding,
  loadScrubState,
  passView,
  saveScrubState,
} from "./state.ts";

const finding = (ns: string, key: string): IntegrityFinding => ({
  ns,
  bucket: "b",
  key,
  versionId: "null",
  reason: "MD5 x, recorded ETag y",
  at: 5,
});

Deno.test("a pass counts every finding and keeps the first FINDINGS_KEPT", () => {
  const p = emptyPass(1);
  for (let i = 0; i < FINDINGS_KEPT + 5; i++) addFinding(p, finding("", `k${i}`));
  assertEquals([p.corrupt, p.findings.length], [FINDINGS_KEPT + 5, FINDINGS_KEPT]);
  assertEquals(p.findings.at(-1)?.key, `k${FINDINGS_KEPT - 1}`);
});

Deno.test("the view shows a tenant only its findings, and counts them", () => {
  const p = emptyPass(1);
  addFinding(p, finding("", "global"));
  addFinding(p, finding("t1", "mine"));
  addFinding(p, finding("t2", "theirs"));
  const all = passView(p);
  assertEquals([all.corruptCount, all.corrupt.map((f) => f.tenantId)], [3, [null, "t1", "t2"]]);
  const mine = passView(p, (f) => f.ns === "t1");
  assertEquals([mine.corruptCount, mine.corrupt.map((f) => f.key)], [1, ["mine"]]);
});

Deno.test("the state survives a reopen of the database (the checkpoint)", () => {
  const db = openDb(":memory:");
  try {
    assertEquals(loadScrubState(db), { v: 1, current: null, last: null });
    const pass = emptyPass(10);
    pass.objects = 3;
    addFinding(pass, finding("", "k"));
    const position = { ns: "", bucket: "b", bucketId: "id", keyMarker: "k", versionIdMarker: "v" };
    saveScrubState(db, { v: 1, current: { pass, position }, last: null }, 11);
    saveScrubState(db, { v: 1, current: { pass, position }, last: pass }, 12);
    assertEquals(loadScrubState(db), { v: 1, current: { pass, position }, last: pass });
  } finally {
    db.close();
  }
});
