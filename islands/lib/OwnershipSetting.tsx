/** The bucket's object ownership (Put/Get/DeleteBucketOwnershipControls). */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { useActions } from "./actions.ts";
import { type ApiError, errorText } from "./api.ts";
import { OWNERSHIP, type Ownership, ownershipXml, parseOwnership } from "./access_xml.ts";
import { type BucketRef, documentBody, s3 } from "./s3.ts";
import { Alerts } from "./ui.tsx";

const HINTS: Record<Ownership, string> = {
  BucketOwnerEnforced: "ACLs off; the bucket owner owns every object",
  BucketOwnerPreferred: "the owner takes objects written with bucket-owner-full-control",
  ObjectWriter: "the writer owns the object; ACLs on",
};

export function OwnershipSetting({ bucket }: { bucket: BucketRef }) {
  /** undefined: loading; null: no ownership controls stored. */
  const value = useSignal<Ownership | null | undefined>(undefined);
  const { error, notice, act } = useActions(() => load(), errorText);

  const load = async () => {
    try {
      value.value = parseOwnership(
        await (await s3("GET", bucket, "", { ownershipControls: "" })).text(),
      );
    } catch (e) {
      value.value = null;
      if ((e as ApiError).code !== "OwnershipControlsNotFoundError") error.value = errorText(e);
    }
  };
  useEffect(() => {
    load();
  }, []);

  const run = (method: "PUT" | "DELETE", body: string | null, ok: string) =>
    act(
      async () =>
        s3(method, bucket, "", { ownershipControls: "" }, body ? await documentBody(body) : {}),
      ok,
    );

  const submit = (ev: Event) => {
    ev.preventDefault();
    const o = String(new FormData(ev.currentTarget as HTMLFormElement).get("ownership"));
    run("PUT", ownershipXml(o as Ownership), `Object ownership set to ${o}.`);
  };

  return (
    <section class="panel stack-wide" id="ownership-setting">
      <h2>Object ownership</h2>
      <Alerts error={error.value} notice={notice.value} />
      <form class="row" onSubmit={submit}>
        <label>
          Ownership
          <select name="ownership" value={value.value ?? "ObjectWriter"}>
            {OWNERSHIP.map((o) => <option key={o} value={o}>{o}: {HINTS[o]}</option>)}
          </select>
        </label>
        <button class="primary" type="submit">Save</button>
        <button
          type="button"
          disabled={!value.value}
          onClick={() => run("DELETE", null, "Ownership controls removed.")}
        >
          Remove
        </button>
      </form>
      {value.value === null && <p class="hint">No ownership controls are set.</p>}
    </section>
  );
}
