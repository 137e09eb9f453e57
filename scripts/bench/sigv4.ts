/**
 * A minimal SigV4 header signer for the load generator. The signing key is derived once per
 * (secret, date) and cached, as real SDKs do, so signing costs one SHA-256 and one HMAC per
 * request. The payload hash is either `UNSIGNED-PAYLOAD` or a hash the caller precomputed.
 */
import { createHash, createHmac } from "node:crypto";

export interface SignerOptions {
  accessKey: string;
  secretKey: string;
  region: string;
}

export const UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";

/** RFC 3986 encoding as SigV4 wants it. */
function uriEncode(s: string, keepSlash: boolean): string {
  let out = "";
  for (const byte of new TextEncoder().encode(s)) {
    const unreserved = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) ||
      (byte >= 0x61 && byte <= 0x7a) || byte === 0x2d || byte === 0x5f || byte === 0x2e ||
      byte === 0x7e;
    if (unreserved || (keepSlash && byte === 0x2f)) out += String.fromCharCode(byte);
    else out += "%" + byte.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

export class Signer {
  #keyDate = "";
  #key: Uint8Array = new Uint8Array();

  constructor(readonly opts: SignerOptions) {}

  #signingKey(date: string): Uint8Array {
    if (date !== this.#keyDate) {
      const h = (k: Uint8Array | string, d: string) =>
        new Uint8Array(createHmac("sha256", k).update(d).digest());
      const kDate = h("AWS4" + this.opts.secretKey, date);
      this.#key = h(h(h(kDate, this.opts.region), "s3"), "aws4_request");
      this.#keyDate = date;
    }
    return this.#key;
  }

  /**
   * Headers for a request to `url` (path and query as sent). `payloadHash` is sent as
   * x-amz-content-sha256; `extra` (lower-case names) are sent and signed too.
   */
  sign(
    method: string,
    url: URL,
    payloadHash: string,
    extra: Record<string, string> = {},
  ): Record<string, string> {
    const amzDate = new Date().toISOString().replace(/[-:]|\.\d{3}/g, "");
    const date = amzDate.slice(0, 8);
    const query = [...url.searchParams]
      .map(([k, v]) => [uriEncode(k, false), uriEncode(v, false)])
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : 1))
      .map(([k, v]) => `${k}=${v}`)
      .join("&");
    const signed: [string, string][] = [
      ["host", url.host],
      ["x-amz-content-sha256", payloadHash],
      ["x-amz-date", amzDate],
      ...Object.entries(extra),
    ];
    signed.sort((a, b) => (a[0] < b[0] ? -1 : 1));
    const names = signed.map(([k]) => k).join(";");
    const canonical = [
      method,
      uriEncode(decodeURIComponent(url.pathname), true),
      query,
      signed.map(([k, v]) => `${k}:${v}\n`).join(""),
      names,
      payloadHash,
    ].join("\n");
    const scope = `${date}/${this.opts.region}/s3/aws4_request`;
    const sts = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha256Hex(canonical)}`;
    const sig = createHmac("sha256", this.#signingKey(date)).update(sts).digest("hex");
    return {
      ...extra,
      "x-amz-date": amzDate,
      "x-amz-content-sha256": payloadHash,
      authorization: `AWS4-HMAC-SHA256 Credential=${this.opts.accessKey}/${scope}, ` +
        `SignedHeaders=${names}, Signature=${sig}`,
    };
  }
}
