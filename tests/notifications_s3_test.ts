/**
 * Event notifications through S3 (in-process server, injected clock, a webhook receiver on
 * loopback allowed by --allow-private-endpoints): the configuration's errors leave the previous
 * one in place; a receiver gets exactly the events its filters select, in AWS's format; a
 * receiver that is down loses nothing once it is back.
 */
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectTaggingCommand,
  type FilterRuleName,
  GetBucketNotificationConfigurationCommand,
  type NotificationConfiguration,
  PutBucketLifecycleConfigurationCommand,
  PutBucketNotificationConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { assert, assertEquals } from "./_helpers/assert.ts";
import { startApp } from "./_helpers/app.ts";
import { signedFetch } from "./_helpers/signed_fetch.ts";
import { startReceiver } from "./_helpers/webhook.ts";
import { TEST_ACCESS_KEY, TEST_SECRET_KEY, type TestServer } from "./_helpers/server.ts";

const ARN = "arn:maxiofs:sqs:us-east-1:global:hook";

/** Sends a raw notification document; its status and error code. */
async function putDocument(
  endpoint: string,
  bucket: string,
  xml: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; code: string | null; text: string }> {
  const srv = { endpoint, accessKey: TEST_ACCESS_KEY, secretKey: TEST_SECRET_KEY } as TestServer;
  const res = await signedFetch(srv, {
    method: "PUT",
    path: `/${bucket}`,
    query: { notification: "" },
    headers,
    body: xml,
  });
  const text = await res.text();
  return { status: res.status, code: /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? null, text };
}

const doc = (inner: string) =>
  `<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${inner}</NotificationConfiguration>`;

