/** Buckets: list with size and object count, create (versioning, object lock, tags), delete. */
import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { loadList } from "./lib/actions.ts";
import { api, formatBytes, formatTime, listOf } from "./lib/api.ts";
import { documentBody, parseTags, s3, taggingXml } from "./lib/s3.ts";
import { versioningXml } from "./lib/VersioningSetting.tsx";
import BucketPermissions from "./lib/BucketPermissions.tsx";
import { EmptyBucketDialog } from "./lib/EmptyBucketDialog.tsx";
import { ActionsTh, Alerts, CreatePanel, Loading } from "./lib/ui.tsx";

interface Bucket {
  name: string;
  createdAt?: number;
  versioning?: string | boolean;
  objectLock?: boolean;
  objects?: number;
  bytes?: number;
  /** Public by its policy status or ACL; null when the server did not check (a long list). */
  public?: boolean | null;
}

function versioningLabel(v: Bucket["versioning"]): string {
  if (v === true) return "Enabled";
  if (v === false || v === undefined || v === "Unversioned") return "Off";
  return v;
}

export interface BucketListProps extends Record<string, unknown> {
  /** Global admins may switch to a tenant's namespace (list, create, delete). */
  globalAdmin: boolean;
  /** The namespace shown first ("" = own), e.g. when coming back from a tenant's bucket. */
  initialTenantId?: string;
}

