/**
 * The scale benchmark's S3 client: plain `fetch` with SigV4 header auth (UNSIGNED-PAYLOAD, the
 * signing key cached by scripts/bench/sigv4.ts), so the client costs one SHA-256 and one HMAC
 * per request and the server's work dominates. Every response body is drained, so connections
 * go back to the pool; list answers are read as text and picked apart with regular expressions
 * (the benchmark writes the keys itself, so no key needs XML unescaping).
 */
import { createHash } from "node:crypto";
import { Signer, UNSIGNED_PAYLOAD } from "../bench/sigv4.ts";

export interface Credentials {
  accessKey: string;
  secretKey: string;
}

/** One answered request: status, wall time and the body when it was asked for. */
export interface Answer {
  status: number;
  ms: number;
  text: string;
}

/** What a ListObjectsV2 / ListObjectVersions page holds, as far as the benchmark checks it. */
export interface PageSummary {
  keys: number;
  prefixes: number;
  truncated: boolean;
  /** NextContinuationToken (V2) or NextKeyMarker (versions). */
  next: string | null;
  nextVersionId: string | null;
}

const enc = new TextEncoder();

function count(text: string, tag: string): number {
  let n = 0;
  for (let i = text.indexOf(tag); i >= 0; i = text.indexOf(tag, i + tag.length)) n++;
  return n;
}

function element(text: string, tag: string): string | null {
  const m = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(text);
  return m ? m[1] : null;
}

/** Reads the figures of one list page from its XML. */
export function summarizePage(xml: string): PageSummary {
  return {
    keys: count(xml, "<Key>"),
    prefixes: count(xml, "<CommonPrefixes>"),
    truncated: element(xml, "IsTruncated") === "true",
    next: element(xml, "NextContinuationToken") ?? element(xml, "NextKeyMarker"),
    nextVersionId: element(xml, "NextVersionIdMarker"),
  };
}

/** The DeleteObjects body for `keys` (quiet: the answer lists only failures). */
export function deleteObjectsBody(keys: string[]): string {
  return `<Delete><Quiet>true</Quiet>${
    keys.map((k) => `<Object><Key>${k}</Key></Object>`).join("")
  }</Delete>`;
}

export class ScaleClient {
  readonly #signer: Signer;

  constructor(readonly endpoint: string, creds: Credentials) {
    this.#signer = new Signer({ ...creds, region: "us-east-1" });
  }

  /** Sends one request; the body is kept as text only when `keepText`. */
  async request(
    method: string,
    path: string,
    opts: { query?: string; body?: Uint8Array | string; md5?: boolean; keepText?: boolean } = {},
  ): Promise<Answer> {
    const url = new URL(this.endpoint + path + (opts.query ? "?" + opts.query : ""));
    const body = typeof opts.body === "string" ? enc.encode(opts.body) : opts.body ?? null;
    const headers = this.#signer.sign(method, url, UNSIGNED_PAYLOAD);
    if (opts.md5 && body) {
      headers["content-md5"] = createHash("md5").update(body).digest("base64");
    }
    const t0 = performance.now();
    const res = await fetch(url, {
      method,
      headers,
      body: body as Uint8Array<ArrayBuffer> | null,
    });
    let text = "";
    if (opts.keepText || res.status >= 300) text = await res.text();
    else if (res.body) { for await (const _ of res.body) { /* drain */ } }
    return { status: res.status, ms: performance.now() - t0, text };
  }

  createBucket(bucket: string): Promise<Answer> {
    return this.request("PUT", `/${bucket}`);
  }

  enableVersioning(bucket: string): Promise<Answer> {
    return this.request("PUT", `/${bucket}`, {
      query: "versioning",
      body: "<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>",
    });
  }

  put(bucket: string, key: string, body: Uint8Array): Promise<Answer> {
    return this.request("PUT", `/${bucket}/${key}`, { body });
  }

  get(bucket: string, key: string): Promise<Answer> {
    return this.request("GET", `/${bucket}/${key}`);
  }

  deleteObjects(bucket: string, keys: string[]): Promise<Answer> {
    return this.request("POST", `/${bucket}`, {
      query: "delete",
      body: deleteObjectsBody(keys),
      md5: true,
      keepText: true,
    });
  }

  /** ListObjectsV2; `params` are further query parameters (already encoded). */
  listV2(bucket: string, params = ""): Promise<Answer> {
    return this.request("GET", `/${bucket}`, {
      query: `list-type=2&max-keys=1000${params ? "&" + params : ""}`,
      keepText: true,
    });
  }

  listVersions(bucket: string, params = ""): Promise<Answer> {
    return this.request("GET", `/${bucket}`, {
      query: `versions&max-keys=1000${params ? "&" + params : ""}`,
      keepText: true,
    });
  }

  listBuckets(): Promise<Answer> {
    return this.request("GET", "/", { keepText: true });
  }
}
