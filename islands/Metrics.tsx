/**
 * The Metrics page (global administrators): requests, latency percentiles, throughput and
 * storage over a chosen range, per S3 operation or for all, charted with uPlot from the server's
 * per-minute history (`GET /api/v1/metrics/history`). Reloads each minute while open.
 */
import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import { api, formatBytes } from "./lib/api.ts";
import { Alerts, Loading } from "./lib/ui.tsx";

interface Point {
  t: number;
  rps: number;
  errors: number;
  rejected: number;
  inBps: number;
  outBps: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  storageBytes: number | null;
}

interface History {
  step: number;
  points: Point[];
  ops: string[];
}

const RANGES = ["1h", "6h", "24h", "7d", "30d", "365d"];

/** One chart: a title and series drawn from the points. */
interface ChartSpec {
  id: string;
  title: string;
  series: { label: string; color: string; value: (p: Point, step: number) => number | null }[];
  unit: (v: number) => string;
}

const CHARTS: ChartSpec[] = [
  {
    id: "requests",
    title: "Requests per second",
    series: [
      { label: "requests/s", color: "#2563eb", value: (p) => p.rps },
      { label: "5xx/s", color: "#dc2626", value: (p, step) => p.errors / (step / 1000) },
      { label: "4xx/s", color: "#d98a00", value: (p, step) => p.rejected / (step / 1000) },
    ],
    unit: (v) => v.toFixed(v < 10 ? 2 : 0),
  },
  {
    id: "latency",
    title: "Latency (ms)",
    series: [
      { label: "p50", color: "#16a34a", value: (p) => p.p50 },
      { label: "p95", color: "#d98a00", value: (p) => p.p95 },
      { label: "p99", color: "#dc2626", value: (p) => p.p99 },
    ],
    unit: (v) => `${v < 10 ? v.toFixed(1) : Math.round(v)} ms`,
  },
  {
    id: "throughput",
    title: "Throughput",
    series: [
      { label: "in", color: "#2563eb", value: (p) => p.inBps },
      { label: "out", color: "#16a34a", value: (p) => p.outBps },
    ],
    unit: (v) => `${formatBytes(v)}/s`,
  },
  {
    id: "storage",
    title: "Storage used",
    series: [{ label: "stored", color: "#7c3aed", value: (p) => p.storageBytes }],
    unit: (v) => formatBytes(v),
  },
];

function Chart({ spec, data }: { spec: ChartSpec; data: History }) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!el.current) return;
    const xs = data.points.map((p) => p.t / 1000);
    const ys = spec.series.map((s) => data.points.map((p) => s.value(p, data.step)));
    const width = Math.max(320, el.current.clientWidth);
    const plot = new uPlot(
      {
        width,
        height: 220,
        series: [
          {},
          ...spec.series.map((s) => ({
            label: s.label,
            stroke: s.color,
            width: 1.5,
            value: (_: uPlot, v: number | null) => v === null ? "—" : spec.unit(v),
          })),
        ],
        axes: [{}, { values: (_: uPlot, vals: number[]) => vals.map(spec.unit), size: 80 }],
      },
      [xs, ...ys] as uPlot.AlignedData,
      el.current,
    );
    return () => plot.destroy();
  }, [data, spec]);
  return (
    <div class="panel chart" data-chart={spec.id}>
      <h3>{spec.title}</h3>
      <div ref={el} />
    </div>
  );
}

/** A labelled select of `[value, text]` options. */
function Picker(
  { id, label, value, options, onPick }: {
    id: string;
    label: string;
    value: string;
    options: string[][];
    onPick: (v: string) => void;
  },
) {
  return (
    <label class="row">
      {label}
      <select
        id={id}
        value={value}
        onChange={(e) => onPick((e.currentTarget as HTMLSelectElement).value)}
      >
        {options.map(([v, text]) => <option key={v} value={v}>{text}</option>)}
      </select>
    </label>
  );
}

export default function Metrics(_: Record<string, unknown>) {
  const range = useSignal("24h");
  const op = useSignal("*");
  const data = useSignal<History | null>(null);
  const error = useSignal("");
  const load = () =>
    api<History>("metrics/history", { query: { range: range.value, op: op.value } })
      .then((h) => data.value = h)
      .catch((e) => error.value = (e as Error).message);
  useEffect(() => {
    load();
    const timer = setInterval(load, 60_000);
    return () => clearInterval(timer);
  }, []);
  const h = data.value;
  return (
    <div>
      <Alerts error={error.value} />
      <div class="panel row">
        <Picker
          id="metrics-range"
          label="Range"
          value={range.value}
          options={RANGES.map((r) => [r, r])}
          onPick={(v) => (range.value = v, load())}
        />
        <Picker
          id="metrics-op"
          label="Operation"
          value={op.value}
          options={[["*", "All operations"], ...(h?.ops ?? []).map((o) => [o, o])]}
          onPick={(v) => (op.value = v, load())}
        />
        <span class="hint">
          {h ? `${h.points.length} points, one per ${h.step === 60_000 ? "minute" : "hour"}` : ""}
        </span>
      </div>
      {!h
        ? <Loading />
        : h.points.length === 0
        ? <p class="panel">No figures yet: the first minute is written when it ends.</p>
        : (
          <div class="charts" id="charts">
            {CHARTS.map((c) => <Chart key={c.id} spec={c} data={h} />)}
          </div>
        )}
    </div>
  );
}