Deno.test("notifications: bad configurations get AWS's errors and keep the previous one", async () => {
  const t = await startApp({ args: ["--allow-private-endpoints"] });
  const { app, s3, endpoint } = t;
  const r = startReceiver();
  try {
    await s3.send(new CreateBucketCommand({ Bucket: "cfg" }));
    await s3.send(new CreateBucketCommand({ Bucket: "cfg2" }));
    // No configuration: GET answers an empty document.
    const empty = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: "cfg" }));
    assertEquals(empty.QueueConfigurations, undefined);
    // A destination that is not a registered target.
    const unknown = await putDocument(
      endpoint,
      "cfg",
      doc(
        `<QueueConfiguration><Queue>${ARN}</Queue><Event>s3:ObjectCreated:*</Event></QueueConfiguration>`,
      ),
    );
    assertEquals([unknown.status, unknown.code], [400, "InvalidArgument"]);
    assert(unknown.text.includes("Unable to validate the following destination configurations"));
    assert(unknown.text.includes(`<ArgumentName1>${ARN}</ArgumentName1>`), unknown.text);
    assert(
      unknown.text.includes(
        "<ArgumentValue1>The destination queue does not exist</ArgumentValue1>",
      ),
      unknown.text,
    );
    // Each destination AWS could not validate, numbered, in AWS's words per kind.
    const lambdaArn = "arn:maxiofs:lambda:us-east-1:global:nope";
    const several = await putDocument(
      endpoint,
      "cfg",
      doc(
        `<TopicConfiguration><Topic>arn:maxiofs:sns:us-east-1:global:nope</Topic><Event>s3:ObjectCreated:*</Event></TopicConfiguration>` +
          `<CloudFunctionConfiguration><CloudFunction>${lambdaArn}</CloudFunction><Event>s3:ObjectRemoved:*</Event></CloudFunctionConfiguration>`,
      ),
    );
    assertEquals([several.status, several.code], [400, "InvalidArgument"]);
    assert(
      several.text.includes(
        "<ArgumentName1>arn:maxiofs:sns:us-east-1:global:nope</ArgumentName1>" +
          "<ArgumentValue1>The destination topic does not exist</ArgumentValue1>",
      ),
      several.text,
    );
    assert(
      several.text.includes(
        `<ArgumentName2>${lambdaArn}, null</ArgumentName2>` +
          `<ArgumentValue2>Not authorized to invoke function [${lambdaArn}]</ArgumentValue2>`,
      ),
      several.text,
    );
    // An ARN that does not parse: AWS's message, with the element and the value sent.
    const unparsed = await putDocument(
      endpoint,
      "cfg",
      doc(
        `<QueueConfiguration><Queue>invalid-queue</Queue><Event>s3:ObjectCreated:*</Event></QueueConfiguration>`,
      ),
      { "x-amz-skip-destination-validation": "true" },
    );
    assertEquals([unparsed.status, unparsed.code], [400, "InvalidArgument"]);
    assert(unparsed.text.includes("<Message>The ARN could not be parsed</Message>"), unparsed.text);
    assert(
      unparsed.text.includes(
        "<ArgumentName>Queue</ArgumentName><ArgumentValue>invalid-queue</ArgumentValue>",
      ),
      unparsed.text,
    );

    await app.notifications.targets.create("", { name: "hook", url: r.url });
    await s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: "cfg",
        NotificationConfiguration: {
          QueueConfigurations: [{
            Id: "images",
            QueueArn: ARN,
            Events: ["s3:ObjectCreated:*"],
            Filter: { Key: { FilterRules: [{ Name: "prefix", Value: "img/" }] } },
          }],
        },
      }),
    );
    assertEquals((await app.storage.backend.getBucket("", "cfg")).feed, ["notifications"]);
    const bad = [
      ["not XML", "<NotificationConfiguration>", 400, "MalformedXML"],
      ["another root", "<Other/>", 400, "MalformedXML"],
      [
        "unknown event",
        doc(
          `<QueueConfiguration><Queue>${ARN}</Queue><Event>s3:ObjectCreated:Paste</Event></QueueConfiguration>`,
        ),
        400,
        "InvalidArgument",
      ],
      [
        "overlap",
        doc(
          `<QueueConfiguration><Queue>${ARN}</Queue><Event>s3:ObjectCreated:*</Event></QueueConfiguration>` +
            `<TopicConfiguration><Topic>arn:maxiofs:sns:us-east-1:global:hook</Topic><Event>s3:ObjectCreated:Put</Event></TopicConfiguration>`,
        ),
        400,
        "InvalidArgument",
      ],
      [
        "queue ARN in a topic configuration",
        doc(
          `<TopicConfiguration><Topic>${ARN}</Topic><Event>s3:ObjectCreated:Put</Event></TopicConfiguration>`,
        ),
        400,
        "InvalidArgument",
      ],
      [
        "another tenant's target",
        doc(
          `<QueueConfiguration><Queue>arn:maxiofs:sqs:us-east-1:t-x:hook</Queue><Event>s3:ObjectCreated:Put</Event></QueueConfiguration>`,
        ),
        400,
        "InvalidArgument",
      ],
    ] as const;
    for (const [what, xml, status, code] of bad) {
      const res = await putDocument(endpoint, "cfg", xml);
      assertEquals([res.status, res.code], [status, code], what);
    }
    // x-amz-skip-destination-validation: stored as AWS does (a target registered later works).
    const skipped = await putDocument(
      endpoint,
      "cfg2",
      doc(
        `<QueueConfiguration><Queue>arn:maxiofs:sqs:us-east-1:global:later</Queue><Event>s3:ObjectCreated:*</Event></QueueConfiguration>`,
      ),
      { "x-amz-skip-destination-validation": "true" },
    );
    assertEquals([skipped.status, skipped.code], [200, null], skipped.text);
    const kept = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: "cfg" }));
    // The rule name comes back as AWS returns it, `Prefix`, whatever the case sent (the SDK's
    // type lists the lower-case names clients send).
    assertEquals(kept.QueueConfigurations, [{
      Id: "images",
      QueueArn: ARN,
      Events: ["s3:ObjectCreated:*"],
      Filter: { Key: { FilterRules: [{ Name: "Prefix" as FilterRuleName, Value: "img/" }] } },
    }]);
    // An empty document removes the configuration, and the bucket stops following the feed.
    await s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: "cfg",
        NotificationConfiguration: {},
      }),
    );
    const gone = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: "cfg" }));
    assertEquals(gone.QueueConfigurations, undefined);
    assertEquals((await app.storage.backend.getBucket("", "cfg")).feed, undefined);
  } finally {
    await r.close();
    await t.stop();
  }
});

