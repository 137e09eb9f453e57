/** The bucket's default encryption (Put/Get/DeleteBucketEncryption): off, SSE-S3 or SSE-KMS. */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { useActions } from "./actions.ts";
import { type ApiError, errorText } from "./api.ts";
import { type BucketDefault, bucketDefaultXml, parseBucketDefault } from "./encryption_xml.ts";
import { type BucketRef, documentBody, s3 } from "./s3.ts";
import { Alerts } from "./ui.tsx";

export function EncryptionSetting({ bucket }: { bucket: BucketRef }) {
  /** undefined: loading; null: no default encryption. */
  const value = useSignal<BucketDefault | undefined>(undefined);
  const mode = useSignal<"off" | "AES256" | "aws:kms">("off");
  const { error, notice, act } = useActions(() => load(), errorText);

  const load = async () => {
    try {
      value.value = parseBucketDefault(
        await (await s3("GET", bucket, "", { encryption: "" })).text(),
      );
    } catch (e) {
      value.value = null;
      if ((e as ApiError).code !== "ServerSideEncryptionConfigurationNotFoundError") {
        error.value = errorText(e);
      }
    }
    mode.value = value.value?.algorithm ?? "off";
  };
  useEffect(() => {
    load();
  }, []);

  const submit = (ev: Event) => {
    ev.preventDefault();
    const form = new FormData(ev.currentTarget as HTMLFormElement);
    const chosen = String(form.get("mode"));
    if (chosen === "off") {
      act(() => s3("DELETE", bucket, "", { encryption: "" }), "Default encryption turned off.");
      return;
    }
    const d: Exclude<BucketDefault, null> = chosen === "aws:kms"
      ? {
        algorithm: "aws:kms",
        kmsKeyId: String(form.get("kmsKeyId") ?? "").trim(),
        bucketKey: form.get("bucketKey") === "on",
      }
      : { algorithm: "AES256" };
    act(
      async () =>
        s3("PUT", bucket, "", { encryption: "" }, await documentBody(bucketDefaultXml(d))),
      `New objects are encrypted with ${chosen === "aws:kms" ? "SSE-KMS" : "SSE-S3"}.`,
    );
  };

  // Until the current setting has loaded, a choice made here would be overwritten by it.
  const current = value.value;
  return (
    <section class="panel stack-wide" id="encryption-setting">
      <h2>Default encryption</h2>
      <p class="hint">
        Applied to new objects whose upload names no encryption of its own.
      </p>
      <Alerts error={error.value} notice={notice.value} />
      <form class="row" onSubmit={submit}>
        <label>
          Encryption
          <select
            name="mode"
            value={mode.value}
            disabled={current === undefined}
            onChange={(e) => mode.value = (e.currentTarget as HTMLSelectElement).value as never}
          >
            <option value="off">Off</option>
            <option value="AES256">SSE-S3 (server-managed key)</option>
            <option value="aws:kms">SSE-KMS (key service)</option>
          </select>
        </label>
        {mode.value === "aws:kms" && (
          <>
            <label>
              KMS key id
              <input
                name="kmsKeyId"
                placeholder="default key"
                value={current?.algorithm === "aws:kms" ? current.kmsKeyId : ""}
              />
            </label>
            <label class="check">
              <input
                type="checkbox"
                name="bucketKey"
                checked={current?.algorithm === "aws:kms" && current.bucketKey}
              />{" "}
              Bucket key
            </label>
          </>
        )}
        <button class="primary" type="submit" disabled={current === undefined}>Save</button>
      </form>
      {current === null && <p class="hint">No default encryption is set.</p>}
    </section>
  );
}
