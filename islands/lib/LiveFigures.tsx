/**
 * The dashboard's live figures (global administrators): the last minute's requests per second,
 * p95 latency, errors and throughput, as the server announces each minute on the console's event
 * stream (`metrics`); the first figures come from the history, so the panel is not empty at first.
 */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { api, formatBytes, formatTime } from "./api.ts";
import { onConsoleEvent } from "./events.ts";

interface MinutePoint {
  t: number;
  rps: number;
  errors: number;
  rejected: number;
  p95: number | null;
  inBps: number;
  outBps: number;
}

export function LiveFigures() {
  const p = useSignal<MinutePoint | null>(null);
  useEffect(() => {
    api<{ points: MinutePoint[] }>("metrics/history", { query: { range: "1h" } })
      .then((h) => p.value ??= h.points.at(-1) ?? null).catch(() => {});
    return onConsoleEvent("metrics", (m) => p.value = m as MinutePoint);
  }, []);
  const v = p.value;
  return (
    <div class="panel" id="live-figures">
      <div class="row spread">
        <h2>Last minute</h2>
        <span class="hint" data-testid="live-at">{v ? formatTime(v.t + 60_000) : "waiting"}</span>
      </div>
      <div class="cards">
        <div class="card">
          <div class="label">Requests/s</div>
          <div class="value" data-testid="live-rps">{v ? v.rps.toFixed(1) : "—"}</div>
        </div>
        <div class="card">
          <div class="label">p95 latency</div>
          <div class="value">{v?.p95 != null ? `${v.p95.toFixed(1)} ms` : "—"}</div>
        </div>
        <div class="card">
          <div class="label">Errors (5xx / 4xx)</div>
          <div class="value">{v ? `${v.errors} / ${v.rejected}` : "—"}</div>
        </div>
        <div class="card">
          <div class="label">In / out</div>
          <div class="value">
            {v ? `${formatBytes(v.inBps)}/s · ${formatBytes(v.outBps)}/s` : "—"}
          </div>
        </div>
      </div>
      <a href="/charts">Charts</a>
    </div>
  );
}