Deno.test("notifications: saving a configuration queues s3:TestEvent for each target it newly names", async () => {
  let now = Date.now();
  const t = await startApp({ args: ["--allow-private-endpoints"], clock: { now: () => now } });
  const { app, s3, endpoint } = t;
  // `hook` is down at first: the save answers at once, and its test message waits in the queue.
  const probe = startReceiver();
  const port = probe.port;
  await probe.close();
  const other = startReceiver();
  let hook = null;
  try {
    await app.notifications.targets.create("", {
      name: "hook",
      url: `http://127.0.0.1:${port}/events`,
    });
    await app.notifications.targets.create("", { name: "other", url: other.url });
    await s3.send(new CreateBucketCommand({ Bucket: "tests" }));
    const hookRules: NotificationConfiguration = {
      QueueConfigurations: [{ Id: "a", QueueArn: ARN, Events: ["s3:ObjectCreated:*"] }],
      TopicConfigurations: [{
        Id: "b",
        TopicArn: "arn:maxiofs:sns:us-east-1:global:hook",
        Events: ["s3:ObjectRemoved:*"],
      }],
    };
    const first = await s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: "tests",
        NotificationConfiguration: hookRules,
      }),
    );
    await app.notifications.deliverDue();
    // One test message for the target, however many rules (and ARN kinds) name it.
    assertEquals(app.notifications.depths(), [
      { targetNs: "", target: "hook", pending: 1, dead: 0 },
    ]);

    // Saved again with one more target: only the new one gets a test message.
    await s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: "tests",
        NotificationConfiguration: {
          ...hookRules,
          LambdaFunctionConfigurations: [{
            Id: "c",
            LambdaFunctionArn: "arn:maxiofs:lambda:us-east-1:global:other",
            Events: ["s3:ObjectTagging:*"],
          }],
        },
      }),
    );
    await app.notifications.deliverDue();
    assertEquals(other.got.map((g) => [g.body.Event, (g.body as { Bucket?: string }).Bucket]), [
      ["s3:TestEvent", "tests"],
    ]);
    assertEquals(app.notifications.depths(), [
      { targetNs: "", target: "hook", pending: 1, dead: 0 },
    ]);

    // x-amz-skip-destination-validation skips AWS's check, and with it the test message.
    await s3.send(new CreateBucketCommand({ Bucket: "skipped" }));
    const skipped = await putDocument(
      endpoint,
      "skipped",
      doc(
        `<QueueConfiguration><Queue>arn:maxiofs:sqs:us-east-1:global:other</Queue><Event>s3:ObjectCreated:*</Event></QueueConfiguration>`,
      ),
      { "x-amz-skip-destination-validation": "true" },
    );
    assertEquals(skipped.status, 200, skipped.text);
    await app.notifications.deliverDue();
    assertEquals(other.got.length, 1);

    // The receiver is back: the queued message arrives, retried as events are.
    hook = startReceiver({ port });
    now += 3600_000;
    await app.notifications.deliverDue();
    assertEquals(app.notifications.depths(), []);
    assertEquals(hook.got.length, 1);
    const msg = hook.got[0].body as Record<string, unknown>;
    assertEquals(Object.keys(msg), ["Service", "Event", "Time", "Bucket", "RequestId", "HostId"]);
    assertEquals([msg.Service, msg.Event, msg.Bucket], ["Amazon S3", "s3:TestEvent", "tests"]);
    assertEquals(msg.RequestId, first.$metadata.requestId);
    assert(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(String(msg.Time)), String(msg.Time));
    assertEquals(hook.got[0].headers.get("x-maxiofs-event"), "s3:TestEvent");
  } finally {
    await hook?.close();
    await other.close();
    await t.stop();
  }
});

