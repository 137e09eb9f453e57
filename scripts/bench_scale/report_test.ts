import { assert, assertEquals } from "../../tests/_helpers/assert.ts";
import {
  type Checkpoint,
  evaluateTargets,
  type Figures,
  formatTable,
  formatTargets,
  LABEL_WIDTH,
  type Reuse,
  ROWS,
  shortCount,
} from "./report.ts";
import { deleteObjectsBody, summarizePage } from "./client.ts";
import { keyOf, percentile, sumBatches } from "./load.ts";

/** Figures that meet every target, with `over` replacing some. */
function figures(over: Partial<Figures> = {}): Figures {
  const f = Object.fromEntries(ROWS.map((r) => [r.id, 1])) as Figures;
  return {
    ...f,
    putListed: 1000,
    putPlain: 1000,
    deleteListed: 5000,
    deletePlain: 5000,
    get: 2000,
    diskPerObject: 1500,
    writePerPut: 8000,
    delimiter: 5,
    versionsPage: 4,
    versionsV2Page: 2,
    listBuckets: 10,
    buckets: 10000,
    rss: 300,
    restartMs: 600,
    errors: 0,
    ...over,
  };
}

const at = (objects: number, f: Figures): Checkpoint => ({
  objects,
  figures: f,
  firstError: null,
  notes: [],
});

const reuse = (afterRewrite: number, errors = 0): Reuse => ({
  objects: 1e6,
  deleted: 5e5,
  deleteRate: 9000,
  before: 1000,
  afterDelete: 1000,
  afterRewrite,
  errors,
  firstError: null,
});

Deno.test("every target passes on figures that meet it", () => {
  const t = evaluateTargets([at(1e4, figures()), at(1e6, figures())], reuse(1050));
  assertEquals(t.length, 13);
  assertEquals(formatTargets(t).missed, 0);
  assert(formatTargets(t).text.split("\n").every((l) => l.endsWith("PASS")));
});

Deno.test("ratios compare the last checkpoint with the first; bounds read the last", () => {
  const t = evaluateTargets(
    [at(1e4, figures()), at(1e5, figures({ putListed: 1 })), at(1e6, figures({ putListed: 850 }))],
    null,
  );
  const line = formatTargets(t).text.split("\n");
  assert(line[0].startsWith("PUT/s listed bucket 1M/10k >= 0.9"), line[0]);
  assert(line[0].endsWith("0.85  MISS"), line[0]);
  const slowStart = evaluateTargets(
    [at(1e4, figures({ restartMs: 5000 })), at(1e6, figures())],
    null,
  );
  assertEquals(formatTargets(slowStart).missed, 0);
  const slowEnd = evaluateTargets(
    [at(1e4, figures()), at(1e6, figures({ restartMs: 1001 }))],
    null,
  );
  assertEquals(formatTargets(slowEnd).missed, 1);
});

Deno.test("a target measured with failed requests is INVALID, not PASS", () => {
  const t = evaluateTargets([at(1e4, figures()), at(1e6, figures({ errors: 2 }))], reuse(1000, 1));
  const text = formatTargets(t).text;
  assertEquals(text.split("\n").filter((l) => l.endsWith("INVALID")).length, 13);
  assertEquals(formatTargets(t).missed, 13);
});

Deno.test("space reuse misses when the data dir grows more than 10%", () => {
  const t = evaluateTargets([at(1e4, figures()), at(1e6, figures())], reuse(1101));
  const last = formatTargets(t).text.split("\n").at(-1)!;
  assert(last.endsWith("10.10  MISS"), last);
});

Deno.test("the table has a line per row and a column per checkpoint", () => {
  const text = formatTable([at(1e4, figures()), at(1e6, figures({ get: NaN }))]);
  const lines = text.split("\n");
  assertEquals(lines.length, ROWS.length + 1);
  assert(/10k\s+1M$/.test(lines[0]), lines[0]);
  assert(lines.some((l) => l.startsWith("GET/s") && l.endsWith("n/a")));
  assertEquals(shortCount(3000), "3k");
  assertEquals(shortCount(2500), "2500");
  assert(ROWS.every((r) => r.label.length < LABEL_WIDTH));
});

Deno.test("list pages, keys and DeleteObjects bodies are what the server expects", () => {
  const page = summarizePage(
    "<ListBucketResult><IsTruncated>true</IsTruncated><Contents><Key>a</Key></Contents>" +
      "<Contents><Key>b</Key></Contents><CommonPrefixes><Prefix>p/</Prefix></CommonPrefixes>" +
      "<NextContinuationToken>tok</NextContinuationToken></ListBucketResult>",
  );
  assertEquals(page, { keys: 2, prefixes: 1, truncated: true, next: "tok", nextVersionId: null });
  assertEquals(keyOf(1234567), "d567/obj01234567");
  assertEquals(
    deleteObjectsBody(["a", "b"]),
    "<Delete><Quiet>true</Quiet><Object><Key>a</Key></Object><Object><Key>b</Key></Object></Delete>",
  );
  assertEquals(percentile([5, 1, 3, 2, 4], 0.5), 3);
  const sum = sumBatches([
    { ops: 2, seconds: 1, lat: [1, 2], errors: 0, firstError: null },
    { ops: 1, seconds: 2, lat: [3], errors: 1, firstError: "500" },
  ]);
  assertEquals([sum.ops, sum.seconds, sum.lat.length, sum.errors, sum.firstError], [
    3,
    3,
    3,
    1,
    "500",
  ]);
});
