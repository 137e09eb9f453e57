/**
 * Sharing in the object details: public share links (create with an expiry and optionally a
 * version, copy, revoke) and the presigned URL generator (method, expiry, one of the user's own
 * access keys; the server signs, the secret stays there).
 */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { api, errorText, formatTime } from "./api.ts";
import { bucketName, type BucketRef } from "./s3.ts";
import { Alerts } from "./ui.tsx";

export interface ShareLinkView {
  id: string;
  bucket: string;
  tenantId: string | null;
  key: string;
  versionId: string | null;
  createdByName: string;
  createdAt: number;
  expiresAt: number;
  revokedAt: number | null;
  status: "active" | "expired" | "revoked";
  accessCount: number;
  lastAccessAt: number | null;
}

const HOUR = 3600;
const DAY = 24 * HOUR;
/** Lifetimes offered for share links (at most 90 days). */
export const SHARE_EXPIRIES: [number, string][] = [
  [HOUR, "1 hour"],
  [DAY, "1 day"],
  [7 * DAY, "7 days"],
  [30 * DAY, "30 days"],
  [90 * DAY, "90 days"],
];
/** Lifetimes offered for presigned URLs (SigV4 allows at most 7 days). */
const PRESIGN_EXPIRIES: [number, string][] = [
  [15 * 60, "15 minutes"],
  [HOUR, "1 hour"],
  [DAY, "1 day"],
  [7 * DAY, "7 days"],
];

const bucketPath = (b: BucketRef) => `/api/v1/buckets/${encodeURIComponent(bucketName(b))}`;
const tenantOf = (b: BucketRef) => typeof b === "string" ? undefined : b.tenantId;

function CopyField({ id, value }: { id: string; value: string }) {
  const copied = useSignal(false);
  return (
    <div class="row mt">
      <input id={id} readOnly value={value} aria-label="URL" style="flex:1" />
      <button
        type="button"
        onClick={async () => {
          await navigator.clipboard?.writeText(value).catch(() => {});
          copied.value = true;
        }}
      >
        {copied.value ? "Copied" : "Copy"}
      </button>
    </div>
  );
}

