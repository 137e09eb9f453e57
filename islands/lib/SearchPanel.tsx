/**
 * The object browser's filter panel: content type, size range, modified date range and tags,
 * under the current folder, through `GET /api/v1/buckets/:bucket/search`. Each request is one
 * bounded scan (the server examines at most 10,000 keys); "Search further" goes on from where it
 * stopped, so a large bucket is searched step by step instead of in one long request.
 */
import { useSignal } from "@preact/signals";
import { api, errorText, formatBytes, formatTime } from "./api.ts";
import { bucketName, type BucketRef } from "./s3.ts";
import { Alerts } from "./ui.tsx";

export interface SearchHit {
  key: string;
  size: number;
  lastModified: number;
  contentType?: string;
  tags?: Record<string, string>;
}

interface SearchPage {
  items: SearchHit[];
  continuationToken: string | null;
  scanned: number;
}

const UNITS: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };

/** The query of a search from the panel's form (empty fields left out). */
export function searchQuery(form: FormData, prefix: string): URLSearchParams {
  const q = new URLSearchParams();
  if (prefix) q.set("prefix", prefix);
  const text = (name: string) => String(form.get(name) ?? "").trim();
  if (text("contentType")) q.set("contentType", text("contentType"));
  const unit = UNITS[text("sizeUnit")] ?? 1;
  for (const name of ["minSize", "maxSize"]) {
    if (text(name) !== "") q.set(name, String(Math.round(Number(text(name)) * unit)));
  }
  // Dates as the user's local midnight; "before" includes the day chosen.
  if (text("modifiedAfter")) {
    q.set("modifiedAfter", String(new Date(text("modifiedAfter") + "T00:00").getTime()));
  }
  if (text("modifiedBefore")) {
    q.set(
      "modifiedBefore",
      String(new Date(text("modifiedBefore") + "T00:00").getTime() + 86_400_000),
    );
  }
  for (const line of text("tags").split(/[\n,]/)) {
    if (line.trim()) q.append("tag", line.trim());
  }
  return q;
}

export function SearchPanel(
  { bucket, prefix, onOpen }: { bucket: BucketRef; prefix: string; onOpen: (key: string) => void },
) {
  const hits = useSignal<SearchHit[] | null>(null);
  const next = useSignal<string | null>(null);
  const scanned = useSignal(0);
  const busy = useSignal(false);
  const error = useSignal("");
  const query = useSignal<URLSearchParams | null>(null);

  const run = async (q: URLSearchParams, token: string | null) => {
    busy.value = true;
    error.value = "";
    try {
      const full = new URLSearchParams(q);
      if (token) full.set("continuationToken", token);
      if (typeof bucket !== "string") full.set("tenantId", bucket.tenantId);
      const page = await api<SearchPage>(
        `/api/v1/buckets/${encodeURIComponent(bucketName(bucket))}/search?${full}`,
      );
      hits.value = token ? [...(hits.value ?? []), ...page.items] : page.items;
      next.value = page.continuationToken;
      scanned.value = (token ? scanned.value : 0) + page.scanned;
    } catch (e) {
      error.value = errorText(e);
    } finally {
      busy.value = false;
    }
  };

  return (
    <details class="mt" id="search-panel">
      <summary>Filter objects (type, size, date, tags)</summary>
      <form
        class="stack"
        id="search-form"
        onSubmit={(e) => {
          e.preventDefault();
          const q = searchQuery(new FormData(e.currentTarget as HTMLFormElement), prefix);
          query.value = q;
          run(q, null);
        }}
      >
        <label>
          Content type starts with
          <input name="contentType" placeholder="image/" />
        </label>
        <label>
          Size from
          <input name="minSize" type="number" min="0" step="any" />
        </label>
        <label>
          to
          <input name="maxSize" type="number" min="0" step="any" />
        </label>
        <label>
          Unit
          <select name="sizeUnit">
            {Object.keys(UNITS).map((u) => (
              <option key={u} value={u} selected={u === "KiB"}>{u}</option>
            ))}
          </select>
        </label>
        <label>
          Modified from
          <input name="modifiedAfter" type="date" />
        </label>
        <label>
          Modified until
          <input name="modifiedBefore" type="date" />
        </label>
        <label>
          Tags (key=value, one per line)
          <textarea name="tags" rows={2} />
        </label>
        <div class="row">
          <button type="submit" disabled={busy.value}>
            Search {prefix ? `in ${prefix}` : "bucket"}
          </button>
        </div>
      </form>
      <Alerts error={error.value} />
      {hits.value && (
        <>
          <p class="hint" role="status" id="search-status">
            {hits.value.length} match{hits.value.length === 1 ? "" : "es"} in {scanned.value}{" "}
            objects examined{next.value ? "; more of the bucket is left to search." : "."}
          </p>
          <div class="table-wrap">
            <table id="search-results">
              <thead>
                <tr>
                  <th>Key</th>
                  <th class="num">Size</th>
                  <th>Modified</th>
                  <th>Type</th>
                  <th>Tags</th>
                </tr>
              </thead>
              <tbody>
                {hits.value.map((h) => (
                  <tr key={h.key}>
                    <td>
                      <button type="button" class="link" onClick={() => onOpen(h.key)}>
                        {h.key}
                      </button>
                    </td>
                    <td class="num">{formatBytes(h.size)}</td>
                    <td>{formatTime(h.lastModified)}</td>
                    <td>{h.contentType ?? ""}</td>
                    <td>
                      {h.tags ? Object.entries(h.tags).map(([k, v]) => `${k}=${v}`).join(", ") : ""}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {next.value && (
            <button
              type="button"
              id="search-more"
              disabled={busy.value}
              onClick={() => query.value && run(query.value, next.value)}
            >
              Search further
            </button>
          )}
        </>
      )}
    </details>
  );
}