Deno.test("notifications: the receiver gets exactly the events its filters select", async () => {
  const t = await startApp({ args: ["--allow-private-endpoints"] });
  const { app, s3 } = t;
  const r = startReceiver();
  try {
    await app.notifications.targets.create("", { name: "hook", url: r.url });
    await s3.send(new CreateBucketCommand({ Bucket: "events" }));
    await s3.send(
      new PutBucketVersioningCommand({
        Bucket: "events",
        VersioningConfiguration: { Status: "Enabled" },
      }),
    );
    await s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: "events",
        NotificationConfiguration: {
          QueueConfigurations: [{
            Id: "created-jpg",
            QueueArn: ARN,
            Events: ["s3:ObjectCreated:*"],
            Filter: {
              Key: {
                FilterRules: [{ Name: "prefix", Value: "in/" }, { Name: "suffix", Value: ".jpg" }],
              },
            },
          }],
          TopicConfigurations: [{
            Id: "removed",
            TopicArn: "arn:maxiofs:sns:us-east-1:global:hook",
            Events: ["s3:ObjectRemoved:*"],
            Filter: { Key: { FilterRules: [{ Name: "prefix", Value: "in/" }] } },
          }],
          LambdaFunctionConfigurations: [{
            Id: "tags",
            LambdaFunctionArn: "arn:maxiofs:lambda:us-east-1:global:hook",
            Events: ["s3:ObjectTagging:*"],
          }],
        },
      }),
    );
    const put = await s3.send(
      new PutObjectCommand({ Bucket: "events", Key: "in/a b.jpg", Body: "hello" }),
    );
    // Filtered out: another suffix, another prefix.
    await s3.send(new PutObjectCommand({ Bucket: "events", Key: "in/a.png", Body: "x" }));
    await s3.send(new PutObjectCommand({ Bucket: "events", Key: "out/a.jpg", Body: "x" }));
    await s3.send(
      new CopyObjectCommand({
        Bucket: "events",
        Key: "in/c.jpg",
        CopySource: "events/in/a%20b.jpg",
      }),
    );
    const up = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: "events", Key: "in/m.jpg" }),
    );
    const part = await s3.send(
      new UploadPartCommand({
        Bucket: "events",
        Key: "in/m.jpg",
        UploadId: up.UploadId,
        PartNumber: 1,
        Body: "part",
      }),
    );
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: "events",
        Key: "in/m.jpg",
        UploadId: up.UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    await s3.send(
      new PutObjectTaggingCommand({
        Bucket: "events",
        Key: "out/a.jpg",
        Tagging: { TagSet: [{ Key: "k", Value: "v" }] },
      }),
    );
    await s3.send(new DeleteObjectTaggingCommand({ Bucket: "events", Key: "out/a.jpg" }));
    const marker = await s3.send(new DeleteObjectCommand({ Bucket: "events", Key: "in/c.jpg" }));
    await s3.send(
      new DeleteObjectCommand({ Bucket: "events", Key: "in/a b.jpg", VersionId: put.VersionId }),
    );
    await s3.send(new DeleteObjectCommand({ Bucket: "events", Key: "out/a.jpg" }));

    // Everything recorded is handed over and delivered: the receiver has all it will get.
    await app.feed.drain();
    await app.notifications.deliverDue();
    assertEquals(app.notifications.depths(), []);
    const records = r.records();
    const seen = records.map((e) => `${e.eventName} ${e.s3.object.key} ${e.s3.configurationId}`);
    assertEquals(seen.sort(), [
      "ObjectCreated:CompleteMultipartUpload in/m.jpg created-jpg",
      "ObjectCreated:Copy in/c.jpg created-jpg",
      "ObjectCreated:Put in/a+b.jpg created-jpg",
      "ObjectRemoved:Delete in/a+b.jpg removed",
      "ObjectRemoved:DeleteMarkerCreated in/c.jpg removed",
      "ObjectTagging:Delete out/a.jpg tags",
      "ObjectTagging:Put out/a.jpg tags",
    ]);
    const created = records.find((e) => e.eventName === "ObjectCreated:Put")!;
    assertEquals(created.eventVersion, "2.1");
    assertEquals(created.s3.bucket.name, "events");
    assertEquals(created.s3.object.size, 5);
    assertEquals(created.s3.object.eTag, "5d41402abc4b2a76b9719d911017c592");
    assertEquals(created.s3.object.versionId, put.VersionId);
    assertEquals(created.requestParameters.sourceIPAddress, "127.0.0.1");
    assert(created.responseElements["x-amz-request-id"]);
    const markerEvent = records.find((e) => e.eventName === "ObjectRemoved:DeleteMarkerCreated")!;
    assertEquals(markerEvent.s3.object.versionId, marker.VersionId);
    assertEquals(r.got.every((g) => g.headers.get("content-type") === "application/json"), true);
  } finally {
    await r.close();
    await t.stop();
  }
});