export default function BucketList({ globalAdmin, initialTenantId = "" }: BucketListProps) {
  /** The create form stays open across re-renders (it is a controlled <details>). */
  const createOpen = useSignal(false);
  const buckets = useSignal<Bucket[] | null>(null);
  const error = useSignal("");
  const notice = useSignal("");
  const creating = useSignal(false);
  const toDelete = useSignal<Bucket | null>(null);
  const confirmText = useSignal("");
  const dialog = useRef<HTMLDialogElement>(null);
  const tenants = useSignal<{ id: string; name: string }[]>([]);
  /** "" = the caller's own namespace. */
  const tenantId = useSignal(globalAdmin ? initialTenantId : "");
  const permissionsOf = useSignal<string | null>(null);
  /** The bucket being emptied or force-deleted (its dialog is open). */
  const emptying = useSignal<{ name: string; what: "empty" | "force-delete" } | null>(null);

  const load = () => loadList(buckets, error, "buckets", { tenantId: tenantId.value });
  useEffect(() => {
    load();
    if (globalAdmin) api("tenants").then((t) => tenants.value = listOf(t)).catch(() => {});
  }, []);
  const own = tenantId.value === "";
  // A tenant's bucket opens in the object browser through the passthrough's `tenantId`.
  const browseUrl = (bucket: string) =>
    `/buckets/${encodeURIComponent(bucket)}${
      own ? "" : `?tenantId=${encodeURIComponent(tenantId.value)}`
    }`;

  const accessUrl = (bucket: string) =>
    `/buckets/${encodeURIComponent(bucket)}/permissions${
      own ? "" : `?tenantId=${encodeURIComponent(tenantId.value)}`
    }`;

  const onCreate = async (ev: Event) => {
    ev.preventDefault();
    const form = ev.currentTarget as HTMLFormElement;
    const f = new FormData(form);
    const name = String(f.get("name") ?? "").trim();
    error.value = "";
    notice.value = "";
    let tags: Record<string, string>;
    try {
      tags = parseTags(String(f.get("tags") ?? ""));
    } catch (e) {
      error.value = (e as Error).message;
      return;
    }
    if (!own && Object.keys(tags).length) {
      error.value = "Tags can be set only on buckets of your own namespace.";
      return;
    }
    creating.value = true;
    try {
      await api("buckets", {
        body: {
          name,
          ...(own ? {} : { tenantId: tenantId.value }),
          versioning: f.get("versioning") === "on",
          objectLock: f.get("objectLock") === "on",
        },
      });
      if (Object.keys(tags).length && own) {
        await s3("PUT", name, "", { tagging: "" }, {
          body: taggingXml(tags),
          headers: { "content-type": "application/xml" },
        }).catch((e) => {
          error.value = `Bucket created, but its tags were not saved: ${e.message}`;
        });
      }
      notice.value = `Bucket ${name} created.`;
      form.reset();
      await load();
    } catch (e) {
      error.value = (e as Error).message;
    } finally {
      creating.value = false;
    }
  };

  /** Turns versioning on or suspends it (PutBucketVersioning through the passthrough). */
  const setVersioning = async (b: Bucket, status: "Enabled" | "Suspended") => {
    error.value = "";
    try {
      await s3(
        "PUT",
        b.name,
        "",
        { versioning: "" },
        await documentBody(versioningXml(status)),
      );
      notice.value = `Versioning of ${b.name}: ${status}.`;
      await load();
    } catch (e) {
      error.value = (e as Error).message;
    }
  };

  const askDelete = (b: Bucket) => {
    toDelete.value = b;
    confirmText.value = "";
    dialog.current?.showModal();
  };

  const doDelete = async () => {
    const b = toDelete.value;
    if (!b) return;
    try {
      await api(`buckets/${encodeURIComponent(b.name)}`, {
        method: "DELETE",
        query: { tenantId: tenantId.value },
      });
      notice.value = `Bucket ${b.name} deleted.`;
      error.value = "";
      dialog.current?.close();
      await load();
    } catch (e) {
      const err = e as Error & { code?: string };
      error.value = err.code === "Conflict" || /NotEmpty/.test(err.message)
        ? `Bucket ${b.name} is not empty. Empty it first, or use Force delete.`
        : err.message;
      dialog.current?.close();
    }
  };

  return (
    <div>
      <Alerts error={error.value} notice={notice.value} />
      {globalAdmin && tenants.value.length > 0 && (
        <div class="panel row">
          <label class="row">
            Namespace
            <select
              value={tenantId.value}
              onChange={(e) => {
                tenantId.value = (e.currentTarget as HTMLSelectElement).value;
                buckets.value = null;
                load();
              }}
            >
              <option value="">Global</option>
              {tenants.value.map((t) => <option key={t.id} value={t.id}>Tenant {t.name}</option>)}
            </select>
          </label>
        </div>
      )}
      <CreatePanel open={createOpen} title="Create bucket">
        <form class="stack" onSubmit={onCreate} id="create-bucket">
          <label>
            Name
            <input
              name="name"
              required
              pattern="[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]"
              title="3–63 lowercase letters, digits, dots and hyphens"
              aria-describedby="bucket-name-hint"
            />
            <span class="hint" id="bucket-name-hint">
              3–63 characters: lowercase letters, digits, dots and hyphens.
            </span>
          </label>
          <label class="check">
            <input type="checkbox" name="versioning" /> Versioning
          </label>
          <label class="check">
            <input type="checkbox" name="objectLock" /> Object lock (implies versioning)
          </label>
          <label>
            Tags
            <textarea name="tags" rows={2} placeholder="team=data&#10;env=prod" />
            <span class="hint">One key=value per line.</span>
          </label>
          <div>
            <button class="primary" type="submit" disabled={creating.value}>Create bucket</button>
          </div>
        </form>
      </CreatePanel>
      <div class="panel table-wrap">
        {buckets.value === null
          ? <Loading />
          : buckets.value.length === 0
          ? <p>No buckets yet.</p>
          : (
            <table id="bucket-table">
              <thead>
                <tr>
                  <th>Name</th>
                  <th class="num">Objects</th>
                  <th class="num">Size</th>
                  <th class="hide-sm">Versioning</th>
                  <th class="hide-sm">Created</th>
                  <ActionsTh />
                </tr>
              </thead>
              <tbody>
                {buckets.value.map((b) => (
                  <tr key={b.name} data-bucket={b.name}>
                    <td>
                      <a href={browseUrl(b.name)}>{b.name}</a>
                      {b.objectLock && <span class="badge">lock</span>}
                      {b.public && (
                        <span
                          class="badge public"
                          data-public
                          title="Its bucket policy or ACL grants access to everyone"
                        >
                          Public
                        </span>
                      )}
                    </td>
                    <td class="num">{b.objects ?? "—"}</td>
                    <td class="num">{formatBytes(b.bytes)}</td>
                    <td class="hide-sm">
                      <div class="row">
                        <span>{versioningLabel(b.versioning)}</span>
                        {own && !b.objectLock && (versioningLabel(b.versioning) === "Enabled"
                          ? (
                            <button type="button" onClick={() => setVersioning(b, "Suspended")}>
                              Suspend
                            </button>
                          )
                          : (
                            <button type="button" onClick={() => setVersioning(b, "Enabled")}>
                              Enable
                            </button>
                          ))}
                      </div>
                    </td>
                    <td class="hide-sm">{formatTime(b.createdAt)}</td>
                    <td>
                      <div class="row">
                        <button type="button" onClick={() => permissionsOf.value = b.name}>
                          Permissions<span class="sr-only">of bucket {b.name}</span>
                        </button>
                        <a class="btn" href={accessUrl(b.name)}>
                          Policy &amp; ACL<span class="sr-only">of bucket {b.name}</span>
                        </a>
                        <button type="button" onClick={() => askDelete(b)}>
                          Delete<span class="sr-only">bucket {b.name}</span>
                        </button>
                        <button
                          type="button"
                          onClick={() => emptying.value = { name: b.name, what: "empty" }}
                        >
                          Empty<span class="sr-only">bucket {b.name}</span>
                        </button>
                        <button
                          type="button"
                          onClick={() => emptying.value = { name: b.name, what: "force-delete" }}
                        >
                          Force delete<span class="sr-only">bucket {b.name}</span>
                        </button>
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
      </div>
      {permissionsOf.value && (
        <BucketPermissions
          bucket={permissionsOf.value}
          tenantId={tenantId.value}
          onClose={() => permissionsOf.value = null}
        />
      )}
      {emptying.value && (
        <EmptyBucketDialog
          bucket={emptying.value.name}
          tenantId={tenantId.value}
          what={emptying.value.what}
          onClose={() => emptying.value = null}
          onDone={(p) => {
            if (p.bucketDeleted) notice.value = `Bucket ${emptying.value?.name} deleted.`;
            load();
          }}
        />
      )}
      <dialog ref={dialog} aria-labelledby="del-title">
        <h2 id="del-title">Delete bucket {toDelete.value?.name}?</h2>
        <p>This cannot be undone. Type the bucket name to confirm.</p>
        <label>
          Bucket name
          <input
            name="confirm"
            value={confirmText.value}
            onInput={(e) => confirmText.value = (e.currentTarget as HTMLInputElement).value}
          />
        </label>
        <div class="row mt">
          <button
            class="danger"
            type="button"
            disabled={confirmText.value !== toDelete.value?.name}
            onClick={doDelete}
          >
            Delete bucket
          </button>
          <button type="button" onClick={() => dialog.current?.close()}>Cancel</button>
        </div>
      </dialog>
    </div>
  );
}
