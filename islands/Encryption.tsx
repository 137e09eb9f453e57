/**
 * Encryption at rest (global admins): the master keys and the rotation's progress, with a Rotate
 * button. While a rotation rewraps data keys the status is read again every two seconds.
 */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { api, formatTime } from "./lib/api.ts";
import { Alerts, Loading } from "./lib/ui.tsx";

interface Progress {
  pass: number;
  phase: string;
  scanned: number;
  rewrapped: number;
  skipped: number;
  remaining: number;
  started: number;
  finished: number | null;
}

interface Status {
  activeKeyId: string;
  keys: number;
  retiring: string[];
  running: boolean;
  progress: Progress | null;
  error: string | null;
}

const REFRESH_MS = 2000;

export default function Encryption(_props: Record<string, unknown>) {
  const status = useSignal<Status | null>(null);
  const error = useSignal("");
  const notice = useSignal("");
  const busy = useSignal(false);

  const load = () =>
    api<Status>("encryption/status").then((s) => {
      status.value = s;
      error.value = "";
    }).catch((e) => error.value = (e as Error).message);

  useEffect(() => {
    load();
  }, []);

  // A rotation in progress (or old keys still waiting to be retired): keep the status fresh.
  const active = !!status.value && (status.value.running || status.value.retiring.length > 0);
  useEffect(() => {
    if (!active) return;
    const t = setInterval(load, REFRESH_MS);
    return () => clearInterval(t);
  }, [active]);

  const rotate = async () => {
    if (
      !confirm(
        "Rotate the master key? A new key wraps new data keys at once; existing data keys are rewrapped in the background and the old key is retired when none is left under it.",
      )
    ) return;
    busy.value = true;
    try {
      status.value = await api<Status>("encryption/rotate", { method: "POST" });
      notice.value = `Master key rotated: ${status.value.activeKeyId} is active.`;
      error.value = "";
    } catch (e) {
      error.value = (e as Error).message;
    } finally {
      busy.value = false;
    }
  };

  const s = status.value;
  const p = s?.progress;
  return (
    <div class="stack-wide">
      <Alerts error={error.value} notice={notice.value} />
      <div class="panel" id="master-keys">
        <h2>Master keys</h2>
        {!s ? <Loading /> : (
          <div class="stack">
            <dl class="meta">
              <dt>Active key</dt>
              <dd data-active-key>
                <code>{s.activeKeyId}</code>
              </dd>
              <dt>Keys in the keyring</dt>
              <dd data-key-count>{s.keys}</dd>
              <dt>Old keys kept until rewrapping ends</dt>
              <dd data-retiring>
                {s.retiring.length ? s.retiring.map((id) => <code key={id}>{id}</code>) : "none"}
              </dd>
            </dl>
            <p class="hint">
              The master key wraps the data key of every SSE-S3 object and the material of the key
              service's keys. Rotating adds a new key; object bytes are never rewritten. Keep a
              current key export with every backup (<code>deno task admin -- keys export</code>).
            </p>
            <div>
              <button
                class="primary"
                type="button"
                id="rotate-master-key"
                disabled={busy.value || s.running}
                onClick={rotate}
              >
                {s.running ? "Rotation in progress…" : "Rotate master key"}
              </button>
            </div>
          </div>
        )}
      </div>
      {s && (
        <div class="panel" id="rotation-progress">
          <h2>Rotation</h2>
          {s.error && <div class="alert error" role="alert">{s.error}</div>}
          {!p ? <p>No rotation has run on this server.</p> : (
            <>
              <p data-rotation-state>
                {s.running
                  ? `Rewrapping data keys (pass ${p.pass}, ${p.phase})…`
                  : p.finished && !s.retiring.length
                  ? "The last rotation has ended; every data key is under the active key."
                  : "Waiting: the rotation resumes at the next start."}
              </p>
              {s.running && (
                <progress
                  max={p.scanned + p.remaining || 1}
                  value={p.scanned}
                  aria-label="Rotation progress"
                />
              )}
              <table>
                <tbody>
                  <tr>
                    <th scope="row">Pass</th>
                    <td>
                      {p.pass}{" "}
                      <span class="hint">(a rotation ends with a pass that finds nothing)</span>
                    </td>
                  </tr>
                  <tr>
                    <th scope="row">Entries examined</th>
                    <td data-scanned>{p.scanned}</td>
                  </tr>
                  <tr>
                    <th scope="row">Records rewrapped</th>
                    <td data-rewrapped>{p.rewrapped}</td>
                  </tr>
                  <tr>
                    <th scope="row">Object versions left (estimate)</th>
                    <td>{p.remaining}</td>
                  </tr>
                  <tr>
                    <th scope="row">Pass started</th>
                    <td>{formatTime(p.started)}</td>
                  </tr>
                  <tr>
                    <th scope="row">Pass finished</th>
                    <td>{p.finished ? formatTime(p.finished) : "—"}</td>
                  </tr>
                </tbody>
              </table>
            </>
          )}
        </div>
      )}
    </div>
  );
}
