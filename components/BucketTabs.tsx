/**
 * The pages of one bucket, as tabs above each of them. A bucket page renders
 * `<BucketTabs bucket=… tenantId=… current="…" />` before its island; a new page adds one entry
 * to TABS.
 */
export interface BucketTab {
  /** Path below /buckets/<bucket> ("" for the object browser). */
  path: string;
  label: string;
}

export const TABS: readonly BucketTab[] = [
  { path: "", label: "Objects" },
  { path: "/permissions", label: "Permissions" },
  { path: "/settings", label: "Settings" },
  { path: "/website", label: "Website" },
  { path: "/notifications", label: "Notifications" },
  { path: "/inventory", label: "Inventory & logging" },
  { path: "/shares", label: "Shared links" },
  { path: "/replication", label: "Replication" },
];

export function BucketTabs(
  { bucket, tenantId, current }: { bucket: string; tenantId: string; current: string },
) {
  const q = tenantId ? `?tenantId=${encodeURIComponent(tenantId)}` : "";
  return (
    <nav class="tabs" aria-label={`Bucket ${bucket}`}>
      {TABS.map((t) => (
        <a
          href={`/buckets/${encodeURIComponent(bucket)}${t.path}${q}`}
          aria-current={t.path === current ? "page" : undefined}
        >
          {t.label}
        </a>
      ))}
    </nav>
  );
}
