import { assertEquals } from "../../../tests/_helpers/assert.ts";
import type { BucketRecord, ObjectRecord } from "../../storage/types.ts";
import type { InventoryConfiguration } from "./config.ts";
import {
  csvLine,
  fileSchema,
  hivePartition,
  jsonLine,
  manifestJson,
  reportBase,
  reportFolder,
  rowValues,
} from "./report.ts";

const bucket: BucketRecord = {
  v: 1,
  id: "b1",
  name: "src",
  ns: "",
  created: 0,
  ownerId: "u1",
  region: "us-east-1",
  versioning: "Enabled",
  objectLock: true,
};

function cfg(over: Partial<InventoryConfiguration> = {}): InventoryConfiguration {
  return {
    id: "r1",
    enabled: true,
    destination: { bucketArn: "arn:aws:s3:::dst", bucket: "dst", format: "CSV" },
    includedVersions: "All",
    optionalFields: [],
    frequency: "Daily",
    ...over,
  };
}

const rec: ObjectRecord = {
  v: 1,
  key: 'a "quoted" key/é',
  versionId: "v1",
  blob: "x",
  size: 12,
  etag: '"0123456789abcdef0123456789abcdef"',
  lastModified: Date.UTC(2026, 0, 2, 3, 4, 5, 6),
  content: {},
  meta: {},
  storageClass: "STANDARD",
  ownerId: "u1",
  retention: { mode: "GOVERNANCE", until: Date.UTC(2027, 0, 1) },
  checksum: { algorithm: "CRC32", value: "AAAAAA==", type: "FULL_OBJECT" },
};

Deno.test("report paths follow AWS's layout", () => {
  assertEquals(reportBase(cfg(), "src"), "src/r1/");
  assertEquals(
    reportBase(cfg({ destination: { ...cfg().destination, prefix: "p" } }), "src"),
    "p/src/r1/",
  );
  assertEquals(
    reportBase(cfg({ destination: { ...cfg().destination, prefix: "p/" } }), "src"),
    "p/src/r1/",
  );
  const t = Date.UTC(2026, 11, 7, 9, 5, 59);
  assertEquals(reportFolder(t), "2026-12-07T09-05Z");
  assertEquals(hivePartition(t), "dt=2026-12-07-09-05");
});

Deno.test("columns come in AWS's order, the optional ones after the fixed ones", () => {
  assertEquals(fileSchema(cfg({ includedVersions: "Current", optionalFields: ["Size"] })), [
    "Bucket",
    "Key",
    "Size",
  ]);
  assertEquals(fileSchema(cfg()), ["Bucket", "Key", "VersionId", "IsLatest", "IsDeleteMarker"]);
});

Deno.test("CSV rows: every value quoted, quotes doubled, the key URL-encoded", () => {
  const c = cfg({
    optionalFields: [
      "Size",
      "LastModifiedDate",
      "ETag",
      "StorageClass",
      "IsMultipartUploaded",
      "EncryptionStatus",
      "ObjectLockRetainUntilDate",
      "ObjectLockMode",
      "ObjectLockLegalHoldStatus",
      "ChecksumAlgorithm",
      "ObjectOwner",
    ],
  });
  const values = rowValues(c, rec, true, { bucket, lifecycle: null });
  assertEquals(
    csvLine(values),
    '"src","a%20%22quoted%22%20key/%C3%A9","v1","true","false","12","2026-01-02T03:04:05.006Z",' +
      '"0123456789abcdef0123456789abcdef","STANDARD","false","NOT-SSE","2027-01-01T00:00:00.000Z",' +
      '"GOVERNANCE","OFF","CRC32","u1"\n',
  );
  const marker = rowValues(
    cfg({ optionalFields: ["Size", "ETag"] }),
    { ...rec, versionId: "null", deleteMarker: true },
    false,
    { bucket, lifecycle: null },
  );
  assertEquals(marker, ["src", rec.key, "", "false", "true", "", ""]);
});

Deno.test("JSON rows name the columns and keep the key as stored", () => {
  const c = cfg({ includedVersions: "Current", optionalFields: ["Size"] });
  const values = rowValues(c, rec, true, { bucket, lifecycle: null });
  assertEquals(
    JSON.parse(jsonLine(fileSchema(c), values)),
    { Bucket: "src", Key: rec.key, Size: "12" },
  );
});

Deno.test("the manifest carries AWS's fields", () => {
  const m = JSON.parse(manifestJson({
    sourceBucket: "src",
    destinationArn: "arn:aws:s3:::dst",
    created: 1765098000000,
    format: "CSV",
    schema: ["Bucket", "Key", "Size"],
    files: [{ key: "src/r1/data/x.csv.gz", size: 10, MD5checksum: "ab" }],
  }));
  assertEquals(m, {
    sourceBucket: "src",
    destinationBucket: "arn:aws:s3:::dst",
    version: "2016-11-30",
    creationTimestamp: "1765098000000",
    fileFormat: "CSV",
    fileSchema: "Bucket, Key, Size",
    files: [{ key: "src/r1/data/x.csv.gz", size: 10, MD5checksum: "ab" }],
  });
});
