import { assertEquals } from "../../../tests/_helpers/assert.ts";
import type { ObjectChange } from "../../storage/types.ts";
import { encodeEventKey, eventMessage, sequencerOf } from "./event_json.ts";

const change = (over: Partial<ObjectChange>): ObjectChange => ({
  seq: "42",
  time: Date.UTC(2026, 11, 7, 19, 0, 0, 123),
  bucketId: "bid",
  ns: "",
  bucket: "photos",
  key: "a b/c+d.jpg",
  versionId: "null",
  event: "ObjectCreated:Put",
  principalId: "AIDAUSER",
  sourceIp: "192.0.2.7",
  requestId: "REQ1",
  size: 5,
  etag: '"5d41402abc4b2a76b9719d911017c592"',
  ...over,
});

Deno.test("the event message of a create is AWS's 2.1 record", () => {
  const msg = eventMessage(change({}), {
    region: "us-east-1",
    configurationId: "cfg1",
    ownerId: "OWNER",
  });
  assertEquals(JSON.parse(JSON.stringify(msg)), {
    Records: [{
      eventVersion: "2.1",
      eventSource: "aws:s3",
      awsRegion: "us-east-1",
      eventTime: "2026-12-07T19:00:00.123Z",
      eventName: "ObjectCreated:Put",
      userIdentity: { principalId: "AIDAUSER" },
      requestParameters: { sourceIPAddress: "192.0.2.7" },
      responseElements: { "x-amz-request-id": "REQ1", "x-amz-id-2": "REQ1" },
      s3: {
        s3SchemaVersion: "1.0",
        configurationId: "cfg1",
        bucket: {
          name: "photos",
          ownerIdentity: { principalId: "OWNER" },
          arn: "arn:aws:s3:::photos",
        },
        // The key URL-encoded (space as +), the ETag unquoted, no "null" version.
        object: {
          key: "a+b/c%2Bd.jpg",
          size: 5,
          eTag: "5d41402abc4b2a76b9719d911017c592",
          sequencer: "000000000000002A",
        },
      },
    }],
  });
});

Deno.test("removals carry no size or ETag; versions and markers their id; lifecycle is S3's", () => {
  const del = eventMessage(
    change({
      event: "ObjectRemoved:DeleteMarkerCreated",
      versionId: "v123",
      size: undefined,
      etag: undefined,
      deleteMarker: true,
    }),
    { region: "r", configurationId: "c", ownerId: "o" },
  ).Records[0];
  assertEquals(JSON.parse(JSON.stringify(del.s3.object)), {
    key: "a+b/c%2Bd.jpg",
    versionId: "v123",
    sequencer: "000000000000002A",
  });
  const expired = eventMessage(
    change({ event: "LifecycleExpiration:Delete", principalId: undefined, sourceIp: undefined }),
    { region: "r", configurationId: "c", ownerId: "o" },
  ).Records[0];
  assertEquals(expired.userIdentity.principalId, "s3.amazonaws.com");
});

Deno.test("sequencers order as strings the way seqs order as numbers", () => {
  assertEquals(sequencerOf("9") < sequencerOf("10"), true);
  assertEquals(sequencerOf("18446744073709551615"), "FFFFFFFFFFFFFFFF");
  assertEquals(encodeEventKey("dir/é ?&=.txt"), "dir/%C3%A9+%3F%26%3D.txt");
});
