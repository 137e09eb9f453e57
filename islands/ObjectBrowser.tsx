/**
 * Object browser: breadcrumbs, paginated listing by folder, prefix search, uploads of files and
 * folders (picker or drag-and-drop) with a progress bar per file, download, delete,
 * multi-select delete, object details (metadata, tags, versions, sharing) and a filter panel
 * (content type, size, date, tags: lib/SearchPanel.tsx).
 */
import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { formatBytes, formatTime } from "./lib/api.ts";
import { type BucketRef, deleteKeys, type ListPage, listPage, s3, s3Url } from "./lib/s3.ts";
import { abortUpload, filesFromDrop, newUpload, runUpload } from "./lib/upload.ts";
import ObjectDetails from "./lib/ObjectDetails.tsx";
import { SearchPanel } from "./lib/SearchPanel.tsx";
import { VerifyIntegrity } from "./lib/IntegrityPanel.tsx";
import { deleteQuestion, VersionList } from "./lib/VersionList.tsx";
import { tagText } from "./lib/access_xml.ts";
import { ActionsTh, Alerts, Loading, Pager } from "./lib/ui.tsx";
import { UploadList, type UploadRow } from "./lib/UploadList.tsx";

export interface ObjectBrowserProps extends Record<string, unknown> {
  bucket: string;
  prefix: string;
  /** A tenant's namespace, when a global administrator opened one of its buckets. */
  tenantId?: string;
}

const PAGE_SIZE = 50;

function FolderIcon() {
  return (
    <svg class="icon" viewBox="0 0 16 16" aria-hidden="true">
      <path d="M1 3.5A1.5 1.5 0 0 1 2.5 2h3l1.5 1.5h6.5A1.5 1.5 0 0 1 15 5v7.5a1.5 1.5 0 0 1-1.5 1.5h-11A1.5 1.5 0 0 1 1 12.5z" />
    </svg>
  );
}

