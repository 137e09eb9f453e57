/**
 * The bucket notification document (Get/PutBucketNotificationConfiguration) for the console's
 * Notifications tab: islands cannot import the server's parser.
 */
import { esc, tagText } from "./access_xml.ts";

const S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/";

export type RuleKind = "Queue" | "Topic" | "CloudFunction";

/** One configuration as the tab edits it. */
export interface NotificationRule {
  kind: RuleKind;
  id: string;
  arn: string;
  events: string[];
  prefix: string;
  suffix: string;
}

/** The event types the tab offers (AWS accepts more; the server produces these). */
export const EVENT_CHOICES: readonly string[] = [
  "s3:ObjectCreated:*",
  "s3:ObjectCreated:Put",
  "s3:ObjectCreated:Post",
  "s3:ObjectCreated:Copy",
  "s3:ObjectCreated:CompleteMultipartUpload",
  "s3:ObjectRemoved:*",
  "s3:ObjectRemoved:Delete",
  "s3:ObjectRemoved:DeleteMarkerCreated",
  "s3:ObjectTagging:*",
  "s3:ObjectAcl:Put",
  "s3:LifecycleExpiration:*",
];

const ARN_ELEMENT: Record<RuleKind, string> = {
  Queue: "Queue",
  Topic: "Topic",
  CloudFunction: "CloudFunction",
};

/** The kind an ARN's service names (`arn:maxiofs:sqs:...` is a Queue). */
export function kindOfArn(arn: string): RuleKind {
  const service = arn.split(":")[2];
  return service === "sns" ? "Topic" : service === "lambda" ? "CloudFunction" : "Queue";
}

function blocks(xml: string, tag: string): string[] {
  return Array.from(xml.matchAll(new RegExp(`<${tag}(?:\\s[^>]*)?>([\\s\\S]*?)</${tag}>`, "g")))
    .map((m) => m[1]);
}

export function parseNotifications(xml: string): NotificationRule[] {
  const out: NotificationRule[] = [];
  for (const kind of ["Topic", "Queue", "CloudFunction"] as RuleKind[]) {
    for (const b of blocks(xml, `${kind}Configuration`)) {
      let prefix = "";
      let suffix = "";
      for (const fr of blocks(b, "FilterRule")) {
        const name = tagText(fr, "Name").toLowerCase();
        if (name === "prefix") prefix = tagText(fr, "Value");
        if (name === "suffix") suffix = tagText(fr, "Value");
      }
      out.push({
        kind,
        id: tagText(b, "Id"),
        arn: tagText(b, ARN_ELEMENT[kind]),
        events: blocks(b, "Event").map((e) => e.trim()),
        prefix,
        suffix,
      });
    }
  }
  return out;
}

export function notificationsXml(rules: NotificationRule[]): string {
  const body = rules.map((r) => {
    const el = `${r.kind}Configuration`;
    const filters = [
      r.prefix ? `<FilterRule><Name>prefix</Name><Value>${esc(r.prefix)}</Value></FilterRule>` : "",
      r.suffix ? `<FilterRule><Name>suffix</Name><Value>${esc(r.suffix)}</Value></FilterRule>` : "",
    ].join("");
    return `<${el}>${r.id ? `<Id>${esc(r.id)}</Id>` : ""}` +
      `<${ARN_ELEMENT[r.kind]}>${esc(r.arn)}</${ARN_ELEMENT[r.kind]}>` +
      r.events.map((e) => `<Event>${esc(e)}</Event>`).join("") +
      (filters ? `<Filter><S3Key>${filters}</S3Key></Filter>` : "") + `</${el}>`;
  }).join("");
  return `<NotificationConfiguration xmlns="${S3_NS}">${body}</NotificationConfiguration>`;
}
