/**
 * A bucket's share links (the "Shared links" tab): who shared which object until when, how often
 * it was opened, and Revoke. Users see their own links, tenant administrators their tenant's,
 * global administrators all.
 */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { api, errorText } from "./lib/api.ts";
import { type ShareLinkView, ShareTable } from "./lib/SharePanel.tsx";
import { Alerts, Loading } from "./lib/ui.tsx";

export interface BucketSharesProps extends Record<string, unknown> {
  bucket: string;
  /** A tenant's namespace, when a global administrator opened one of its buckets. */
  tenantId: string;
}

export default function BucketShares({ bucket, tenantId }: BucketSharesProps) {
  const links = useSignal<ShareLinkView[] | null>(null);
  const all = useSignal(false);
  const error = useSignal("");

  const load = () =>
    api<{ items: ShareLinkView[] }>(`/api/v1/buckets/${encodeURIComponent(bucket)}/shares`, {
      query: { tenantId, all: all.value ? "1" : "" },
    }).then((r) => links.value = r.items).catch((e) => error.value = errorText(e));
  useEffect(() => void load(), [all.value]);

  const revoke = async (l: ShareLinkView) => {
    if (!confirm(`Revoke the link to "${l.key}"? Anyone who has it loses access at once.`)) return;
    try {
      await api(`shares/${encodeURIComponent(l.id)}`, { method: "DELETE" });
      await load();
    } catch (e) {
      error.value = errorText(e);
    }
  };

  return (
    <div class="panel" id="bucket-shares">
      <h2>Shared links</h2>
      <p class="hint">
        Public links to objects of this bucket, created from an object's details. Each opens its
        object without signing in until it expires or is revoked; every use is in the audit log.
      </p>
      <Alerts error={error.value} />
      <label class="row">
        <input
          type="checkbox"
          checked={all.value}
          onChange={(e) => all.value = (e.currentTarget as HTMLInputElement).checked}
        />
        Show expired and revoked links
      </label>
      {links.value === null
        ? <Loading />
        : links.value.length === 0
        ? <p class="hint">No links.</p>
        : <ShareTable links={links.value} showKey onRevoke={(l) => void revoke(l)} />}
    </div>
  );
}
