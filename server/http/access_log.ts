/**
 * The access log (`--access-log`): one line per S3 request on standard output, in the log format
 * (`--log-format`). Text lines are space-separated fields with `-` for none and the key
 * URL-encoded, so a line always splits into the same twelve fields:
 *
 *   time requestId client principal tenant operation bucket key status bytesIn bytesOut ms
 *
 * JSON lines are objects with those names. Console requests that reach S3 in-process are logged
 * too, with the console session's user as principal.
 */
import type { RequestInfo } from "../s3/context.ts";
import type { LogFormat } from "../config.ts";

export interface AccessEntry {
  time: string;
  requestId: string;
  client: string | null;
  principal: string | null;
  tenant: string | null;
  operation: string;
  bucket: string | null;
  key: string | null;
  status: number;
  bytesIn: number | null;
  bytesOut: number | null;
  ms: number;
}

export function accessEntry(info: RequestInfo, now: Date): AccessEntry {
  const p = info.principal;
  return {
    time: now.toISOString(),
    requestId: info.requestId,
    client: info.client.ip,
    principal: p ? p.displayName : null,
    tenant: p?.tenantId ?? null,
    operation: info.op,
    bucket: info.bucket,
    key: info.key,
    status: info.status,
    bytesIn: info.bytesIn,
    bytesOut: info.bytesOut,
    ms: Math.round(info.durationMs * 1000) / 1000,
  };
}

export function accessLogLine(info: RequestInfo, format: LogFormat, now: Date): string {
  const e = accessEntry(info, now);
  if (format === "json") return JSON.stringify(e);
  const f = (v: string | number | null) => v === null || v === "" ? "-" : String(v);
  return [
    e.time,
    e.requestId,
    f(e.client),
    f(e.principal === null ? null : encodeURIComponent(e.principal)),
    f(e.tenant),
    e.operation,
    f(e.bucket),
    f(e.key === null ? null : encodeURIComponent(e.key)),
    e.status,
    f(e.bytesIn),
    f(e.bytesOut),
    e.ms,
  ].join(" ");
}