export default function ObjectBrowser(
  { bucket: bucketName, prefix: initialPrefix, tenantId }: ObjectBrowserProps,
) {
  const bucket: BucketRef = tenantId ? { name: bucketName, tenantId } : bucketName;
  const prefix = useSignal(initialPrefix);
  const search = useSignal("");
  const page = useSignal<ListPage | null>(null);
  const tokens = useSignal<(string | null)[]>([null]);
  const selected = useSignal<Set<string>>(new Set());
  const error = useSignal("");
  const notice = useSignal("");
  const uploads = useSignal<UploadRow[]>([]);
  const over = useSignal(false);
  const details = useSignal<string | null>(null);
  const folderForm = useSignal(false);
  const fileInput = useRef<HTMLInputElement>(null);
  const folderInput = useRef<HTMLInputElement>(null);
  const nextId = useRef(1);
  /** GetBucketVersioning's status ("" never enabled); undefined until it answered. */
  const versioning = useSignal<string | undefined>(undefined);
  /** The "Show deleted" switch: versions and delete markers instead of the listing. */
  const showDeleted = useSignal(false);

  const load = async (token: string | null = tokens.value.at(-1) ?? null) => {
    try {
      error.value = "";
      page.value = await listPage(bucket, {
        prefix: prefix.value + search.value,
        token,
        max: PAGE_SIZE,
      });
      selected.value = new Set();
    } catch (e) {
      error.value = (e as Error).message;
      page.value = { objects: [], prefixes: [], nextToken: null };
    }
  };

  const go = (p: string, push = true) => {
    prefix.value = p;
    search.value = "";
    tokens.value = [null];
    details.value = null;
    if (push) {
      const url = new URL(location.href);
      if (p) url.searchParams.set("prefix", p);
      else url.searchParams.delete("prefix");
      history.pushState({ prefix: p }, "", url);
    }
    load(null);
  };

  useEffect(() => {
    load(null);
    s3("GET", bucket, "", { versioning: "" })
      .then(async (r) => versioning.value = tagText(await r.text(), "Status"))
      .catch(() => versioning.value = "");
    const onPop = () => go(new URL(location.href).searchParams.get("prefix") ?? "", false);
    addEventListener("popstate", onPop);
    return () => removeEventListener("popstate", onPop);
  }, []);

  const updateRow = (id: number, patch: Partial<UploadRow>) => {
    uploads.value = uploads.value.map((r) => r.id === id ? { ...r, ...patch } : r);
  };

  /**
   * Reloads the listing at most once a second while uploads finish, so finished files show up
   * as they land instead of after the last one.
   */
  const reloadTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const reloadSoon = () => {
    if (reloadTimer.current !== null) return;
    reloadTimer.current = setTimeout(() => {
      reloadTimer.current = null;
      load();
    }, 1000);
  };

  const start = async (row: UploadRow) => {
    const now = Date.now();
    const current = uploads.value.find((r) => r.id === row.id) ?? row;
    updateRow(row.id, {
      status: "uploading",
      error: undefined,
      startedAt: now,
      startLoaded: current.loaded,
    });
    try {
      await runUpload(row.state, (loaded, total) => updateRow(row.id, { loaded, total }));
      updateRow(row.id, { status: "done", loaded: row.total });
      reloadSoon();
    } catch (e) {
      if ((e as { code?: string }).code === "Aborted") {
        await abortUpload(row.state);
        updateRow(row.id, { status: "cancelled" });
      } else {
        updateRow(row.id, { status: "failed", error: (e as Error).message });
      }
    }
  };

  const enqueue = async (files: { path: string; file: File }[]) => {
    const base = prefix.value;
    const rows: UploadRow[] = files.map(({ path, file }) => ({
      id: nextId.current++,
      path,
      loaded: 0,
      total: file.size,
      status: "queued",
      state: newUpload(bucket, base + path, file),
    }));
    uploads.value = [...uploads.value, ...rows];
    // Two files at a time: progress stays visible and the server is not flooded.
    let i = 0;
    const worker = async () => {
      while (i < rows.length) await start(rows[i++]);
    };
    await Promise.all([worker(), worker()]);
    await load(null);
  };

  const onPick = (input: HTMLInputElement | null) => {
    if (!input?.files) return;
    const files = Array.from(input.files).map((f) => ({
      path: (f as File & { webkitRelativePath?: string }).webkitRelativePath || f.name,
      file: f,
    }));
    input.value = "";
    enqueue(files);
  };

  const onDrop = async (ev: DragEvent) => {
    ev.preventDefault();
    over.value = false;
    if (ev.dataTransfer) enqueue(await filesFromDrop(ev.dataTransfer));
  };

  const newFolder = async (ev: Event) => {
    ev.preventDefault();
    const form = ev.currentTarget as HTMLFormElement;
    const name = String(new FormData(form).get("folder") ?? "").trim().replace(/^\/+|\/+$/g, "");
    if (!name) return;
    try {
      // A zero-byte marker keeps an empty folder visible, as the AWS console does.
      await s3("PUT", bucket, `${prefix.value}${name}/`, {}, { body: "" });
      folderForm.value = false;
      go(`${prefix.value}${name}/`);
    } catch (e) {
      error.value = (e as Error).message;
    }
  };

  const remove = async (keys: string[]) => {
    if (keys.length === 0) return;
    const what = keys.length === 1 ? `"${keys[0]}"` : `${keys.length} objects`;
    if (!confirm(deleteQuestion(what, versioning.value))) return;
    try {
      const failed = await deleteKeys(bucket, keys);
      notice.value = failed.length
        ? `Deleted ${keys.length - failed.length}; could not delete: ${failed.join(", ")}`
        : `Deleted ${what}.`;
      await load();
    } catch (e) {
      error.value = (e as Error).message;
    }
  };

  /** Deletes every object under a folder prefix, page by page. */
  const removeFolder = async (folder: string) => {
    if (!confirm(deleteQuestion(`the folder "${folder}" and everything in it`, versioning.value))) {
      return;
    }
    try {
      const keys: string[] = [];
      let token: string | null = null;
      do {
        const pg: ListPage = await listPage(bucket, {
          prefix: folder,
          token,
          max: 1000,
          delimiter: "",
        });
        keys.push(...pg.objects.map((o) => o.key));
        token = pg.nextToken;
      } while (token);
      const failed = await deleteKeys(bucket, keys);
      notice.value = failed.length
        ? `Could not delete: ${failed.join(", ")}`
        : `Deleted folder ${folder} (${keys.length} objects).`;
      await load();
    } catch (e) {
      error.value = (e as Error).message;
    }
  };

  const toggle = (key: string, on: boolean) => {
    const s = new Set(selected.value);
    if (on) s.add(key);
    else s.delete(key);
    selected.value = s;
  };

  const crumbs = prefix.value.split("/").filter(Boolean);
  const p = page.value;
  // The folder's own zero-byte marker is not shown inside the folder.
  const visible = p ? p.objects.filter((o) => o.key !== prefix.value) : [];
  const name = (k: string) => k.slice(prefix.value.length);

  /**
   * Checks that the object can be read before the browser saves it: an SSE-C object (its key is
   * never held by the console) or one removed meanwhile would otherwise be saved as an error
   * document under the object's name.
   */
  const download = async (ev: Event, key: string) => {
    ev.preventDefault();
    const a = ev.currentTarget as HTMLAnchorElement;
    error.value = "";
    const r = await fetch(a.href, { method: "HEAD" }).catch(() => null);
    if (!r?.ok) {
      error.value = r?.status === 400
        ? `${name(key)} is encrypted with a customer-provided key (SSE-C): download it with a ` +
          "client that sends the key."
        : `Cannot download ${name(key)}: ${r ? `HTTP ${r.status}` : "no answer"}.`;
      return;
    }
    const link = document.createElement("a");
    link.href = a.href;
    link.download = a.download;
    link.click();
  };

  return (
    <div>
      <nav aria-label="Folder">
        <ol class="crumbs" id="crumbs">
          <li>
            <a href={tenantId ? `/buckets?tenantId=${encodeURIComponent(tenantId)}` : "/buckets"}>
              Buckets
            </a>
          </li>
          <li>
            <button type="button" class="link" onClick={() => go("")}>{bucketName}</button>
          </li>
          {crumbs.map((c, i) => (
            <li key={i}>
              <button
                type="button"
                class="link"
                aria-current={i === crumbs.length - 1 ? "location" : undefined}
                onClick={() => go(crumbs.slice(0, i + 1).join("/") + "/")}
              >
                {c}
              </button>
            </li>
          ))}
        </ol>
      </nav>
      <Alerts error={error.value} notice={notice.value} />
      <div
        class={`dropzone${over.value ? " over" : ""}`}
        id="dropzone"
        onDragOver={(e) => {
          e.preventDefault();
          over.value = true;
        }}
        onDragLeave={() => over.value = false}
        onDrop={onDrop}
      >
        <p>Drop files or folders here to upload to /{prefix.value}</p>
        <div class="row center-x">
          <button type="button" onClick={() => fileInput.current?.click()}>Choose files</button>
          <button type="button" onClick={() => folderInput.current?.click()}>Choose folder</button>
          <button
            type="button"
            aria-expanded={folderForm.value}
            onClick={() => folderForm.value = !folderForm.value}
          >
            New folder
          </button>
        </div>
        {folderForm.value && (
          <form class="row center-x mt" onSubmit={newFolder} id="new-folder">
            <label class="row">
              Folder name
              <input
                name="folder"
                required
                autoFocus
                pattern="[^\/].*"
                title="A folder name cannot start with a slash"
              />
            </label>
            <button class="primary" type="submit">Create folder</button>
          </form>
        )}
        <input
          ref={fileInput}
          type="file"
          multiple
          hidden
          id="upload-files"
          aria-label="Upload files"
          onChange={(e) => onPick(e.currentTarget as HTMLInputElement)}
        />
        <input
          ref={folderInput}
          type="file"
          multiple
          hidden
          id="upload-folder"
          aria-label="Upload a folder"
          {...{ webkitdirectory: "" }}
          onChange={(e) => onPick(e.currentTarget as HTMLInputElement)}
        />
      </div>
      <UploadList uploads={uploads} onResume={(r) => start(r).then(() => load())} />
      <div class="panel">
        <div class="row spread">
          <form
            class="row"
            role="search"
            onSubmit={(e) => {
              e.preventDefault();
              tokens.value = [null];
              load(null);
            }}
          >
            <label class="row">
              <span class="sr-only">Search by prefix</span>
              <input
                type="search"
                placeholder="Search by prefix in this folder"
                aria-label="Search by prefix"
                value={search.value}
                onInput={(e) => search.value = (e.currentTarget as HTMLInputElement).value}
              />
            </label>
            <button type="submit">Search</button>
          </form>
          <div class="row">
            {(versioning.value === "Enabled" || versioning.value === "Suspended") && (
              <label class="check">
                <input
                  type="checkbox"
                  id="show-deleted"
                  role="switch"
                  checked={showDeleted.value}
                  onChange={(e) => {
                    showDeleted.value = (e.currentTarget as HTMLInputElement).checked;
                    if (!showDeleted.value) load();
                  }}
                />{" "}
                Show deleted
              </label>
            )}
            <button type="button" onClick={() => load()}>Refresh</button>
            <VerifyIntegrity bucket={bucketName} tenantId={tenantId} />
            <a
              class="btn"
              id="bucket-permissions-link"
              href={`/buckets/${encodeURIComponent(bucketName)}/permissions${
                tenantId ? `?tenantId=${encodeURIComponent(tenantId)}` : ""
              }`}
            >
              Permissions
            </a>
            <button
              type="button"
              class="danger"
              id="delete-selected"
              disabled={selected.value.size === 0}
              onClick={() => remove([...selected.value])}
            >
              Delete selected ({selected.value.size})
            </button>
          </div>
        </div>
        <SearchPanel bucket={bucket} prefix={prefix.value} onOpen={(k) => details.value = k} />
        {showDeleted.value
          ? <VersionList bucket={bucket} prefix={prefix.value} onOpenFolder={(cp) => go(cp)} />
          : (
            <>
              <div class="table-wrap">
                {!p ? <Loading /> : (
                  <table id="object-table">
                    <thead>
                      <tr>
                        <th>
                          <input
                            type="checkbox"
                            aria-label="Select all objects on this page"
                            checked={visible.length > 0 && selected.value.size === visible.length}
                            onChange={(e) =>
                              selected.value = (e.currentTarget as HTMLInputElement).checked
                                ? new Set(visible.map((o) => o.key))
                                : new Set()}
                          />
                        </th>
                        <th>Name</th>
                        <th class="num">Size</th>
                        <th class="hide-sm">Last modified</th>
                        <ActionsTh />
                      </tr>
                    </thead>
                    <tbody>
                      {p.prefixes.map((cp) => (
                        <tr key={cp} data-prefix={cp}>
                          <td></td>
                          <td>
                            <button type="button" class="link" onClick={() => go(cp)}>
                              <FolderIcon /> {name(cp)}
                            </button>
                          </td>
                          <td class="num">—</td>
                          <td class="hide-sm"></td>
                          <td>
                            <button type="button" onClick={() => removeFolder(cp)}>
                              Delete<span class="sr-only">folder {name(cp)}</span>
                            </button>
                          </td>
                        </tr>
                      ))}
                      {visible.map((o) => (
                        <tr key={o.key} data-key={o.key}>
                          <td>
                            <input
                              type="checkbox"
                              aria-label={`Select ${name(o.key)}`}
                              checked={selected.value.has(o.key)}
                              onChange={(e) =>
                                toggle(o.key, (e.currentTarget as HTMLInputElement).checked)}
                            />
                          </td>
                          <td>
                            <button
                              type="button"
                              class="link"
                              onClick={() => details.value = o.key}
                            >
                              {name(o.key)}
                            </button>
                          </td>
                          <td class="num">{formatBytes(o.size)}</td>
                          <td class="hide-sm">{formatTime(o.lastModified)}</td>
                          <td>
                            <div class="row">
                              <a
                                class="btn"
                                href={s3Url(bucket, o.key)}
                                download={name(o.key).split("/").pop()}
                                onClick={(ev) => download(ev, o.key)}
                              >
                                Download<span class="sr-only">{name(o.key)}</span>
                              </a>
                              <button
                                type="button"
                                onClick={() => remove([o.key])}
                              >
                                Delete<span class="sr-only">{name(o.key)}</span>
                              </button>
                            </div>
                          </td>
                        </tr>
                      ))}
                      {p.prefixes.length === 0 && visible.length === 0 && (
                        <tr>
                          <td colSpan={5}>
                            {uploads.value.some((r) =>
                                r.status === "queued" || r.status === "uploading"
                              )
                              ? "Uploading: files appear here as they finish."
                              : "This folder is empty."}
                          </td>
                        </tr>
                      )}
                    </tbody>
                  </table>
                )}
              </div>
              <Pager starts={tokens} next={p?.nextToken} load={load} />
            </>
          )}
      </div>
      {details.value && (
        <ObjectDetails
          bucket={bucket}
          objectKey={details.value}
          onClose={() => details.value = null}
        />
      )}
    </div>
  );
}
