/** CSV (RFC 4180) for the audit export. */

export function csvField(v: unknown): string {
  const s = v === null || v === undefined ? "" : String(v);
  // Cells that start like a formula are prefixed so spreadsheets do not evaluate them.
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function toCsv(columns: string[], rows: Record<string, unknown>[]): string {
  const lines = [columns.map(csvField).join(",")];
  for (const r of rows) lines.push(columns.map((c) => csvField(r[c])).join(","));
  return lines.join("\r\n") + "\r\n";
}
