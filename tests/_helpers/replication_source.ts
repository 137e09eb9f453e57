/**
 * A replication source opened in-process for the worker tests: temp storage with a clock the test
 * moves, a `Replication` service on an in-memory database, a destination registered on a second
 * MaxIOFS (started by the test), and changes built as the feed would hand them to the follower.
 */
import { CreateBucketCommand, GetObjectCommand } from "@aws-sdk/client-s3";
import { bodyBytes, type TestServer } from "./server.ts";
import { openTempStorage } from "./storage.ts";
import { openDb } from "../../server/db/mod.ts";
import { SecretBox } from "../../server/iam/secrets.ts";
import { Replication } from "../../server/features/replication/service.ts";
import { parseReplication } from "../../server/features/replication/config.ts";
import { parseXml } from "../../server/s3/xml.ts";
import type { Backend } from "../../server/storage/mod.ts";
import type {
  BucketRecord,
  ObjectChange,
  ObjectRecord,
  PutObjectInput,
} from "../../server/storage/types.ts";

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/** One rule "r1" replicating every key to `dest` (its Status `status`). */
export function rulesDoc(dest: string, dm = "Enabled", status = "Enabled") {
  return parseReplication(parseXml(
    `<ReplicationConfiguration><Rule><ID>r1</ID><Priority>1</Priority><Filter><Prefix></Prefix>` +
      `</Filter><Status>${status}</Status><DeleteMarkerReplication><Status>${dm}</Status>` +
      `</DeleteMarkerReplication><Destination><Bucket>arn:aws:s3:::${dest}</Bucket>` +
      `</Destination></Rule></ReplicationConfiguration>`,
  ));
}

export function put(
  storage: Backend,
  b: BucketRecord,
  key: string,
  data: Uint8Array | string,
  extra: Partial<PutObjectInput> = {},
): Promise<ObjectRecord> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  return storage.putObject(b, {
    key,
    body: new Blob([bytes as Uint8Array<ArrayBuffer>]).stream(),
    contentLength: bytes.length,
    content: {},
    meta: {},
    ownerId: "owner-1",
    ...extra,
  });
}

let seq = 0;
export function change(
  b: BucketRecord,
  rec: ObjectRecord,
  event: ObjectChange["event"] = "ObjectCreated:Put",
  extra: Partial<ObjectChange> = {},
): ObjectChange {
  return {
    seq: String(++seq),
    time: 0,
    bucketId: b.id,
    ns: b.ns,
    bucket: b.name,
    key: rec.key,
    versionId: rec.versionId,
    size: rec.size,
    etag: rec.etag,
    event,
    ...extra,
  };
}

export async function setup(
  dest: TestServer,
  name: string,
  opts: { secret?: string; conflict?: "source" | "newer"; now?: number; lock?: boolean } = {},
) {
  let now = opts.now ?? 1_800_000_000_000;
  const clock = { now: () => now };
  const src = await openTempStorage("maxiofs-repl-src-", { clock });
  const storage: Backend = src.storage.backend;
  const db = openDb(":memory:");
  const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
  const repl = new Replication({
    db,
    box: new SecretBox(key),
    storage,
    clock,
    log: quiet,
    outbound: { allowPrivate: true },
    concurrency: 4,
    maxAttempts: 3,
    backoffBaseMs: 1000,
    backoffMaxMs: 60_000,
  });
  await dest.client().send(
    new CreateBucketCommand({ Bucket: name, ObjectLockEnabledForBucket: opts.lock }),
  );
  await repl.destinations.put("", {
    name: "dr",
    endpoint: dest.endpoint,
    bucket: name,
    accessKey: dest.accessKey,
    secretKey: opts.secret ?? dest.secretKey,
    conflict: opts.conflict,
  });
  const created = await storage.createBucket({
    ns: "",
    name: "src",
    ownerId: "owner-1",
    region: "us-east-1",
  });
  const b = await storage.updateBucket(created, (x) => ({ ...x, versioning: "Enabled" }));
  await repl.configure(b, rulesDoc("dr"));
  const followed = await storage.getBucket("", "src");
  return {
    repl,
    b: followed,
    storage,
    advance: (ms: number) => now += ms,
    close: async () => {
      await repl.stop();
      db.close();
      await src.close();
    },
  };
}

export async function destBytes(dest: TestServer, bucketName: string, key: string) {
  const r = await dest.client().send(new GetObjectCommand({ Bucket: bucketName, Key: key }));
  return { bytes: await bodyBytes(r.Body), head: r };
}
