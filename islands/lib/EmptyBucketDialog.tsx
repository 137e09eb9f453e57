/**
 * Emptying or force-deleting a bucket, behind a typed confirmation of its name: the dialog runs
 * the console API's empty / force-delete and shows its progress, then what S3 refused (versions
 * under Object Lock stay, and a force-delete then keeps the bucket).
 */
import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { errorText } from "./api.ts";
import { type EmptyProgress, progressText, runEmpty } from "./empty.ts";
import { Alerts } from "./ui.tsx";

export interface EmptyBucketDialogProps {
  bucket: string;
  /** A tenant's namespace (global administrators), "" for the caller's own. */
  tenantId: string;
  what: "empty" | "force-delete";
  onClose: () => void;
  /** Called once the run ended (the bucket is gone when `p.bucketDeleted`). */
  onDone: (p: EmptyProgress) => void;
}

export function EmptyBucketDialog(
  { bucket, tenantId, what, onClose, onDone }: EmptyBucketDialogProps,
) {
  const dialog = useRef<HTMLDialogElement>(null);
  const typed = useSignal("");
  const running = useSignal(false);
  const progress = useSignal<EmptyProgress | null>(null);
  const error = useSignal("");
  useEffect(() => {
    dialog.current?.showModal();
  }, []);

  const run = async () => {
    running.value = true;
    error.value = "";
    try {
      const last = await runEmpty(bucket, tenantId, what, (p) => progress.value = p);
      if (last.error) error.value = `${last.error.code}: ${last.error.message}`;
      onDone(last);
    } catch (e) {
      error.value = errorText(e);
    } finally {
      running.value = false;
    }
  };

  const p = progress.value;
  const force = what === "force-delete";
  const title = force ? `Force-delete bucket ${bucket}?` : `Empty bucket ${bucket}?`;
  return (
    <dialog
      ref={dialog}
      id="empty-bucket-dialog"
      aria-labelledby="empty-title"
      onClose={onClose}
      // Escape would close it mid-run and lose the outcome; the run itself goes on server-side.
      onCancel={(e) => {
        if (running.value) e.preventDefault();
      }}
    >
      <h2 id="empty-title">{title}</h2>
      <p>
        Every object, every version and delete marker is deleted and unfinished multipart uploads
        are aborted{force ? ", then the bucket itself" : ""}. This cannot be undone. Versions under
        Object Lock retention or legal hold are kept and listed.
      </p>
      <label>
        Type the bucket name to confirm
        <input
          name="confirm"
          autoComplete="off"
          value={typed.value}
          disabled={running.value || p?.done}
          onInput={(e) => typed.value = (e.currentTarget as HTMLInputElement).value}
        />
      </label>
      {p && (
        <div class="mt" id="empty-progress" data-done={p.done ? "true" : undefined}>
          {!p.done && <progress aria-label="Deleting" />}
          <p role="status">{progressText(p)}</p>
          {p.done && force && (
            <p>{p.bucketDeleted ? `Bucket ${bucket} deleted.` : `Bucket ${bucket} was kept.`}</p>
          )}
          {p.refused.length > 0 && (
            <>
              <p>Not deleted:</p>
              <ul id="empty-refused">
                {p.refused.map((r) => (
                  <li key={`${r.key}\0${r.versionId}`}>
                    {r.key} (version {r.versionId}): {r.code}: {r.message}
                  </li>
                ))}
                {p.refusedCount > p.refused.length && (
                  <li>… and {p.refusedCount - p.refused.length} more</li>
                )}
              </ul>
            </>
          )}
        </div>
      )}
      <Alerts error={error.value} />
      <div class="row mt dialog-actions">
        {!p?.done && (
          <button
            class="danger"
            type="button"
            id="empty-run"
            disabled={typed.value !== bucket || running.value}
            onClick={run}
          >
            {force ? "Delete bucket and contents" : "Empty bucket"}
          </button>
        )}
        <button type="button" disabled={running.value} onClick={() => dialog.current?.close()}>
          {p?.done ? "Close" : "Cancel"}
        </button>
      </div>
    </dialog>
  );
}
