/**
 * The default retention of an Object Lock bucket (Get/PutObjectLockConfiguration): a mode and a
 * period in days or years applied to new object versions that name no retention of their own.
 */
import type { Signal } from "@preact/signals";
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { tagText } from "./access_xml.ts";
import { useActions } from "./actions.ts";
import { type ApiError, errorText } from "./api.ts";
import { type BucketRef, documentBody, s3 } from "./s3.ts";
import { Alerts } from "./ui.tsx";

export interface LockDefault {
  mode: "" | "GOVERNANCE" | "COMPLIANCE";
  period: number;
  unit: "Days" | "Years";
}

export function parseLockDefault(xml: string): LockDefault {
  const mode = tagText(xml, "Mode") as LockDefault["mode"];
  const years = tagText(xml, "Years");
  return years
    ? { mode, period: Number(years), unit: "Years" }
    : { mode, period: Number(tagText(xml, "Days") || 0), unit: "Days" };
}

export function lockDefaultXml(d: LockDefault): string {
  const rule = d.mode
    ? `<Rule><DefaultRetention><Mode>${d.mode}</Mode><${d.unit}>${d.period}</${d.unit}>` +
      `</DefaultRetention></Rule>`
    : "";
  return `<ObjectLockConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
    `<ObjectLockEnabled>Enabled</ObjectLockEnabled>${rule}</ObjectLockConfiguration>`;
}

/**
 * Shown only for lock buckets: `objectLock` is set by the caller once it has asked the bucket
 * (undefined while it does not know).
 */
export function ObjectLockDefaults(
  { bucket, objectLock }: { bucket: BucketRef; objectLock: Signal<boolean | undefined> },
) {
  const value = useSignal<LockDefault | null>(null);
  const { error, notice, act } = useActions(() => load(), errorText);
  const load = async () => {
    try {
      value.value = parseLockDefault(
        await (await s3("GET", bucket, "", { "object-lock": "" })).text(),
      );
      objectLock.value = true;
    } catch (e) {
      if ((e as ApiError).code === "ObjectLockConfigurationNotFoundError") {
        objectLock.value = false;
      } else error.value = errorText(e);
    }
  };
  useEffect(() => {
    load();
  }, []);
  if (objectLock.value === false) return null;

  const submit = (ev: Event) => {
    ev.preventDefault();
    const f = new FormData(ev.currentTarget as HTMLFormElement);
    const d: LockDefault = {
      mode: String(f.get("mode")) as LockDefault["mode"],
      period: Number(f.get("period")),
      unit: String(f.get("unit")) as LockDefault["unit"],
    };
    act(
      async () =>
        s3("PUT", bucket, "", { "object-lock": "" }, await documentBody(lockDefaultXml(d))),
      d.mode
        ? `New versions are retained in ${d.mode} mode for ${d.period} ${d.unit.toLowerCase()}.`
        : "No default retention.",
    );
  };
  const v = value.value;
  return (
    <section class="panel stack-wide" id="object-lock-defaults">
      <h2>Object Lock default retention</h2>
      <p class="hint">
        Applied to new object versions that name no retention. GOVERNANCE can be bypassed by users
        allowed to; COMPLIANCE cannot be shortened by anyone until it ends.
      </p>
      <Alerts error={error.value} notice={notice.value} />
      {v && (
        <form class="row" onSubmit={submit}>
          <label>
            Mode
            <select name="mode" value={v.mode}>
              <option value="">None</option>
              <option value="GOVERNANCE">GOVERNANCE</option>
              <option value="COMPLIANCE">COMPLIANCE</option>
            </select>
          </label>
          <label>
            Period
            <input name="period" type="number" min="1" defaultValue={String(v.period || 1)} />
          </label>
          <label>
            Unit
            <select name="unit" value={v.unit}>
              <option value="Days">Days</option>
              <option value="Years">Years</option>
            </select>
          </label>
          <button class="primary" type="submit">Save</button>
        </form>
      )}
    </section>
  );
}
