/** A usage bar against a quota: amber from 80 %, red from 90 % (a <progress>, CSP-safe). */
import { formatBytes, quotaLevel } from "../islands/lib/api.ts";

export interface QuotaBarProps {
  label: string;
  used: number;
  /** 0 or missing = unlimited. */
  max?: number | null;
  bytes?: boolean;
}

export function QuotaBar({ label, used, max, bytes }: QuotaBarProps) {
  const fmt = (n: number) => bytes ? formatBytes(n) : String(n);
  const limited = !!max && max > 0;
  const pct = limited ? Math.min(100, Math.round((used / max!) * 100)) : 0;
  const level = limited ? quotaLevel(used, max!) : "";
  return (
    <div class="quota">
      <div class="row">
        <span>{label}</span>
        <span>{fmt(used)} / {limited ? fmt(max!) : "unlimited"} {limited ? `(${pct}%)` : ""}</span>
      </div>
      <progress
        class={level}
        data-level={level || "normal"}
        max={100}
        value={limited ? pct : 0}
        aria-label={`${label}: ${limited ? `${pct}% used` : "no quota"}`}
      />
    </div>
  );
}
