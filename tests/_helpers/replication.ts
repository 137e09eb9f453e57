/**
 * Replication between two MaxIOFS servers started by a test: a rules document, a versioned
 * bucket, a destination registered through the admin CLI, and waiting for the worker.
 */
import {
  CreateBucketCommand,
  PutBucketVersioningCommand,
  type ReplicationConfiguration,
  type S3Client,
} from "@aws-sdk/client-s3";
import { assertEquals } from "./assert.ts";
import { ADMIN_PASSWORD, ADMIN_USER, type IamServer } from "../iam_fixture.ts";
import { cli } from "./admin_cli.ts";

export function rules(dest: string, deleteMarkers = true): ReplicationConfiguration {
  return {
    Role: "arn:aws:iam::123456789012:role/ignored",
    Rules: [{
      ID: "all",
      Priority: 1,
      Status: "Enabled",
      Filter: { Prefix: "" },
      DeleteMarkerReplication: { Status: deleteMarkers ? "Enabled" : "Disabled" },
      Destination: { Bucket: `arn:aws:s3:::${dest}` },
    }],
  };
}

export async function versionedBucket(s3: S3Client, name: string) {
  await s3.send(new CreateBucketCommand({ Bucket: name }));
  await s3.send(
    new PutBucketVersioningCommand({
      Bucket: name,
      VersioningConfiguration: { Status: "Enabled" },
    }),
  );
}

/** Registers a destination on `on` through the admin CLI (online). */
export async function addDestination(on: IamServer, name: string, to: IamServer, bucket: string) {
  const r = await cli(
    "replication",
    "destination-set",
    name,
    "--endpoint",
    to.srv.endpoint,
    "--bucket",
    bucket,
    "--access-key",
    to.srv.accessKey,
    "--secret-key",
    to.srv.secretKey,
    "--url",
    on.srv.consoleUrl,
    "--user",
    ADMIN_USER,
    "--password",
    ADMIN_PASSWORD,
  );
  assertEquals(r.code, 0, r.stderr);
}

/** Waits until `probe` answers true (the worker runs on its own); fails after many tries. */
export async function eventually(what: string, probe: () => Promise<boolean>) {
  for (let i = 0; i < 600; i++) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`never happened: ${what}`);
}

export const status = (p: Promise<unknown>) =>
  p.then(() => 200, (e) =>
    (e as { $metadata?: { httpStatusCode?: number } }).$metadata
      ?.httpStatusCode ?? 0);
