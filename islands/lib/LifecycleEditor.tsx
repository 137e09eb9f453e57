/**
 * The bucket's lifecycle rules (Get/Put/DeleteBucketLifecycleConfiguration): listed, added,
 * edited and deleted; each change writes the whole configuration, as S3 stores it. When S3
 * refuses a rule its error is shown and the form keeps what was typed.
 */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { type ApiError, errorText } from "./api.ts";
import {
  type Expiration,
  type LifecycleRule,
  lifecycleXml,
  newRule,
  parseLifecycle,
  ruleActions,
  ruleScope,
} from "./lifecycle_xml.ts";
import { type BucketRef, documentBody, parseTags, s3 } from "./s3.ts";
import { ActionsTh, Alerts } from "./ui.tsx";

const optNum = (v: FormDataEntryValue | null): number | undefined => {
  const s = String(v ?? "").trim();
  return s === "" ? undefined : Number(s);
};

/** The rule in the form: its fields over the rule being edited (size filters, transitions kept). */
function ruleFrom(form: HTMLFormElement, base: LifecycleRule): LifecycleRule {
  const f = new FormData(form);
  const kind = String(f.get("expiration")) as Expiration["kind"];
  const expiration: Expiration = kind === "days"
    ? { kind, days: Number(f.get("expirationDays")) }
    : kind === "date"
    ? { kind, date: String(f.get("expirationDate")) }
    : { kind } as Expiration;
  const rule: LifecycleRule = {
    ...base,
    id: String(f.get("id") ?? "").trim(),
    enabled: f.get("enabled") === "on",
    prefix: String(f.get("prefix") ?? ""),
    tags: Object.entries(parseTags(String(f.get("tags") ?? ""))),
    expiration,
    noncurrentDays: optNum(f.get("noncurrentDays")),
    newerNoncurrent: optNum(f.get("newerNoncurrent")),
    abortDays: optNum(f.get("abortDays")),
  };
  for (const k of ["noncurrentDays", "newerNoncurrent", "abortDays"] as const) {
    if (rule[k] === undefined) delete rule[k];
  }
  if (rule.noncurrentDays === undefined) delete rule.newerNoncurrent;
  return rule;
}

