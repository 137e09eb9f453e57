/**
 * A bucket configuration kept as one S3 document (the bucket policy's JSON, the CORS XML): a
 * textarea with Save and Delete on the S3 subresource, and S3's error Code and Message shown
 * inline when the server refuses the document (the stored document stays as it was).
 */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { type ApiError, errorText } from "./api.ts";
import { type BucketRef, documentBody, s3 } from "./s3.ts";
import { Alerts } from "./ui.tsx";

export interface DocumentEditorProps {
  /** The section's id (`policy-editor`), for the page and its tests. */
  id: string;
  title: string;
  bucket: BucketRef;
  /** The S3 subresource: `policy` or `cors`. */
  sub: string;
  contentType: string;
  /** S3's error code when the bucket has none (`NoSuchBucketPolicy`). */
  missingCode: string;
  /** Offered in the textarea when the bucket has none. */
  sample: string;
  hint: string;
}

export function DocumentEditor(p: DocumentEditorProps) {
  const text = useSignal("");
  /** Whether the bucket has a stored document (false: the textarea holds the sample). */
  const stored = useSignal<boolean | null>(null);
  const error = useSignal("");
  const notice = useSignal("");
  const busy = useSignal(false);

  const load = async () => {
    try {
      text.value = await (await s3("GET", p.bucket, "", { [p.sub]: "" })).text();
      stored.value = true;
    } catch (e) {
      text.value = p.sample;
      stored.value = false;
      if ((e as ApiError).code !== p.missingCode) error.value = errorText(e);
    }
  };
  useEffect(() => {
    load();
  }, [p.sub]);

  const run = async (method: "PUT" | "DELETE", ok: string) => {
    error.value = "";
    notice.value = "";
    busy.value = true;
    try {
      const init = method === "PUT" ? await documentBody(text.value, p.contentType) : {};
      await s3(method, p.bucket, "", { [p.sub]: "" }, init);
      notice.value = ok;
      if (method === "DELETE") await load();
      else stored.value = true;
    } catch (e) {
      error.value = errorText(e);
    } finally {
      busy.value = false;
    }
  };

  return (
    <section class="panel stack-wide" id={p.id}>
      <h2>{p.title}</h2>
      <p class="hint">
        {p.hint} {stored.value === false && "No configuration is stored: this is a sample."}
      </p>
      <Alerts error={error.value} notice={notice.value} />
      <textarea
        rows={14}
        spellcheck={false}
        class="code"
        aria-label={p.title}
        value={text.value}
        onInput={(e) => text.value = (e.currentTarget as HTMLTextAreaElement).value}
      />
      <div class="row">
        <button
          class="primary"
          type="button"
          disabled={busy.value}
          onClick={() => run("PUT", `${p.title} saved.`)}
        >
          Save
        </button>
        <button
          type="button"
          disabled={busy.value || stored.value !== true}
          onClick={() => run("DELETE", `${p.title} deleted.`)}
        >
          Delete
        </button>
      </div>
    </section>
  );
}
