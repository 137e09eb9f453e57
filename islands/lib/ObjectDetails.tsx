/**
 * Object details dialog: metadata and encryption from HEAD, tags (editable), versions when the
 * bucket keeps them, share links and presigned URLs (SharePanel.tsx), and the object's ACL. An
 * SSE-C object cannot be read without its key, which the console never holds: the dialog says
 * so instead of offering a download (or a share link).
 */
import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { formatBytes, formatTime } from "./api.ts";
import {
  type BucketRef,
  getTags,
  listVersions,
  parseTags,
  s3,
  s3Url,
  taggingXml,
  type VersionEntry,
} from "./s3.ts";
import { Alerts, Loading } from "./ui.tsx";
import { AclEditor } from "./AclEditor.tsx";
import { PresignForm, ShareLinks } from "./SharePanel.tsx";
import { needsCustomerKey, objectEncryption } from "./encryption_xml.ts";
import type { ApiError } from "./api.ts";

export interface ObjectDetailsProps {
  bucket: BucketRef;
  objectKey: string;
  onClose: () => void;
}

const SHOWN = [
  "content-type",
  "content-length",
  "etag",
  "last-modified",
  "cache-control",
  "content-encoding",
  "content-disposition",
  "x-amz-version-id",
  "x-amz-storage-class",
  "x-amz-object-lock-mode",
  "x-amz-object-lock-retain-until-date",
  "x-amz-object-lock-legal-hold",
];

export default function ObjectDetails({ bucket, objectKey, onClose }: ObjectDetailsProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const meta = useSignal<[string, string][] | null>(null);
  const tags = useSignal("");
  const versions = useSignal<VersionEntry[] | null>(null);
  const versionsNote = useSignal("");
  const error = useSignal("");
  const saved = useSignal("");
  /** The object is SSE-C: HEAD and GET need a key the console does not have. */
  const customerKey = useSignal(false);

  /** A HEAD that failed: a GET of one byte tells why (HEAD answers carry no error document). */
  const explainHeadFailure = async (e: unknown) => {
    try {
      await s3("GET", bucket, objectKey, {}, { headers: { range: "bytes=0-0" } });
      error.value = (e as Error).message;
    } catch (got) {
      const err = got as ApiError;
      if (needsCustomerKey(err.code, err.message)) customerKey.value = true;
      else error.value = err.message;
    }
  };

  useEffect(() => {
    dialog.current?.showModal();
    (async () => {
      try {
        const res = await s3("HEAD", bucket, objectKey);
        const rows: [string, string][] = [];
        const enc = objectEncryption(res.headers);
        rows.push(["encryption", enc.mode]);
        if (enc.kmsKey) rows.push(["kms key", enc.kmsKey]);
        for (const name of SHOWN) {
          const v = res.headers.get(name);
          if (v !== null) rows.push([name, name === "content-length" ? formatBytes(Number(v)) : v]);
        }
        res.headers.forEach((v, k) => {
          if (k.startsWith("x-amz-meta-")) rows.push([k, v]);
        });
        meta.value = rows;
      } catch (e) {
        if ((e as ApiError).status === 400) await explainHeadFailure(e);
        else error.value = (e as Error).message;
        meta.value = [];
      }
      getTags(bucket, objectKey)
        .then((t) => tags.value = Object.entries(t).map(([k, v]) => `${k}=${v}`).join("\n"))
        .catch(() => {});
      loadVersions();
    })();
  }, [objectKey]);

  const loadVersions = () =>
    listVersions(bucket, objectKey)
      .then((v) => versions.value = v)
      .catch((e) => versionsNote.value = `Versions are not available: ${e.message}`);

  const deleteVersion = async (v: VersionEntry) => {
    if (!confirm(`Delete version ${v.versionId} of "${objectKey}" permanently?`)) return;
    try {
      await s3("DELETE", bucket, objectKey, { versionId: v.versionId });
      await loadVersions();
    } catch (e) {
      error.value = (e as Error).message;
    }
  };

  const saveTags = async () => {
    saved.value = "";
    try {
      await s3("PUT", bucket, objectKey, { tagging: "" }, {
        body: taggingXml(parseTags(tags.value)),
        headers: { "content-type": "application/xml" },
      });
      saved.value = "Tags saved.";
    } catch (e) {
      error.value = (e as Error).message;
    }
  };

  return (
    <dialog ref={dialog} aria-labelledby="details-title" onClose={onClose} id="object-details">
      <h2 id="details-title">{objectKey}</h2>
      <Alerts error={error.value} />
      {customerKey.value && (
        <p class="hint" id="object-needs-key" role="status">
          This object is encrypted with a customer-provided key (SSE-C). Its metadata and bytes can
          only be read by an S3 client that sends that key; the console does not hold it.
        </p>
      )}
      <h3>Metadata</h3>
      {meta.value
        ? (
          <dl class="meta">
            {meta.value.map(([k, v]) => (
              <>
                <dt>{k}</dt>
                <dd>{v}</dd>
              </>
            ))}
          </dl>
        )
        : <Loading />}
      <h3>Tags</h3>
      <label>
        <span class="sr-only">Tags, one key=value per line</span>
        <textarea
          rows={3}
          value={tags.value}
          onInput={(e) => tags.value = (e.currentTarget as HTMLTextAreaElement).value}
        />
      </label>
      <div class="row mt">
        <button type="button" onClick={saveTags}>Save tags</button>
        {saved.value && <span class="badge ok" role="status">{saved.value}</span>}
      </div>
      <h3>Versions</h3>
      {versionsNote.value && <p class="hint">{versionsNote.value}</p>}
      {versions.value && (
        <div class="table-wrap">
          <table id="object-versions">
            <thead>
              <tr>
                <th>Version</th>
                <th class="num">Size</th>
                <th>Modified</th>
                <th>
                  <span class="sr-only">Download</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {versions.value.map((v) => (
                <tr key={v.versionId}>
                  <td>
                    <code>{v.versionId}</code> {v.isLatest && <span class="badge ok">latest</span>}
                    {v.deleteMarker && <span class="badge bad">delete marker</span>}
                  </td>
                  <td class="num">{v.deleteMarker ? "—" : formatBytes(v.size)}</td>
                  <td>{formatTime(v.lastModified)}</td>
                  <td>
                    <div class="row">
                      {!v.deleteMarker && !customerKey.value && (
                        <a href={s3Url(bucket, objectKey, { versionId: v.versionId })} download>
                          Download
                        </a>
                      )}
                      {v.versionId !== "null" && (
                        <button
                          type="button"
                          onClick={() => deleteVersion(v)}
                        >
                          Delete
                        </button>
                      )}
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {!customerKey.value && (
        <ShareLinks
          bucket={bucket}
          objectKey={objectKey}
          versionIds={(versions.value ?? []).filter((v) => !v.deleteMarker).map((v) => v.versionId)}
        />
      )}
      {
        // A presigned URL reaches the key's own namespace: not a tenant's bucket opened by a
        // global administrator.
        typeof bucket === "string" && <PresignForm bucket={bucket} objectKey={objectKey} />
      }
      <AclEditor bucket={bucket} objectKey={objectKey} />
      <div class="row mt dialog-actions">
        {!customerKey.value && (
          <a class="btn" href={s3Url(bucket, objectKey)} download={objectKey.split("/").pop()}>
            Download
          </a>
        )}
        <button type="button" onClick={() => dialog.current?.close()}>Close</button>
      </div>
    </dialog>
  );
}