export function LifecycleEditor({ bucket }: { bucket: BucketRef }) {
  /** null: loading. */
  const rules = useSignal<LifecycleRule[] | null>(null);
  /** The rule in the form: its index, or -1 for a new one; null when the form is closed. */
  const editing = useSignal<number | null>(null);
  const expKind = useSignal<Expiration["kind"]>("none");
  const error = useSignal("");
  const notice = useSignal("");

  const load = async () => {
    try {
      rules.value = parseLifecycle(await (await s3("GET", bucket, "", { lifecycle: "" })).text());
    } catch (e) {
      rules.value = [];
      if ((e as ApiError).code !== "NoSuchLifecycleConfiguration") error.value = errorText(e);
    }
  };
  useEffect(() => {
    load();
  }, []);

  /** Stores `next` as the whole configuration; true when S3 took it. */
  const store = async (next: LifecycleRule[], ok: string): Promise<boolean> => {
    error.value = "";
    notice.value = "";
    try {
      if (next.length === 0) await s3("DELETE", bucket, "", { lifecycle: "" });
      else await s3("PUT", bucket, "", { lifecycle: "" }, await documentBody(lifecycleXml(next)));
      notice.value = ok;
      await load();
      return true;
    } catch (e) {
      error.value = errorText(e);
      return false;
    }
  };

  const open = (i: number) => {
    editing.value = i;
    expKind.value = i >= 0 ? rules.value![i].expiration.kind : "none";
    error.value = "";
    notice.value = "";
  };

  const submit = async (ev: Event) => {
    ev.preventDefault();
    const i = editing.value!;
    const list = rules.value ?? [];
    let rule: LifecycleRule;
    try {
      rule = ruleFrom(ev.currentTarget as HTMLFormElement, i >= 0 ? list[i] : newRule());
    } catch (e) {
      error.value = (e as Error).message;
      return;
    }
    const next = i >= 0 ? list.map((r, j) => j === i ? rule : r) : [...list, rule];
    if (await store(next, `Rule ${rule.id || "(new)"} saved.`)) editing.value = null;
  };

  const remove = (i: number) => {
    const r = rules.value![i];
    if (!confirm(`Delete the lifecycle rule "${r.id}"?`)) return;
    store(rules.value!.filter((_, j) => j !== i), `Rule ${r.id} deleted.`);
  };

  const list = rules.value;
  const cur = editing.value !== null && editing.value >= 0 && list
    ? list[editing.value]
    : newRule();
  const exp = cur.expiration;
  return (
    <section class="panel stack-wide" id="lifecycle-editor">
      <h2>Lifecycle rules</h2>
      <p class="hint">
        Rules expire objects, delete noncurrent versions and expired delete markers, and abort
        unfinished multipart uploads. The lifecycle worker applies them in the background.
      </p>
      <Alerts error={error.value} notice={notice.value} />
      {list && list.length === 0 && <p class="hint">No lifecycle rules.</p>}
      {list && list.length > 0 && (
        <div class="table-wrap">
          <table id="lifecycle-rules">
            <thead>
              <tr>
                <th>ID</th>
                <th>Status</th>
                <th>Applies to</th>
                <th>Actions</th>
                <ActionsTh />
              </tr>
            </thead>
            <tbody>
              {list.map((r, i) => (
                <tr key={r.id} data-rule={r.id}>
                  <td>{r.id}</td>
                  <td>{r.enabled ? "Enabled" : "Disabled"}</td>
                  <td>{ruleScope(r)}</td>
                  <td>{ruleActions(r)}</td>
                  <td>
                    <div class="row">
                      <button type="button" onClick={() => open(i)}>
                        Edit<span class="sr-only">rule {r.id}</span>
                      </button>
                      <button type="button" onClick={() => remove(i)}>
                        Delete<span class="sr-only">rule {r.id}</span>
                      </button>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {editing.value === null
        ? (
          <div>
            <button type="button" disabled={!list} onClick={() => open(-1)}>Add rule</button>
          </div>
        )
        : (
          // Uncontrolled fields (defaultValue): a re-render, e.g. when the expiration kind
          // changes, must not reset what was typed.
          <form class="stack" id="lifecycle-form" onSubmit={submit} key={editing.value}>
            <h3>{editing.value >= 0 ? `Edit rule ${cur.id}` : "New rule"}</h3>
            <label>
              Rule ID
              <input
                name="id"
                maxLength={255}
                defaultValue={cur.id}
                placeholder="generated when empty"
              />
            </label>
            <label class="check">
              <input type="checkbox" name="enabled" defaultChecked={cur.enabled} /> Enabled
            </label>
            <label>
              Prefix
              <input
                name="prefix"
                defaultValue={cur.prefix}
                placeholder="every object when empty"
              />
            </label>
            <label>
              Tags
              <textarea
                name="tags"
                rows={2}
                defaultValue={cur.tags.map(([k, v]) => `${k}=${v}`).join("\n")}
                placeholder="key=value, one per line"
              />
            </label>
            <label>
              Expire current versions
              <select
                name="expiration"
                value={expKind.value}
                onChange={(e) =>
                  expKind.value = (e.currentTarget as HTMLSelectElement).value as never}
              >
                <option value="none">Never</option>
                <option value="days">Days after creation</option>
                <option value="date">On a date</option>
                <option value="deleteMarkers">
                  No: remove expired delete markers only
                </option>
              </select>
            </label>
            {expKind.value === "days" && (
              <label>
                Days after creation
                <input
                  name="expirationDays"
                  type="number"
                  min="1"
                  required
                  defaultValue={exp.kind === "days" ? exp.days : ""}
                />
              </label>
            )}
            {expKind.value === "date" && (
              <label>
                Expiration date (midnight UTC)
                <input
                  name="expirationDate"
                  type="date"
                  required
                  defaultValue={exp.kind === "date" ? exp.date : ""}
                />
              </label>
            )}
            <div class="row">
              <label>
                Delete noncurrent versions after (days)
                <input
                  name="noncurrentDays"
                  type="number"
                  min="1"
                  defaultValue={cur.noncurrentDays ?? ""}
                />
              </label>
              <label>
                Keep newest noncurrent versions
                <input
                  name="newerNoncurrent"
                  type="number"
                  min="1"
                  max="100"
                  defaultValue={cur.newerNoncurrent ?? ""}
                />
              </label>
            </div>
            <label>
              Abort incomplete multipart uploads after (days)
              <input name="abortDays" type="number" min="1" defaultValue={cur.abortDays ?? ""} />
            </label>
            <div class="row">
              <button class="primary" type="submit">Save rule</button>
              <button type="button" onClick={() => editing.value = null}>Cancel</button>
            </div>
          </form>
        )}
    </section>
  );
}
