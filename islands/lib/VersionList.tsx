/**
 * The object browser's "Show deleted" view of a versioned bucket: every version and delete
 * marker under the folder (ListObjectVersions), with Restore (delete the delete marker that hides
 * an object, or copy an older version over the current one) and permanent deletion of one
 * version, behind its own confirmation.
 */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { errorText, formatBytes, formatTime } from "./api.ts";
import {
  type BucketRef,
  type KeyVersion,
  listVersionPage,
  restoreVersion,
  s3,
  type VersionMarker,
} from "./s3.ts";
import { ActionsTh, Alerts, Loading, Pager } from "./ui.tsx";
import { useActions } from "./actions.ts";

const PAGE_SIZE = 50;

/**
 * The delete confirmation: in a versioned bucket a delete only adds a delete marker, and the
 * data stays (restorable from "Show deleted").
 */
export function deleteQuestion(what: string, versioning: string | undefined): string {
  if (versioning === "Enabled") {
    return `Delete ${what}? Versioning is on: a delete marker is created and the object ` +
      `disappears from the listing, but its data stays as a noncurrent version. Use "Show ` +
      `deleted" to restore it or to delete versions permanently.`;
  }
  if (versioning === "Suspended") {
    return `Delete ${what}? Versioning is suspended: a delete marker is created; earlier ` +
      `versions stay, but a current version without a version id ("null") is removed for good.`;
  }
  return `Delete ${what}? This cannot be undone.`;
}

export function VersionList(
  { bucket, prefix, onOpenFolder }: {
    bucket: BucketRef;
    prefix: string;
    onOpenFolder: (prefix: string) => void;
  },
) {
  const page = useSignal<
    { versions: KeyVersion[]; prefixes: string[]; next: VersionMarker } | null
  >(
    null,
  );
  /** The marker of each page shown so far (the first is null). */
  const markers = useSignal<VersionMarker[]>([null]);
  const { error, notice, act } = useActions(() => load(), errorText);

  const load = async (marker: VersionMarker = markers.value.at(-1) ?? null) => {
    try {
      page.value = await listVersionPage(bucket, { prefix, marker, max: PAGE_SIZE });
    } catch (e) {
      error.value = errorText(e);
      page.value = { versions: [], prefixes: [], next: null };
    }
  };
  useEffect(() => {
    markers.value = [null];
    load(null);
  }, [prefix]);

  const undelete = (v: KeyVersion) =>
    act(
      () => s3("DELETE", bucket, v.key, { versionId: v.versionId }),
      `Restored "${v.key}": its delete marker was removed.`,
    );
  const restore = (v: KeyVersion) =>
    act(
      () => restoreVersion(bucket, v.key, v.versionId),
      `Version ${v.versionId} of "${v.key}" is the current version again.`,
    );
  const purge = (v: KeyVersion) => {
    const what = v.deleteMarker ? "the delete marker" : "version";
    if (
      !confirm(
        `Permanently delete ${what} ${v.versionId} of "${v.key}"? This cannot be undone.`,
      )
    ) return;
    act(
      () => s3("DELETE", bucket, v.key, { versionId: v.versionId }),
      `Deleted ${what} ${v.versionId} of "${v.key}" permanently.`,
    );
  };

  const p = page.value;
  const name = (k: string) => k.slice(prefix.length);
  return (
    <div id="version-list">
      <Alerts error={error.value} notice={notice.value} />
      <div class="table-wrap">
        {!p ? <Loading /> : (
          <table id="version-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Version</th>
                <th class="num">Size</th>
                <th class="hide-sm">Last modified</th>
                <ActionsTh />
              </tr>
            </thead>
            <tbody>
              {p.prefixes.map((cp) => (
                <tr key={cp} data-prefix={cp}>
                  <td>
                    <button type="button" class="link" onClick={() => onOpenFolder(cp)}>
                      {name(cp)}
                    </button>
                  </td>
                  <td colSpan={4}></td>
                </tr>
              ))}
              {p.versions.map((v) => (
                <tr
                  key={`${v.key}\0${v.versionId}`}
                  data-key={v.key}
                  data-version={v.versionId}
                  data-marker={v.deleteMarker ? "true" : undefined}
                  class={v.deleteMarker ? "muted" : undefined}
                >
                  <td>{name(v.key)}</td>
                  <td>
                    <code>{v.versionId}</code> {v.isLatest && <span class="badge">latest</span>}
                    {v.deleteMarker && <span class="badge bad">delete marker</span>}
                  </td>
                  <td class="num">{v.deleteMarker ? "—" : formatBytes(v.size)}</td>
                  <td class="hide-sm">{formatTime(v.lastModified)}</td>
                  <td>
                    <div class="row">
                      {v.deleteMarker && v.isLatest && (
                        <button
                          type="button"
                          onClick={() => undelete(v)}
                        >
                          Restore<span class="sr-only">{name(v.key)}</span>
                        </button>
                      )}
                      {!v.deleteMarker && !v.isLatest && (
                        <button
                          type="button"
                          onClick={() => restore(v)}
                        >
                          Restore this version<span class="sr-only">of {name(v.key)}</span>
                        </button>
                      )}
                      <button type="button" onClick={() => purge(v)}>
                        Delete permanently<span class="sr-only">
                          {name(v.key)} version {v.versionId}
                        </span>
                      </button>
                    </div>
                  </td>
                </tr>
              ))}
              {p.prefixes.length === 0 && p.versions.length === 0 && (
                <tr>
                  <td colSpan={5}>No versions in this folder.</td>
                </tr>
              )}
            </tbody>
          </table>
        )}
      </div>
      <Pager starts={markers} next={p?.next} load={load} />
    </div>
  );
}
