import assert from "node:assert/strict";
import { LineSplitter, progressText } from "./empty.ts";

Deno.test("empty: NDJSON lines split across chunks", () => {
  const s = new LineSplitter();
  assert.deepEqual(s.push('{"a":1}\n{"b"'), ['{"a":1}']);
  assert.deepEqual(s.push(":2}\n\n"), ['{"b":2}']);
  assert.deepEqual(s.push('{"c":3}'), []);
  assert.deepEqual(s.end(), ['{"c":3}']);
  assert.deepEqual(s.end(), []);
});

Deno.test("empty: progress in words", () => {
  assert.equal(
    progressText({
      versions: 3,
      deleteMarkers: 1,
      uploadsAborted: 0,
      refusedCount: 2,
      refused: [],
    }),
    "Deleted 3 object version(s), 1 delete marker(s), 0 upload(s) aborted, 2 refused.",
  );
});
