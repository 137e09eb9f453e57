/** A bucket's quota (bytes and objects; administrators): `/api/v1/buckets/:bucket/quota`. */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { useActions } from "./actions.ts";
import { api } from "./api.ts";
import { Alerts } from "./ui.tsx";

interface Limits {
  maxBytes: number | null;
  maxObjects: number | null;
}

interface QuotaAnswer {
  quota: Limits;
  defaults: Limits;
  usage: { bytes: number; objects: number };
}

const LIMITS: [keyof Limits, string][] = [["maxBytes", "Bytes"], ["maxObjects", "Objects"]];

/** "" when empty (no limit of its own), else a non-negative integer. */
const limitOf = (v: FormDataEntryValue | null): number | null =>
  v === null || String(v).trim() === "" ? null : Number(v);

export function BucketQuotaSetting({ bucket, tenantId }: { bucket: string; tenantId: string }) {
  const answer = useSignal<QuotaAnswer | null>(null);
  const path = `buckets/${encodeURIComponent(bucket)}/quota`;
  const query = { tenantId };
  const load = async () => {
    answer.value = await api<QuotaAnswer>(path, { query });
  };
  const { error, notice, act } = useActions(load);
  useEffect(() => {
    load().catch((e) => error.value = (e as Error).message);
  }, []);

  const submit = (ev: Event) => {
    ev.preventDefault();
    const f = new FormData(ev.currentTarget as HTMLFormElement);
    const body = { maxBytes: limitOf(f.get("maxBytes")), maxObjects: limitOf(f.get("maxObjects")) };
    act(() => api(path, { method: "PUT", body, query }), "Bucket quota saved.");
  };

  const a = answer.value;
  const def = (n: number | null | undefined) => n ? `default ${n}` : "no limit";
  return (
    <section class="panel stack-wide" id="bucket-quota">
      <h2>Quota</h2>
      <Alerts error={error.value} notice={notice.value} />
      {a && (
        <p class="hint">
          Stored: {a.usage.objects} objects, {a.usage.bytes}{" "}
          bytes. Writes that would pass a limit answer QuotaExceeded.
        </p>
      )}
      <form class="row" onSubmit={submit} key={JSON.stringify(a?.quota)}>
        {LIMITS.map(([name, label]) => (
          <label key={name}>
            {label}
            <input
              type="number"
              name={name}
              min="0"
              value={a?.quota[name] ?? ""}
              placeholder={def(a?.defaults[name])}
            />
          </label>
        ))}
        <button class="primary" type="submit">Save</button>
      </form>
    </section>
  );
}