/** A share link's table of one object, or of a bucket (`showKey`), with Revoke buttons. */
export function ShareTable(
  { links, showKey, onRevoke }: {
    links: ShareLinkView[];
    showKey?: boolean;
    onRevoke: (l: ShareLinkView) => void;
  },
) {
  return (
    <div class="table-wrap">
      <table class="share-links">
        <thead>
          <tr>
            {showKey && <th>Object</th>}
            <th>Version</th>
            <th>Created</th>
            <th>Expires</th>
            <th>Status</th>
            <th class="num">Opened</th>
            <th>
              <span class="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {links.map((l) => (
            <tr key={l.id} data-share={l.id}>
              {showKey && <td>{l.key}</td>}
              <td>{l.versionId ? <code>{l.versionId}</code> : "latest"}</td>
              <td>{formatTime(l.createdAt)} by {l.createdByName}</td>
              <td>{formatTime(l.expiresAt)}</td>
              <td>
                <span class={`badge ${l.status === "active" ? "ok" : "bad"}`}>{l.status}</span>
              </td>
              <td class="num">{l.accessCount}</td>
              <td>
                {l.status === "active" && (
                  <button
                    type="button"
                    class="danger"
                    onClick={() => onRevoke(l)}
                  >
                    Revoke
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function ShareLinks(
  { bucket, objectKey, versionIds }: {
    bucket: BucketRef;
    objectKey: string;
    versionIds: string[];
  },
) {
  const links = useSignal<ShareLinkView[]>([]);
  const url = useSignal("");
  const error = useSignal("");

  const load = () =>
    api<{ items: ShareLinkView[] }>(`${bucketPath(bucket)}/shares`, {
      query: { tenantId: tenantOf(bucket) },
    }).then((r) => links.value = r.items.filter((l) => l.key === objectKey))
      .catch((e) => error.value = errorText(e));
  useEffect(() => void load(), [objectKey]);

  const create = async (ev: Event) => {
    ev.preventDefault();
    const form = new FormData(ev.currentTarget as HTMLFormElement);
    error.value = "";
    try {
      const versionId = String(form.get("versionId") ?? "");
      const r = await api<{ url: string }>(`${bucketPath(bucket)}/shares`, {
        body: {
          key: objectKey,
          versionId: versionId || null,
          expiresInSeconds: Number(form.get("expires")),
          tenantId: tenantOf(bucket),
        },
      });
      url.value = r.url;
      await load();
    } catch (e) {
      error.value = errorText(e);
    }
  };

  const revoke = async (l: ShareLinkView) => {
    if (!confirm("Revoke this link? Anyone who has it loses access at once.")) return;
    try {
      await api(`shares/${encodeURIComponent(l.id)}`, { method: "DELETE" });
      if (url.value) url.value = "";
      await load();
    } catch (e) {
      error.value = errorText(e);
    }
  };

  return (
    <section id="share-links">
      <h3>Share link</h3>
      <p class="hint">
        Anyone with the link can download this object until it expires or is revoked, without
        signing in. It reads with your access: if you lose it, the link stops working.
      </p>
      <Alerts error={error.value} />
      <form class="row" onSubmit={create} id="share-form">
        <label>
          Expires after{" "}
          <select name="expires">
            {SHARE_EXPIRIES.map(([s, label]) => (
              <option key={s} value={s} selected={s === DAY}>{label}</option>
            ))}
          </select>
        </label>
        {versionIds.length > 1 && (
          <label>
            Version{" "}
            <select name="versionId">
              <option value="">latest</option>
              {versionIds.map((v) => <option key={v} value={v}>{v}</option>)}
            </select>
          </label>
        )}
        <button type="submit">Create link</button>
      </form>
      {url.value && <CopyField id="share-url" value={url.value} />}
      {links.value.length > 0 && (
        <ShareTable
          links={links.value}
          onRevoke={(l) => void revoke(l)}
        />
      )}
    </section>
  );
}

interface AccessKeyView {
  accessKeyId: string;
  status: string;
  description: string;
}

export function PresignForm({ bucket, objectKey }: { bucket: BucketRef; objectKey: string }) {
  const keys = useSignal<AccessKeyView[] | null>(null);
  const url = useSignal("");
  const error = useSignal("");

  useEffect(() => {
    api<{ user: { id: string } }>("auth/me")
      .then((me) =>
        api<{ items: AccessKeyView[] }>("access-keys", { query: { userId: me.user.id } })
      )
      .then((r) => keys.value = r.items.filter((k) => k.status === "active"))
      .catch((e) => error.value = errorText(e));
  }, []);

  const generate = async (ev: Event) => {
    ev.preventDefault();
    const form = new FormData(ev.currentTarget as HTMLFormElement);
    error.value = "";
    try {
      const r = await api<{ url: string }>(`${bucketPath(bucket)}/presign`, {
        body: {
          key: objectKey,
          method: form.get("method"),
          expiresInSeconds: Number(form.get("expires")),
          accessKeyId: form.get("accessKeyId"),
        },
      });
      url.value = r.url;
    } catch (e) {
      error.value = errorText(e);
    }
  };

  return (
    <section id="presign">
      <h3>Presigned URL</h3>
      <Alerts error={error.value} />
      {keys.value && keys.value.length === 0 && (
        <p class="hint">
          A presigned URL is signed with one of your access keys: create one on the Access keys page
          first.
        </p>
      )}
      {keys.value && keys.value.length > 0 && (
        <form class="row" onSubmit={generate} id="presign-form">
          <label>
            Method{" "}
            <select name="method">
              <option value="GET">GET (download)</option>
              <option value="PUT">PUT (upload)</option>
            </select>
          </label>
          <label>
            Valid for{" "}
            <select name="expires">
              {PRESIGN_EXPIRIES.map(([s, label]) => (
                <option key={s} value={s} selected={s === HOUR}>{label}</option>
              ))}
            </select>
          </label>
          <label>
            Key{" "}
            <select name="accessKeyId">
              {keys.value.map((k) => (
                <option key={k.accessKeyId} value={k.accessKeyId}>
                  {k.accessKeyId}
                  {k.description ? ` (${k.description})` : ""}
                </option>
              ))}
            </select>
          </label>
          <button type="submit">Generate</button>
        </form>
      )}
      {url.value && <CopyField id="presign-url" value={url.value} />}
    </section>
  );
}
