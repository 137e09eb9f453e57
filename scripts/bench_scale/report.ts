/**
 * The scale benchmark's report: one row per figure with a column per checkpoint, then the
 * targets of issue 20 as ratios or bounds with PASS / MISS. A target whose figures came with
 * failed requests is INVALID, never PASS. Pure functions over the figures, so they are tested
 * without a server.
 */

/** The figures of one checkpoint, by row id (see ROWS). */
export type Figures = Record<RowId, number>;

export interface Checkpoint {
  /** Objects in each of the two main buckets. */
  objects: number;
  figures: Figures;
  /** The first failed request of the checkpoint, if any. */
  firstError: string | null;
  /** Lines printed under the table (what the data dir holds, ...). */
  notes: string[];
}

/** The half-delete-and-rewrite at the last checkpoint. */
export interface Reuse {
  objects: number;
  deleted: number;
  deleteRate: number;
  before: number;
  afterDelete: number;
  afterRewrite: number;
  errors: number;
  firstError: string | null;
}

const ROW_LIST = [
  ["putListed", "PUT/s, bucket listed at start (64 conn)", 0],
  ["putListedP99", "  p99 ms", 1],
  ["putPlain", "PUT/s, bucket never listed (64 conn)", 0],
  ["putPlainP99", "  p99 ms", 1],
  ["writePerPut", "disk bytes written per PUT (write_bytes)", 0],
  ["wcharPerPut", "bytes passed to write() per PUT (wchar)", 0],
  ["get", "GET/s, random keys (64 conn)", 0],
  ["getP99", "  p99 ms", 1],
  ["listFirst", "ListObjectsV2 first page p50 ms", 2],
  ["listDeep", "ListObjectsV2 deep page (start-after d500/) p50 ms", 2],
  ["delimiter", "ListObjectsV2 delimiter=/ (1,000 prefixes) p50 ms", 2],
  ["versionsPage", "ListObjectVersions first page p50 ms", 2],
  ["versionsDeep", "ListObjectVersions deep page p50 ms", 2],
  ["versionsV2Page", "ListObjectsV2 page, versioned bucket p50 ms", 2],
  ["listBuckets", "ListBuckets p50 ms", 2],
  ["buckets", "  buckets listed", 0],
  ["searchScan", "search page, size filter (10k keys) p50 ms", 2],
  ["searchRecords", "search page, type filter (10k records) p50 ms", 2],
  ["walkSeconds", "full walk of the listed bucket, s", 2],
  ["walkRate", "  keys/s", 0],
  ["deleteListed", "DeleteObjects objects/s, listed bucket", 0],
  ["deletePlain", "DeleteObjects objects/s, never-listed bucket", 0],
  ["rss", "server RSS MiB", 0],
  ["peakRss", "server peak RSS MiB", 0],
  ["stored", "object versions stored (all buckets)", 0],
  ["diskMiB", "data dir MiB (allocated)", 1],
  ["diskPerObject", "data dir bytes per object version", 0],
  ["stopMs", "stop: SIGTERM to exit, ms", 0],
  ["listenMs", "restart: spawn to listening, ms", 0],
  ["restartMs", "restart: spawn to first LIST answered, ms", 0],
  ["load1", "load average (1 min) at checkpoint", 2],
  ["errors", "failed requests", 0],
] as const;

export type RowId = typeof ROW_LIST[number][0];

/** Row ids, labels and decimals, in print order. */
export const ROWS: readonly { id: RowId; label: string; decimals: number }[] = ROW_LIST.map((
  [id, label, decimals],
) => ({ id, label, decimals }));

export const LABEL_WIDTH = 52;
const COLUMN_WIDTH = 12;

/** "10k", "1M", "3000". */
export function shortCount(n: number): string {
  if (n >= 1e6 && n % 1e6 === 0) return `${n / 1e6}M`;
  if (n >= 1e3 && n % 1e3 === 0) return `${n / 1e3}k`;
  return String(n);
}

function num(v: number, decimals: number): string {
  if (!Number.isFinite(v)) return "n/a";
  return v.toLocaleString("en-US", {
    minimumFractionDigits: decimals,
    maximumFractionDigits: decimals,
  });
}

