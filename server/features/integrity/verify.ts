/**
 * Re-verifies one stored version: its bytes are read again as stored (past the memory caches)
 * and compared with what the write recorded: the MD5 ETag (single-part objects; each part's ETag
 * for multipart objects), the additional checksum when there is one, and the sizes. A read that
 * fails (a missing blob file, an encrypted segment that no longer authenticates) is a finding too,
 * unless the version is gone meanwhile: then there is nothing left to verify.
 */
import {
  type Backend,
  type ChecksumAlgorithm,
  type Hasher,
  newChecksumHasher,
  newMd5,
  toBase64,
} from "../../storage/mod.ts";
import type { BucketRecord, ObjectRecord, PartRef } from "../../storage/types.ts";
import { hex } from "../../hex.ts";

/** What one version's verification found. */
export type VersionCheck =
  /** The bytes match every stored digest; `bytes` were read. */
  | { kind: "ok"; bytes: number }
  /** Corrupt or unreadable: `reason` says which digest or read failed. */
  | { kind: "corrupt"; bytes: number; reason: string }
  /** Nothing this server can verify (SSE-C: the key is the customer's) or no longer stored. */
  | { kind: "skipped"; bytes: number };

/**
 * Called with each chunk read, before the next is read (the scrubber's rate limit). It throws to
 * stop the read (the scrubber is stopping): `verifyVersion` then throws too, with no finding.
 */
export type Pace = (bytes: number) => Promise<void>;

/** Thrown by a `Pace` to stop a verification part-way (not a finding). */
export class VerifyStopped extends Error {
  constructor() {
    super("verification stopped");
  }
}

const MD5_ETAG = /^"([0-9a-f]{32})"$/;

/**
 * Whether a version's ETag is the MD5 of its plaintext: plaintext and SSE-S3 objects; SSE-KMS
 * and SSE-C ETags are derived from the data key (docs/decisions/0012).
 */
function etagIsMd5(rec: ObjectRecord): boolean {
  return rec.enc === undefined || rec.enc.mode === "AES256";
}

/** Reads a stream to its end through `hashers`; returns the byte count. */
async function digestStream(
  stream: ReadableStream<Uint8Array>,
  hashers: Hasher[],
  pace: Pace,
): Promise<number> {
  let n = 0;
  for await (const chunk of stream) {
    for (const h of hashers) h.update(chunk);
    n += chunk.byteLength;
    await pace(chunk.byteLength);
  }
  return n;
}

/** One blob (a single-part object or one part): its size, MD5 and checksum against the record. */
interface Expected {
  label: string;
  size: number;
  /** Quoted ETag to compare with the MD5, or null when it is not an MD5. */
  etag: string | null;
  checksum: { algorithm: ChecksumAlgorithm; value: string } | null;
}

function mismatches(
  exp: Expected,
  got: { size: number; md5: Uint8Array; checksum: string | null },
): string | null {
  const at = exp.label ? `${exp.label}: ` : "";
  if (got.size !== exp.size) return `${at}size ${got.size}, recorded ${exp.size}`;
  const md5 = exp.etag ? MD5_ETAG.exec(exp.etag)?.[1] : undefined;
  if (md5 && hex(got.md5) !== md5) return `${at}MD5 ${hex(got.md5)}, recorded ETag ${md5}`;
  if (exp.checksum && got.checksum !== exp.checksum.value) {
    return `${at}${exp.checksum.algorithm} ${got.checksum}, recorded ${exp.checksum.value}`;
  }
  return null;
}

async function verifyBlob(
  open: () => Promise<ReadableStream<Uint8Array>>,
  exp: Expected,
  pace: Pace,
  extra: Hasher | null,
): Promise<{ bytes: number; reason: string | null }> {
  const md5 = newMd5();
  const sum = exp.checksum ? newChecksumHasher(exp.checksum.algorithm) : null;
  const hashers = [md5, ...(sum ? [sum] : []), ...(extra ? [extra] : [])];
  const stream = await open();
  let size: number;
  try {
    size = await digestStream(stream, hashers, pace);
  } catch (e) {
    await stream.cancel().catch(() => {});
    throw e;
  }
  const got = { size, md5: md5.digest(), checksum: sum ? toBase64(sum.digest()) : null };
  return { bytes: size, reason: mismatches(exp, got) };
}

/** Whether `rec` is still stored as it was read (a read error then means corruption). */
async function stillStored(storage: Backend, bucket: BucketRecord, rec: ObjectRecord) {
  try {
    const now = await storage.getObjectRecord(bucket, rec.key, rec.versionId);
    return now.etag === rec.etag && now.blob === rec.blob && now.partsId === rec.partsId;
  } catch {
    return false;
  }
}

/** Verifies one version (delete markers are not passed here). */
export async function verifyVersion(
  storage: Backend,
  bucket: BucketRecord,
  rec: ObjectRecord,
  pace: Pace,
): Promise<VersionCheck> {
  if (rec.enc?.mode === "SSE-C") return { kind: "skipped", bytes: 0 };
  let bytes = 0;
  try {
    const reason = await verifyBytes(storage, bucket, rec, pace, (n) => (bytes += n));
    return reason === null ? { kind: "ok", bytes } : { kind: "corrupt", bytes, reason };
  } catch (e) {
    if (e instanceof VerifyStopped) throw e;
    if (!await stillStored(storage, bucket, rec)) return { kind: "skipped", bytes };
    const message = e instanceof Error ? e.message : String(e);
    return { kind: "corrupt", bytes, reason: `read failed: ${message}` };
  }
}

/** The first mismatch found in the version's bytes, or null. */
async function verifyBytes(
  storage: Backend,
  bucket: BucketRecord,
  rec: ObjectRecord,
  pace: Pace,
  count: (n: number) => void,
): Promise<string | null> {
  const md5Etag = etagIsMd5(rec);
  const checksum = rec.checksum;
  if (rec.blob !== null) {
    const r = await verifyBlob(
      () => storage.openStored(bucket, rec),
      {
        label: "",
        size: rec.size,
        etag: md5Etag ? rec.etag : null,
        checksum: checksum && !checksum.value.includes("-") ? checksum : null,
      },
      pace,
      null,
    );
    count(r.bytes);
    return r.reason;
  }
  const parts: PartRef[] = await storage.objectParts(rec);
  // A full-object CRC of a multipart object covers every part's bytes in order.
  const whole = checksum?.type === "FULL_OBJECT" ? newChecksumHasher(checksum.algorithm) : null;
  let total = 0;
  for (const part of parts) {
    const r = await verifyBlob(
      () => storage.openStored(bucket, rec, part),
      {
        label: `part ${part.n}`,
        size: part.size,
        etag: md5Etag ? part.etag : null,
        checksum: checksum && part.checksum
          ? { algorithm: checksum.algorithm, value: part.checksum }
          : null,
      },
      pace,
      whole,
    );
    count(r.bytes);
    total += r.bytes;
    if (r.reason) return r.reason;
  }
  if (total !== rec.size) return `size ${total}, recorded ${rec.size}`;
  if (whole && checksum) {
    const got = toBase64(whole.digest());
    if (got !== checksum.value) return `${checksum.algorithm} ${got}, recorded ${checksum.value}`;
  }
  return null;
}
