/**
 * The object browser's upload list: a progress bar per file, its rate and time left while it
 * runs, Resume and Discard for a failed upload, Cancel for a running one.
 */
import type { Signal } from "@preact/signals";
import { abortUpload, uploadPace, type UploadState } from "./upload.ts";

export interface UploadRow {
  id: number;
  path: string;
  loaded: number;
  total: number;
  status: "queued" | "uploading" | "done" | "failed" | "cancelled";
  /** When the current attempt began (Date.now()), for its rate and time left. */
  startedAt?: number;
  /** Bytes already there when the current attempt began (a resumed upload's parts). */
  startLoaded?: number;
  error?: string;
  state: UploadState;
}

export function UploadList(
  { uploads, onResume }: { uploads: Signal<UploadRow[]>; onResume: (r: UploadRow) => void },
) {
  if (uploads.value.length === 0) return null;
  return (
    <div class="panel">
      <div class="row spread">
        <h2>Uploads</h2>
        <button
          type="button"
          onClick={() =>
            uploads.value = uploads.value.filter((r) =>
              r.status !== "done" && r.status !== "cancelled"
            )}
        >
          Clear finished
        </button>
      </div>
      <ul class="uploads" id="uploads">
        {uploads.value.map((r) => (
          <li key={r.id} data-upload={r.path} data-status={r.status} data-loaded={r.loaded}>
            <span class="name" title={r.path}>{r.path}</span>
            <progress
              class={r.status === "done" ? "done" : r.status === "failed" ? "red" : ""}
              max={r.total || 1}
              value={r.total ? r.loaded : r.status === "done" ? 1 : 0}
              aria-label={`Upload of ${r.path}`}
            />
            <span>
              {r.status === "failed"
                ? (
                  <>
                    <span class="badge bad" title={r.error}>failed</span>{" "}
                    <button
                      type="button"
                      onClick={() => onResume(r)}
                    >
                      Resume
                    </button>{" "}
                    <button
                      type="button"
                      onClick={() => {
                        abortUpload(r.state);
                        uploads.value = uploads.value.filter((x) =>
                          x.id !== r.id
                        );
                      }}
                    >
                      Discard
                    </button>
                  </>
                )
                : r.status === "done"
                ? <span class="badge ok">done</span>
                : r.status === "cancelled"
                ? <span class="badge">cancelled</span>
                : r.status === "uploading"
                ? (
                  <>
                    {`${r.total ? Math.floor((r.loaded / r.total) * 100) : 0}% `}
                    <span class="hint pace">
                      {uploadPace(
                        r.loaded - (r.startLoaded ?? 0),
                        r.total - (r.startLoaded ?? 0),
                        Date.now() - (r.startedAt ?? Date.now()),
                      )}
                    </span>{" "}
                    <button
                      type="button"
                      onClick={() => r.state.abort?.abort()}
                    >
                      Cancel<span class="sr-only">upload of {r.path}</span>
                    </button>
                  </>
                )
                : `${r.total ? Math.floor((r.loaded / r.total) * 100) : 0}%`}
            </span>
          </li>
        ))}
      </ul>
    </div>
  );
}