/** The figures table: a row per figure, a column per checkpoint. */
export function formatTable(checkpoints: Checkpoint[]): string {
  const head = "objects per bucket".padEnd(LABEL_WIDTH) +
    checkpoints.map((c) => shortCount(c.objects).padStart(COLUMN_WIDTH)).join("");
  const lines = ROWS.map((r) =>
    r.label.padEnd(LABEL_WIDTH) +
    checkpoints.map((c) => num(c.figures[r.id], r.decimals).padStart(COLUMN_WIDTH)).join("")
  );
  return [head, ...lines].join("\n");
}

export function formatReuse(r: Reuse): string {
  const mib = (b: number) => num(b / 2 ** 20, 1);
  return [
    `space reuse at ${shortCount(r.objects)}: DeleteObjects of ${
      r.deleted.toLocaleString("en-US")
    }` +
    ` objects (every other key) at ${num(r.deleteRate, 0)} objects/s, then as many new keys`,
    `  data dir MiB: before ${mib(r.before)}, after the deletes ${mib(r.afterDelete)}, ` +
    `after the rewrite ${mib(r.afterRewrite)} (growth ${num(growth(r) * 100, 1)}%)`,
  ].join("\n");
}

function growth(r: Reuse): number {
  return r.afterRewrite / r.before - 1;
}

interface Target {
  text: string;
  value: number;
  ok: boolean;
  valid: boolean;
}

function ratio(name: string, first: Checkpoint, last: Checkpoint, id: RowId, min: number): Target {
  const value = last.figures[id] / first.figures[id];
  return {
    text: `${name} ${shortCount(last.objects)}/${shortCount(first.objects)} >= ${min}`,
    value,
    ok: value >= min,
    valid: first.figures.errors === 0 && last.figures.errors === 0,
  };
}

function bound(name: string, last: Checkpoint, value: number, max: number, unit: string): Target {
  return {
    text: `${name} at ${shortCount(last.objects)} <= ${num(max, 0)}${unit}`,
    value,
    ok: value <= max,
    valid: last.figures.errors === 0,
  };
}

/** The targets, evaluated on the first and last checkpoints and the reuse step. */
export function evaluateTargets(checkpoints: Checkpoint[], reuse: Reuse | null): Target[] {
  const first = checkpoints[0];
  const last = checkpoints[checkpoints.length - 1];
  const f = last.figures;
  const out = [
    ratio("PUT/s listed bucket", first, last, "putListed", 0.9),
    ratio("PUT/s never-listed bucket", first, last, "putPlain", 0.9),
    ratio("DeleteObjects/s listed bucket", first, last, "deleteListed", 0.9),
    ratio("DeleteObjects/s never-listed bucket", first, last, "deletePlain", 0.9),
    bound("disk bytes per 1 KiB object", last, f.diskPerObject, 2000, " B"),
    bound("disk bytes written per 1 KiB PUT", last, f.writePerPut, 16000, " B"),
    bound("delimiter=/ listing p50", last, f.delimiter, 20, " ms"),
    bound(
      "ListObjectVersions page / ListObjectsV2 page",
      last,
      f.versionsPage / f.versionsV2Page,
      3,
      "x",
    ),
    bound(`ListBuckets (${num(f.buckets, 0)} buckets) p50`, last, f.listBuckets, 20, " ms"),
    ratio("GET/s at 64 connections", first, last, "get", 0.7),
    bound("server RSS", last, f.rss, 512, " MiB"),
    bound("restart to first LIST", last, f.restartMs, 1000, " ms"),
  ];
  if (reuse) {
    out.push({
      text: `data dir growth after deleting half and rewriting as many at ${
        shortCount(reuse.objects)
      } <= 10%`,
      value: growth(reuse) * 100,
      ok: growth(reuse) <= 0.1,
      valid: reuse.errors === 0,
    });
  }
  return out;
}

/** The targets as lines, and how many were not met (missed or invalid). */
export function formatTargets(targets: Target[]): { text: string; missed: number } {
  const lines = targets.map((t) => {
    const verdict = !t.valid ? "INVALID" : t.ok ? "PASS" : "MISS";
    return `${t.text.padEnd(76)} ${num(t.value, 2).padStart(10)}  ${verdict}`;
  });
  return { text: lines.join("\n"), missed: targets.filter((t) => !t.valid || !t.ok).length };
}
