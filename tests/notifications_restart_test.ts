/**
 * Event notifications across a crash (the real server as a child process): events queued for a
 * target that holds its requests unanswered are delivered after SIGKILL and a restart. Targets
 * are registered with the admin CLI (online), tested and listed through the console API; who may
 * see and change a tenant's targets.
 */
import {
  CreateBucketCommand,
  PutBucketNotificationConfigurationCommand,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { assert, assertEquals } from "./_helpers/assert.ts";
import { cli } from "./_helpers/admin_cli.ts";
import { startReceiver } from "./_helpers/webhook.ts";
import { startServer } from "./_helpers/server.ts";
import { ADMIN_PASSWORD, ADMIN_USER, makeTenant, startIamServer } from "./iam_fixture.ts";

const ARGS = ["--allow-private-endpoints"];

Deno.test("notifications: events queued when the server is killed are delivered after restart", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "maxiofs-notify-crash-" });
  const hanging = startReceiver({ hang: true });
  const port = hanging.port;
  let receiver = null;
  let s = await startIamServer({}, { dataDir, args: ARGS });
  try {
    const online = () => [
      "--url",
      s.srv.consoleUrl,
      "--user",
      ADMIN_USER,
      "--password",
      ADMIN_PASSWORD,
    ];
    const created = await cli(
      "targets",
      "create",
      "hook",
      "--target-url",
      hanging.url,
      ...online(),
    );
    assertEquals(created.code, 0, created.stderr);
    const arn = (created.json as { arn: string }).arn;
    assertEquals(arn, "arn:maxiofs:sqs:us-east-1:global:hook");
    const s3 = s.srv.client();
    await s3.send(new CreateBucketCommand({ Bucket: "crash" }));
    await s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: "crash",
        NotificationConfiguration: {
          QueueConfigurations: [{ Id: "all", QueueArn: arn, Events: ["s3:ObjectCreated:*"] }],
        },
      }),
    );
    const keys = ["a", "b", "c", "d", "e"];
    for (const Key of keys) {
      await s3.send(new PutObjectCommand({ Bucket: "crash", Key, Body: Key }));
    }
    // A delivery is in flight and unanswered: the events are queued, none delivered.
    await hanging.arrived(1);
    s3.destroy();
    await s.srv.kill9();
    await hanging.close();
    receiver = startReceiver({ port });
    s = await startIamServer({}, { dataDir, args: ARGS });
    // The events, and the s3:TestEvent queued when the configuration was saved.
    await receiver.arrived(keys.length + 1);
    assertEquals(receiver.records().map((e) => e.s3.object.key).sort(), keys);
    assertEquals(receiver.got.filter((g) => g.body.Event === "s3:TestEvent").length, 1);

    const list = await cli("targets", "list", ...online());
    assertEquals(list.code, 0, list.stderr);
    assertEquals((list.json as { name: string }[]).map((t) => t.name), ["hook"]);
    const test = await s.api("/notifications/targets/hook/test", { token: s.adminToken, body: {} });
    assertEquals([test.status, test.body.ok], [200, true], JSON.stringify(test.body));
    await receiver.arrived(keys.length + 2);
    assertEquals(receiver.got.at(-1)!.body.Event, "s3:TestEvent");
    const dead = await s.api("/notifications/dead-letters", { token: s.adminToken });
    assertEquals([dead.status, dead.body.items], [200, []]);
    const retried = await s.api("/notifications/dead-letters/retry", {
      token: s.adminToken,
      body: {},
    });
    assertEquals([retried.status, retried.body.retried], [200, 0]);
  } finally {
    await receiver?.close();
    await hanging.close().catch(() => {});
    await s.stop();
  }
});

