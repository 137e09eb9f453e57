import { assertEquals } from "../../tests/_helpers/assert.ts";
import {
  kindOfArn,
  type NotificationRule,
  notificationsXml,
  parseNotifications,
} from "./notification_xml.ts";

Deno.test("the Notifications tab's document round-trips", () => {
  const rules: NotificationRule[] = [
    {
      kind: "Topic",
      id: "t&1",
      arn: "arn:maxiofs:sns:us-east-1:global:hook",
      events: ["s3:ObjectRemoved:*"],
      prefix: "",
      suffix: "",
    },
    {
      kind: "Queue",
      id: "q",
      arn: "arn:maxiofs:sqs:us-east-1:global:hook",
      events: ["s3:ObjectCreated:Put", "s3:ObjectCreated:Copy"],
      prefix: "in/<x>",
      suffix: ".jpg",
    },
  ];
  assertEquals(parseNotifications(notificationsXml(rules)), rules);
  assertEquals(kindOfArn("arn:maxiofs:lambda:r:global:x"), "CloudFunction");
  assertEquals(parseNotifications("<NotificationConfiguration/>"), []);
});
