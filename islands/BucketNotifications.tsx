/**
 * A bucket's event notifications (the Notifications tab): its configurations (events, prefix
 * and suffix filters, the webhook target they go to), added and removed here and saved whole
 * with PutBucketNotificationConfiguration through the S3 passthrough, so S3's validation and
 * errors apply. Targets come from the namespace's webhook targets (the Webhook targets page).
 */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { useActions } from "./lib/actions.ts";
import { api, type ApiError, errorText, listOf } from "./lib/api.ts";
import {
  EVENT_CHOICES,
  kindOfArn,
  type NotificationRule,
  notificationsXml,
  parseNotifications,
} from "./lib/notification_xml.ts";
import { type BucketRef, documentBody, s3 } from "./lib/s3.ts";
import { ActionsTh, Alerts, Loading } from "./lib/ui.tsx";

export interface BucketNotificationsProps extends Record<string, unknown> {
  bucket: string;
  /** The bucket's tenant, for a global administrator looking at a tenant's bucket. */
  tenantId: string;
  /** The bucket's namespace ("" global): the targets it may name are that namespace's. */
  ns: string;
}

interface Target {
  ns: string;
  name: string;
  arn: string;
  url: string;
}

export default function BucketNotifications(
  { bucket, tenantId, ns }: BucketNotificationsProps,
) {
  const ref: BucketRef = tenantId ? { name: bucket, tenantId } : bucket;
  const rules = useSignal<NotificationRule[] | null>(null);
  const targets = useSignal<Target[]>([]);
  const { error, notice, act } = useActions(() => load(), errorText);

  const load = async () => {
    try {
      rules.value = parseNotifications(
        await (await s3("GET", ref, "", { notification: "" })).text(),
      );
    } catch (e) {
      error.value = errorText(e as ApiError);
    }
  };
  useEffect(() => {
    load();
    // A bucket names its own namespace's targets only.
    api("notifications/targets", tenantId ? { query: { tenantId } } : {})
      .then((t) => targets.value = listOf<Target>(t).filter((x) => x.ns === ns))
      .catch(() => {});
  }, []);

  const save = (next: NotificationRule[], done: string) =>
    act(
      async () =>
        s3("PUT", ref, "", { notification: "" }, await documentBody(notificationsXml(next))),
      done,
    );

  const add = (ev: Event) => {
    ev.preventDefault();
    const form = ev.currentTarget as HTMLFormElement;
    const f = new FormData(form);
    const arn = String(f.get("arn") ?? "");
    const events = f.getAll("event").map(String);
    if (!arn || events.length === 0) {
      error.value = "Pick a target and at least one event.";
      return;
    }
    const rule: NotificationRule = {
      kind: kindOfArn(arn),
      id: String(f.get("id") ?? "").trim(),
      arn,
      events,
      prefix: String(f.get("prefix") ?? ""),
      suffix: String(f.get("suffix") ?? ""),
    };
    save([...(rules.value ?? []), rule], "Notification added.").then(() => {
      if (!error.value) form.reset();
    });
  };

  return (
    <div id="bucket-notifications">
      <Alerts error={error.value} notice={notice.value} />
      <p class="hint">
        Each configuration sends AWS's event message (JSON,{" "}
        <code>Records[]</code>) to a webhook target for the events it names, on keys that begin with
        its prefix and end with its suffix. Two configurations may not share an event type on
        overlapping keys.
      </p>
      <div class="panel table-wrap">
        {rules.value === null
          ? <Loading />
          : rules.value.length === 0
          ? <p>No notifications: no events are sent for this bucket.</p>
          : (
            <table id="notification-table">
              <thead>
                <tr>
                  <th>Id</th>
                  <th>Events</th>
                  <th>Prefix</th>
                  <th>Suffix</th>
                  <th>Target</th>
                  <ActionsTh />
                </tr>
              </thead>
              <tbody>
                {rules.value.map((r, i) => (
                  <tr key={`${r.id}-${i}`} data-rule={r.id}>
                    <td>
                      <code>{r.id}</code>
                    </td>
                    <td>{r.events.join(", ")}</td>
                    <td>{r.prefix ? <code>{r.prefix}</code> : "—"}</td>
                    <td>{r.suffix ? <code>{r.suffix}</code> : "—"}</td>
                    <td>
                      <code>{r.arn}</code>
                    </td>
                    <td>
                      <button
                        type="button"
                        onClick={() =>
                          save(
                            rules.value!.filter((_, j) => j !== i),
                            `Notification ${r.id} removed.`,
                          )}
                      >
                        Remove
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
      </div>
      <div class="panel">
        <h2>Add notification</h2>
        {targets.value.length === 0 && (
          <p class="hint">
            No webhook target yet: an administrator registers one on the{" "}
            <a href="/notifications">Webhook targets</a> page.
          </p>
        )}
        <form class="stack" id="add-notification" onSubmit={add}>
          <div class="row">
            <label>
              Target
              <select name="arn" required>
                {targets.value.map((t) => (
                  <option key={t.arn} value={t.arn}>
                    {t.ns ? t.name : `${t.name} (global)`} — {t.url}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Id <span class="hint">(empty = generated)</span>
              <input name="id" maxLength={255} />
            </label>
            <label>
              Prefix
              <input name="prefix" placeholder="images/" />
            </label>
            <label>
              Suffix
              <input name="suffix" placeholder=".jpg" />
            </label>
          </div>
          <fieldset>
            <legend>Events</legend>
            <div class="row">
              {EVENT_CHOICES.map((e) => (
                <label key={e} class="check">
                  <input type="checkbox" name="event" value={e} /> {e}
                </label>
              ))}
            </div>
          </fieldset>
          <div class="row">
            <button class="primary" type="submit">Add notification</button>
          </div>
        </form>
      </div>
    </div>
  );
}