Deno.test("console API: a tenant's webhook targets, by role", async () => {
  const s = await startIamServer({}, { args: ARGS });
  try {
    const t = await makeTenant(s, "hooks");
    const other = await makeTenant(s, "other");
    const made = await s.api("/notifications/targets", {
      token: t.admin.token,
      body: {
        name: "mine",
        url: "http://127.0.0.1:9/x",
        authHeader: "Authorization",
        authValue: "Bearer z",
      },
    });
    assertEquals(made.status, 201, JSON.stringify(made.body));
    assertEquals(made.body.arn, `arn:maxiofs:sqs:us-east-1:${t.tenantId}:mine`);
    assertEquals(made.body.authHeader, "Authorization");
    assert(!JSON.stringify(made.body).includes("Bearer z"), "the header value is never returned");
    // A tenant user sees the list but changes nothing; another tenant sees none of it.
    const seen = await s.api("/notifications/targets", { token: t.user.token });
    assertEquals(seen.body.items.map((x: { name: string }) => x.name), ["mine"]);
    const refused = await s.api("/notifications/targets", {
      token: t.user.token,
      body: { name: "x", url: "http://127.0.0.1:9/" },
    });
    assertEquals(refused.status, 403);
    const foreign = await s.api("/notifications/targets", { token: other.admin.token });
    assertEquals(foreign.body.items, []);
    const notTheirs = await s.api("/notifications/targets/mine", {
      method: "DELETE",
      token: other.admin.token,
    });
    assertEquals(notTheirs.status, 404);
    // The global admin sees every namespace; bad input is refused.
    const all = await s.api("/notifications/targets", { token: s.adminToken });
    assertEquals(all.body.items.map((x: { ns: string }) => x.ns), [t.tenantId]);
    for (
      const body of [{ name: "bad name", url: "http://127.0.0.1/" }, {
        name: "ok",
        url: "gopher://x",
      }]
    ) {
      const bad = await s.api("/notifications/targets", { token: s.adminToken, body });
      assertEquals(
        [bad.status, bad.body.error.code],
        [400, "InvalidRequest"],
        JSON.stringify(body),
      );
    }
    const dup = await s.api("/notifications/targets", {
      token: t.admin.token,
      body: { name: "mine", url: "http://127.0.0.1:9/" },
    });
    assertEquals(dup.status, 409);
    const del = await s.api("/notifications/targets/mine", {
      method: "DELETE",
      token: t.admin.token,
    });
    assertEquals(del.status, 204);
  } finally {
    await s.stop();
  }
});

Deno.test("admin CLI: webhook targets and dead letters offline", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "maxiofs-notify-cli-" });
  try {
    const srv = await startServer({ dataDir });
    await srv.stop({ keepData: true });
    const offline = ["--data-dir", dataDir];
    // Loopback needs the option, offline as online.
    const refused = await cli(
      "targets",
      "create",
      "t1",
      "--target-url",
      "http://127.0.0.1:9/",
      ...offline,
    );
    assertEquals(refused.code, 1);
    assert(refused.stderr.includes("--allow-private-endpoints"), refused.stderr);
    const made = await cli(
      "targets",
      "create",
      "t1",
      "--target-url",
      "http://127.0.0.1:9/",
      "--secret",
      "s",
      ...offline,
      "--allow-private-endpoints=true",
    );
    assertEquals(made.code, 0, made.stderr);
    assertEquals((made.json as { signed: boolean }).signed, true);
    const list = await cli("targets", "list", ...offline);
    assertEquals((list.json as { arn: string }[]).map((t) => t.arn), [
      "arn:maxiofs:sqs:us-east-1:global:t1",
    ]);
    const dead = await cli("notifications", "dead-letters", ...offline);
    assertEquals([dead.code, dead.json], [0, []]);
    const retry = await cli("notifications", "retry", ...offline);
    assertEquals([retry.code, retry.json], [0, { retried: 0 }]);
    const badId = await cli("notifications", "retry", "x", ...offline);
    assertEquals(badId.code, 1);
    const del = await cli("targets", "delete", "t1", ...offline);
    assertEquals(del.code, 0, del.stderr);
    const again = await cli("targets", "delete", "t1", ...offline);
    assertEquals(again.code, 1);
    assert(again.stderr.includes("NotFound"), again.stderr);
    const unknown = await cli("targets", "explode", ...offline);
    assertEquals(unknown.code, 2);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
