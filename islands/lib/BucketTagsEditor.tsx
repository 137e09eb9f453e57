/** The bucket's tags (Get/Put/DeleteBucketTagging): rows of key and value, saved as one set. */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { useActions } from "./actions.ts";
import { type ApiError, errorText } from "./api.ts";
import { type BucketRef, documentBody, getTags, s3, taggingXml } from "./s3.ts";
import { Alerts } from "./ui.tsx";

export function BucketTagsEditor({ bucket }: { bucket: BucketRef }) {
  /** null: loading. */
  const rows = useSignal<[string, string][] | null>(null);
  const { error, notice, act } = useActions(() => load(), errorText);
  const load = async () => {
    try {
      rows.value = Object.entries(await getTags(bucket, ""));
    } catch (e) {
      rows.value = [];
      if ((e as ApiError).code !== "NoSuchTagSet") error.value = errorText(e);
    }
  };
  useEffect(() => {
    load();
  }, []);

  const edit = (i: number, col: 0 | 1, v: string) => {
    const next = [...rows.value!];
    next[i] = col === 0 ? [v, next[i][1]] : [next[i][0], v];
    rows.value = next;
  };
  const save = (ev: Event) => {
    ev.preventDefault();
    const tags = (rows.value ?? []).filter(([k]) => k.trim() !== "");
    if (tags.length === 0) {
      act(() => s3("DELETE", bucket, "", { tagging: "" }), "Tags removed.");
      return;
    }
    act(
      async () =>
        s3(
          "PUT",
          bucket,
          "",
          { tagging: "" },
          await documentBody(taggingXml(Object.fromEntries(tags))),
        ),
      `${tags.length} tag(s) saved.`,
    );
  };

  return (
    <section class="panel stack-wide" id="bucket-tags">
      <h2>Tags</h2>
      <p class="hint">Up to 50 tags; keys up to 128 characters, values up to 256.</p>
      <Alerts error={error.value} notice={notice.value} />
      {rows.value && (
        <form class="stack" onSubmit={save}>
          {rows.value.length === 0 && <p class="hint">No tags.</p>}
          {rows.value.map(([k, v], i) => (
            <div class="row" key={i} data-tag-row={i}>
              <label>
                Key
                <input
                  name="tagKey"
                  value={k}
                  onInput={(e) => edit(i, 0, (e.currentTarget as HTMLInputElement).value)}
                />
              </label>
              <label>
                Value
                <input
                  name="tagValue"
                  value={v}
                  onInput={(e) => edit(i, 1, (e.currentTarget as HTMLInputElement).value)}
                />
              </label>
              <button
                type="button"
                onClick={() => rows.value = rows.value!.filter((_, j) => j !== i)}
              >
                Remove<span class="sr-only">tag {k}</span>
              </button>
            </div>
          ))}
          <div class="row">
            <button type="button" onClick={() => rows.value = [...rows.value!, ["", ""]]}>
              Add tag
            </button>
            <button class="primary" type="submit">Save tags</button>
          </div>
        </form>
      )}
    </section>
  );
}
