/**
 * The integrity scrubber on the dashboard (administrators): whether it runs, the last pass and
 * what it found (`GET /api/v1/integrity`); and the bucket page's on-demand check
 * (`POST /api/v1/buckets/{bucket}/verify-integrity`).
 */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { api, formatBytes } from "./api.ts";

interface Finding {
  tenantId: string | null;
  bucket: string;
  key: string;
  versionId: string;
  reason: string;
  at: number;
}

interface Pass {
  startedAt: number;
  endedAt: number | null;
  checkedObjects: number;
  checkedBytes: number;
  skipped: number;
  corruptCount: number;
  corrupt: Finding[];
}

interface Status {
  enabled: boolean;
  rateBytesPerSecond: number;
  intervalSeconds: number;
  running: boolean;
  nextAt: number | null;
  current: Pass | null;
  last: Pass | null;
}

const when = (ms: number | null) => ms === null ? "—" : new Date(ms).toLocaleString();

function PassSummary({ label, p }: { label: string; p: Pass }) {
  return (
    <p data-testid={`integrity-${label.toLowerCase().replace(/\W+/g, "-")}`}>
      <strong>{label}:</strong> started {when(p.startedAt)}
      {p.endedAt !== null && <>, finished {when(p.endedAt)}</>}; {p.checkedObjects}{" "}
      objects ({formatBytes(p.checkedBytes)}) verified
      {p.skipped > 0 && <>, {p.skipped} skipped</>};{" "}
      <span class={`badge ${p.corruptCount ? "bad" : "ok"}`}>
        {p.corruptCount ? `${p.corruptCount} corrupt` : "no corruption"}
      </span>
    </p>
  );
}

export function IntegrityPanel() {
  const status = useSignal<Status | null>(null);
  const error = useSignal("");
  useEffect(() => {
    api<Status>("integrity").then((s) => status.value = s).catch((e) =>
      error.value = (e as Error).message
    );
  }, []);
  const s = status.value;
  const findings = [...s?.current?.corrupt ?? [], ...s?.last?.corrupt ?? []];
  return (
    <div class="panel" id="integrity">
      <h2>Data integrity</h2>
      {error.value && <div class="alert error" role="alert">{error.value}</div>}
      {s && (
        <>
          <p>
            {s.enabled
              ? `Background scrubbing at ${formatBytes(s.rateBytesPerSecond)}/s, a pass every ${
                Math.round(s.intervalSeconds / 3600)
              } h${s.running ? " (running now)" : `; next ${when(s.nextAt)}`}.`
              : "Background scrubbing is off (--scrub-rate 0); buckets can be checked on demand."}
          </p>
          {s.current && <PassSummary label="Pass in progress" p={s.current} />}
          {s.last
            ? <PassSummary label="Last scrub" p={s.last} />
            : <p>No scrub has finished yet.</p>}
          {findings.length > 0 && (
            <table data-testid="integrity-findings">
              <thead>
                <tr>
                  <th>Bucket</th>
                  <th>Key</th>
                  <th>Version</th>
                  <th>Problem</th>
                  <th>Found</th>
                </tr>
              </thead>
              <tbody>
                {findings.map((f) => (
                  <tr key={`${f.tenantId}/${f.bucket}/${f.key}/${f.versionId}/${f.at}`}>
                    <td>{f.tenantId ? `${f.tenantId}:${f.bucket}` : f.bucket}</td>
                    <td>{f.key}</td>
                    <td>{f.versionId}</td>
                    <td>{f.reason}</td>
                    <td>{when(f.at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </div>
  );
}

/** The bucket page's "Verify integrity" button and what the check found. */
export function VerifyIntegrity({ bucket, tenantId }: { bucket: string; tenantId?: string }) {
  const result = useSignal<Pass | null>(null);
  const busy = useSignal(false);
  const error = useSignal("");
  const run = async () => {
    busy.value = true;
    error.value = "";
    try {
      result.value = await api<Pass>(`buckets/${encodeURIComponent(bucket)}/verify-integrity`, {
        method: "POST",
        query: { tenantId },
      });
    } catch (e) {
      error.value = (e as Error).message;
    } finally {
      busy.value = false;
    }
  };
  const r = result.value;
  return (
    <>
      <button type="button" id="verify-integrity" disabled={busy.value} onClick={run}>
        {busy.value ? "Verifying…" : "Verify integrity"}
      </button>
      {(r || error.value) && (
        <div
          class={`alert ${error.value || r?.corruptCount ? "error" : "ok"}`}
          role="status"
          id="verify-integrity-result"
        >
          {error.value ||
            (r && (r.corruptCount
              ? `${r.corruptCount} corrupt: ${
                r.corrupt.map((f) => `${f.key} (${f.versionId}): ${f.reason}`).join("; ")
              }`
              : `${r.checkedObjects} objects (${
                formatBytes(r.checkedBytes)
              }) verified, no corruption`))}
        </div>
      )}
    </>
  );
}
