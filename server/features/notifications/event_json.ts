/**
 * The event message S3 sends to a destination (event structure version 2.1): one `Records[]`
 * entry per change, fields and their encodings as AWS writes them.
 */
import type { Delivery, QueuedChange } from "./queue.ts";

/** The delivery queue's event name of test messages. */
export const TEST_EVENT = "s3:TestEvent";

/** What the message says about the bucket and the server besides the change itself. */
export interface EventContext {
  region: string;
  /** The configuration (rule) Id that matched. */
  configurationId: string;
  /** The bucket owner's principal id. */
  ownerId: string;
}

export interface EventRecord {
  eventVersion: "2.1";
  eventSource: "aws:s3";
  awsRegion: string;
  eventTime: string;
  eventName: string;
  userIdentity: { principalId: string };
  requestParameters: { sourceIPAddress: string };
  responseElements: { "x-amz-request-id": string; "x-amz-id-2": string };
  s3: {
    s3SchemaVersion: "1.0";
    configurationId: string;
    bucket: { name: string; ownerIdentity: { principalId: string }; arn: string };
    object: {
      key: string;
      size?: number;
      eTag?: string;
      versionId?: string;
      sequencer: string;
    };
  };
}

export interface EventMessage {
  Records: EventRecord[];
}

/**
 * The key as S3 writes it in events: URL-encoded as a form value (a space is `+`), with `/`
 * left as is.
 */
export function encodeEventKey(key: string): string {
  return encodeURIComponent(key).replace(/%20/g, "+").replace(/%2F/g, "/");
}

/**
 * AWS's `sequencer`: a hexadecimal string that orders the events of one key (compare as strings
 * of equal length). The feed position is that order here, written as 16 hex digits.
 */
export function sequencerOf(seq: string): string {
  return BigInt(seq).toString(16).toUpperCase().padStart(16, "0");
}

/** Who caused the change, as events name them (lifecycle: S3 itself, as AWS writes). */
function principalOf(change: QueuedChange): string {
  if (change.principalId) return change.principalId;
  return change.event.startsWith("LifecycleExpiration:") ? "s3.amazonaws.com" : "anonymous";
}

/** The event message of one change for one matching configuration. */
export function eventMessage(change: QueuedChange, ctx: EventContext): EventMessage {
  const created = change.event.startsWith("ObjectCreated:");
  const object: EventRecord["s3"]["object"] = {
    key: encodeEventKey(change.key),
    size: created ? change.size : undefined,
    eTag: created && change.etag !== undefined ? change.etag.replace(/^"|"$/g, "") : undefined,
    // Unversioned buckets' objects have no version id in events ("null" is not shown).
    versionId: change.versionId !== null && change.versionId !== "null"
      ? change.versionId
      : undefined,
    sequencer: sequencerOf(change.seq),
  };
  const requestId = change.requestId ?? "";
  return {
    Records: [{
      eventVersion: "2.1",
      eventSource: "aws:s3",
      awsRegion: ctx.region,
      eventTime: new Date(change.time).toISOString(),
      eventName: change.event,
      userIdentity: { principalId: principalOf(change) },
      requestParameters: { sourceIPAddress: change.sourceIp ?? "" },
      responseElements: { "x-amz-request-id": requestId, "x-amz-id-2": requestId },
      s3: {
        s3SchemaVersion: "1.0",
        configurationId: ctx.configurationId,
        bucket: {
          name: change.bucket,
          ownerIdentity: { principalId: ctx.ownerId },
          arn: `arn:aws:s3:::${change.bucket}`,
        },
        object,
      },
    }],
  };
}

/** AWS's `s3:TestEvent` message: not a `Records[]` message, a single object. */
export interface TestEventMessage {
  Service: "Amazon S3";
  Event: "s3:TestEvent";
  Time: string;
  Bucket: string;
  RequestId: string;
  HostId: string;
}

/**
 * The message S3 sends a destination when a configuration naming it is saved. `Service` is
 * AWS's own value, which receivers test to tell the message from events.
 */
export function testEventMessage(
  opts: { bucket: string; time: number; requestId: string },
): TestEventMessage {
  return {
    Service: "Amazon S3",
    Event: "s3:TestEvent",
    Time: new Date(opts.time).toISOString(),
    Bucket: opts.bucket,
    RequestId: opts.requestId,
    // The host id is the request id here, as in x-amz-id-2.
    HostId: opts.requestId,
  };
}

/**
 * The body POSTed for a queued delivery: its change's event message (or the save's test
 * message), built now from the row; a row queued before rows held the change alone has its
 * message already.
 */
export function deliveryBody(d: Delivery, region: string): string {
  if (d.payload !== null) return d.payload;
  const c = d.change;
  if (c.event === TEST_EVENT) {
    return JSON.stringify(
      testEventMessage({ bucket: c.bucket, time: c.time, requestId: c.requestId ?? "" }),
    );
  }
  return JSON.stringify(
    eventMessage(c, { region, configurationId: d.configId, ownerId: d.ownerId }),
  );
}