Deno.test("notifications: a receiver that is down loses nothing once it is back", async () => {
  let now = Date.now();
  const t = await startApp({ args: ["--allow-private-endpoints"], clock: { now: () => now } });
  const { app, s3 } = t;
  // A port nothing listens on: connections are refused while the receiver is down.
  const probe = startReceiver();
  const port = probe.port;
  await probe.close();
  let r = null;
  try {
    await app.notifications.targets.create("", {
      name: "hook",
      url: `http://127.0.0.1:${port}/events`,
    });
    await s3.send(new CreateBucketCommand({ Bucket: "down" }));
    await s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: "down",
        NotificationConfiguration: {
          QueueConfigurations: [{ Id: "all", QueueArn: ARN, Events: ["s3:ObjectCreated:*"] }],
        },
      }),
    );
    const keys = Array.from({ length: 12 }, (_, i) => `k${i}`);
    for (const Key of keys) await s3.send(new PutObjectCommand({ Bucket: "down", Key, Body: Key }));
    await app.feed.drain();
    await app.notifications.deliverDue();
    // Every event waits, postponed, none delivered, none dead (and the s3:TestEvent of saving).
    assertEquals(app.notifications.depths(), [
      { targetNs: "", target: "hook", pending: keys.length + 1, dead: 0 },
    ]);
    r = startReceiver({ port });
    now += 3600_000;
    await app.notifications.deliverDue();
    assertEquals(app.notifications.depths(), []);
    assertEquals(r.records().map((e) => e.s3.object.key).sort(), [...keys].sort());
    assertEquals(r.got.filter((g) => g.body.Event === "s3:TestEvent").length, 1);
  } finally {
    await r?.close();
    await t.stop();
  }
});

Deno.test("notifications: lifecycle expirations are events of S3 itself", async () => {
  let now = Date.now();
  const t = await startApp({ args: ["--allow-private-endpoints"], clock: { now: () => now } });
  const { app, s3 } = t;
  const r = startReceiver();
  try {
    await app.notifications.targets.create("", { name: "hook", url: r.url });
    await s3.send(new CreateBucketCommand({ Bucket: "expiring" }));
    await s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: "expiring",
        NotificationConfiguration: {
          QueueConfigurations: [{
            Id: "expired",
            QueueArn: ARN,
            Events: ["s3:LifecycleExpiration:*"],
          }],
        },
      }),
    );
    await s3.send(new PutObjectCommand({ Bucket: "expiring", Key: "old", Body: "x" }));
    await s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: "expiring",
        LifecycleConfiguration: {
          Rules: [{ ID: "x", Status: "Enabled", Filter: { Prefix: "" }, Expiration: { Days: 1 } }],
        },
      }),
    );
    now += 3 * 86_400_000;
    await app.lifecycle.runOnce(now);
    await app.feed.drain();
    await app.notifications.deliverDue();
    const records = r.records();
    assertEquals(records.map((e) => `${e.eventName} ${e.s3.object.key}`), [
      "LifecycleExpiration:Delete old",
    ]);
    assertEquals(records[0].userIdentity.principalId, "s3.amazonaws.com");
  } finally {
    await r.close();
    await t.stop();
  }
});
