/** The bucket's versioning (Get/PutBucketVersioning): shown, enabled or suspended. */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { tagText } from "./access_xml.ts";
import { useActions } from "./actions.ts";
import { errorText } from "./api.ts";
import { type BucketRef, documentBody, s3 } from "./s3.ts";
import { Alerts } from "./ui.tsx";

/** PutBucketVersioning's document. */
export const versioningXml = (status: "Enabled" | "Suspended") =>
  `<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
  `<Status>${status}</Status></VersioningConfiguration>`;

export function VersioningSetting(
  { bucket, objectLock }: { bucket: BucketRef; objectLock: boolean | undefined },
) {
  /** undefined: loading; "": never enabled. */
  const status = useSignal<string | undefined>(undefined);
  const { error, notice, act } = useActions(() => load(), errorText);
  const load = async () => {
    try {
      status.value = tagText(
        await (await s3("GET", bucket, "", { versioning: "" })).text(),
        "Status",
      );
    } catch (e) {
      error.value = errorText(e);
    }
  };
  useEffect(() => {
    load();
  }, []);
  const set = (s: "Enabled" | "Suspended") =>
    act(
      async () => s3("PUT", bucket, "", { versioning: "" }, await documentBody(versioningXml(s))),
      `Versioning: ${s}.`,
    );
  const on = status.value === "Enabled";
  return (
    <section class="panel stack-wide" id="versioning-setting">
      <h2>Versioning</h2>
      <p class="hint">
        A versioned bucket keeps every version of an object; a delete leaves a delete marker and the
        data stays until a version is deleted by its id.
      </p>
      <Alerts error={error.value} notice={notice.value} />
      <div class="row">
        <span>
          Status:{" "}
          <strong data-versioning>{status.value === "" ? "Off" : status.value ?? "…"}</strong>
        </span>
        {objectLock
          ? <span class="hint">Object Lock keeps versioning on.</span>
          : on
          ? <button type="button" onClick={() => set("Suspended")}>Suspend</button>
          : (
            <button
              type="button"
              class="primary"
              disabled={status.value === undefined}
              onClick={() => set("Enabled")}
            >
              Enable
            </button>
          )}
      </div>
    </section>
  );
}
