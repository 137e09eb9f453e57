/**
 * A bucket's Website tab: its static website configuration (Put/Get/DeleteBucketWebsite through
 * the console's S3 passthrough): index and error documents and routing rules, or a redirect of
 * every request to another host; and the address the website answers on.
 */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { useActions } from "./lib/actions.ts";
import { api, type ApiError, errorText } from "./lib/api.ts";
import { type BucketRef, documentBody, s3 } from "./lib/s3.ts";
import { Alerts } from "./lib/ui.tsx";
import {
  EMPTY_WEBSITE,
  parseWebsite,
  ROUTING_RULES_SAMPLE,
  type WebsiteForm,
  websiteXml,
} from "./lib/website_xml.ts";

const MODES: [WebsiteForm["mode"], string][] = [
  ["site", "Host a website"],
  ["redirect", "Redirect every request"],
];

export interface BucketWebsiteProps extends Record<string, unknown> {
  bucket: string;
  /** A tenant's namespace (global administrators), "" for the caller's own. */
  tenantId: string;
}

export default function BucketWebsite({ bucket, tenantId }: BucketWebsiteProps) {
  const ref: BucketRef = tenantId ? { name: bucket, tenantId } : bucket;
  /** undefined: loading; null: the bucket is no website. */
  const stored = useSignal<WebsiteForm | null | undefined>(undefined);
  const form = useSignal<WebsiteForm>(EMPTY_WEBSITE);
  const url = useSignal<string | null>(null);
  const { error, notice, act } = useActions(() => load(), errorText);

  /**
   * Reads the stored configuration; the form follows it only when it changed (first load, a
   * save, a removal), so a refused save leaves the user's edits in place.
   */
  const load = async () => {
    let next: WebsiteForm | null = null;
    try {
      next = parseWebsite(await (await s3("GET", ref, "", { website: "" })).text());
    } catch (e) {
      if ((e as ApiError).code !== "NoSuchWebsiteConfiguration") error.value = errorText(e);
    }
    if (JSON.stringify(next) !== JSON.stringify(stored.value)) form.value = next ?? EMPTY_WEBSITE;
    stored.value = next;
  };
  useEffect(() => {
    load();
    api<{ url: string | null }>(`buckets/${encodeURIComponent(bucket)}/website-endpoint`, {
      query: { tenantId },
    }).then((r) => url.value = r.url, () => url.value = null);
  }, [bucket]);

  const set = (patch: Partial<WebsiteForm>) => form.value = { ...form.value, ...patch };
  const input = (e: Event) => (e.currentTarget as HTMLInputElement).value;

  const save = (ev: Event) => {
    ev.preventDefault();
    const doc = websiteXml(form.value);
    if ("problem" in doc) {
      notice.value = "";
      error.value = doc.problem;
      return;
    }
    act(
      async () => s3("PUT", ref, "", { website: "" }, await documentBody(doc.xml)),
      "Website configuration saved.",
    );
  };

  const f = form.value;
  const loading = stored.value === undefined;
  return (
    <section class="panel stack-wide" id="bucket-website" data-bucket={bucket}>
      <h2>Static website</h2>
      <p class="hint">
        {url.value
          ? (
            <>
              Served anonymously at <a href={url.value} id="website-url">{url.value}</a>{" "}
              to whoever the bucket policy and ACLs let read its objects.
            </>
          )
          : "The server has no website domain (--website-domain): the configuration is kept but not served."}
      </p>
      {stored.value === null && <p class="hint">This bucket is not a website.</p>}
      <Alerts error={error.value} notice={notice.value} />
      <form class="stack" onSubmit={save}>
        <fieldset class="row" disabled={loading}>
          {MODES.map(([mode, label]) => (
            <label class="check">
              <input
                type="radio"
                name="mode"
                value={mode}
                checked={f.mode === mode}
                onChange={() =>
                  set({ mode, indexSuffix: f.indexSuffix || EMPTY_WEBSITE.indexSuffix })}
              />{" "}
              {label}
            </label>
          ))}
        </fieldset>
        {f.mode === "site"
          ? (
            <>
              <div class="row">
                <label>
                  Index document
                  <input
                    name="indexSuffix"
                    required
                    pattern="[^\/]+"
                    title="A file name without slashes, e.g. index.html"
                    value={f.indexSuffix}
                    onInput={(e) => set({ indexSuffix: input(e) })}
                  />
                </label>
                <label>
                  Error document (optional)
                  <input
                    name="errorKey"
                    placeholder="error.html"
                    value={f.errorKey}
                    onInput={(e) => set({ errorKey: input(e) })}
                  />
                </label>
              </div>
              <p class="hint">
                Routing rules (optional): S3's RoutingRules element; S3 checks it on Save.
              </p>
              <textarea
                name="routingRules"
                aria-label="Routing rules"
                rows={10}
                wrap="off"
                spellcheck={false}
                class="code"
                placeholder={ROUTING_RULES_SAMPLE}
                value={f.routingRules}
                onInput={(e) => set({ routingRules: input(e) })}
              />
            </>
          )
          : (
            <div class="row">
              <label>
                Host name
                <input
                  name="redirectHost"
                  required
                  placeholder="www.example.com"
                  value={f.redirectHost}
                  onInput={(e) => set({ redirectHost: input(e) })}
                />
              </label>
              <label>
                Protocol
                <select
                  name="redirectProtocol"
                  value={f.redirectProtocol}
                  onChange={(e) =>
                    set({
                      redirectProtocol: (e.currentTarget as HTMLSelectElement)
                        .value as WebsiteForm["redirectProtocol"],
                    })}
                >
                  <option value="">As requested</option>
                  <option value="http">http</option>
                  <option value="https">https</option>
                </select>
              </label>
            </div>
          )}
        <div class="row">
          <button class="primary" type="submit" disabled={loading}>Save</button>
          <button
            type="button"
            disabled={!stored.value}
            onClick={() =>
              act(
                () => s3("DELETE", ref, "", { website: "" }),
                "The bucket is no longer a website.",
              )}
          >
            Remove website
          </button>
        </div>
      </form>
    </section>
  );
}
