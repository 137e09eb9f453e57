import { assert, assertEquals } from "../../../tests/_helpers/assert.ts";
import { parseXmlDocument } from "../../s3/xml.ts";
import { buildXml } from "../../s3/xml.ts";
import { S3Error } from "../../s3/errors.ts";
import {
  eventMatches,
  matchingRules,
  type NotificationConfig,
  notificationXml,
  parseNotificationConfiguration,
} from "./config.ts";

const ARN = "arn:maxiofs:sqs:us-east-1:global:hook";
const parseDoc = (doc: string) => {
  let n = 0;
  return parseNotificationConfiguration(
    parseXmlDocument(doc, "NotificationConfiguration"),
    () => `generated-${++n}`,
  );
};
const parse = (body: string) =>
  parseDoc(`<NotificationConfiguration>${body}</NotificationConfiguration>`);

function queue(events: string[], opts: { id?: string; prefix?: string; suffix?: string } = {}) {
  const rules = [
    opts.prefix !== undefined
      ? `<FilterRule><Name>prefix</Name><Value>${opts.prefix}</Value></FilterRule>`
      : "",
    opts.suffix !== undefined
      ? `<FilterRule><Name>suffix</Name><Value>${opts.suffix}</Value></FilterRule>`
      : "",
  ].join("");
  return `<QueueConfiguration>${opts.id ? `<Id>${opts.id}</Id>` : ""}<Queue>${ARN}</Queue>${
    events.map((e) => `<Event>${e}</Event>`).join("")
  }${rules ? `<Filter><S3Key>${rules}</S3Key></Filter>` : ""}</QueueConfiguration>`;
}

function errorOf(body: string): string {
  try {
    parse(body);
  } catch (e) {
    if (e instanceof S3Error) return `${e.code}: ${e.message}`;
    throw e;
  }
  return "no error";
}

Deno.test("a configuration parses into rules and renders back as sent", () => {
  const cfg = parse(
    queue(["s3:ObjectCreated:*", "s3:ObjectRemoved:Delete"], {
      id: "q1",
      prefix: "in/",
      suffix: ".jpg",
    }) +
      `<TopicConfiguration><Topic>arn:maxiofs:sns:us-east-1:global:hook</Topic><Event>s3:ObjectTagging:Put</Event></TopicConfiguration>`,
  );
  assertEquals(cfg.rules.length, 2);
  assertEquals(cfg.rules[0], {
    kind: "Queue",
    id: "q1",
    arn: ARN,
    events: ["s3:ObjectCreated:*", "s3:ObjectRemoved:Delete"],
    filterRules: [{ name: "Prefix", value: "in/" }, { name: "Suffix", value: ".jpg" }],
    prefix: "in/",
    suffix: ".jpg",
  });
  // An Id is generated when none is sent, as AWS does.
  assertEquals(cfg.rules[1].id, "generated-1");
  const xml = buildXml("NotificationConfiguration", notificationXml(cfg));
  // Topic configurations come first, as AWS lists them.
  assert(xml.indexOf("<TopicConfiguration>") < xml.indexOf("<QueueConfiguration>"), xml);
  assert(
    xml.includes(
      "<Filter><S3Key><FilterRule><Name>Prefix</Name><Value>in/</Value></FilterRule><FilterRule><Name>Suffix</Name><Value>.jpg</Value></FilterRule></S3Key></Filter>",
    ),
    xml,
  );
  assertEquals(parseDoc(xml), { v: 1, rules: [cfg.rules[1], cfg.rules[0]] });
});

Deno.test("an empty document is a configuration without rules", () => {
  assertEquals(parse(""), { v: 1, rules: [] });
  assertEquals(
    buildXml("NotificationConfiguration", notificationXml(null)),
    `<?xml version="1.0" encoding="UTF-8"?>\n<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></NotificationConfiguration>`,
  );
});

Deno.test("AWS's errors for bad configurations", () => {
  assertEquals(
    errorOf(queue(["s3:ObjectCreated:Nope"])),
    "InvalidArgument: The event is not supported for notifications",
  );
  assertEquals(errorOf(queue([])), "MalformedXML: " + new S3Error("MalformedXML").message);
  assertEquals(
    errorOf(
      `<QueueConfiguration><Queue>not-an-arn</Queue><Event>s3:ObjectCreated:*</Event></QueueConfiguration>`,
    ),
    "InvalidArgument: The ARN could not be parsed",
  );
  assert(errorOf(`<Unknown/>`).startsWith("MalformedXML"));
  assert(
    errorOf(
      `<QueueConfiguration><Queue>${ARN}</Queue><Event>s3:ObjectCreated:*</Event><Extra/></QueueConfiguration>`,
    ).startsWith("MalformedXML"),
  );
  assertEquals(
    errorOf(
      queue(["s3:ObjectCreated:*"]).replace(
        "</Queue>",
        "</Queue><Filter><S3Key><FilterRule><Name>prefix</Name><Value>a</Value></FilterRule><FilterRule><Name>prefix</Name><Value>b</Value></FilterRule></S3Key></Filter>",
      ),
    ),
    "InvalidArgument: Cannot specify more than one prefix rule in a filter.",
  );
  assertEquals(
    errorOf(
      queue(["s3:ObjectCreated:*"]).replace(
        "</Queue>",
        "</Queue><Filter><S3Key><FilterRule><Name>middle</Name><Value>a</Value></FilterRule></S3Key></Filter>",
      ),
    ),
    "InvalidArgument: filter rule name must be either prefix or suffix",
  );
  assertEquals(
    errorOf(
      queue(["s3:ObjectCreated:Put"], { id: "a" }) + queue(["s3:ObjectRemoved:*"], { id: "a" }),
    ),
    "InvalidArgument: Same ID used for multiple configurations",
  );
});

/** The S3Error a body is refused with. */
function refusal(body: string): S3Error {
  try {
    parse(body);
  } catch (e) {
    if (e instanceof S3Error) return e;
    throw e;
  }
  throw new Error("accepted");
}

Deno.test("errors carry the ArgumentName and ArgumentValue AWS answers", () => {
  // As recorded from AWS: the element of the ARN, and the ARN sent.
  const arn = refusal(
    `<TopicConfiguration><Topic>invalid-topic</Topic><Event>s3:ObjectCreated:*</Event></TopicConfiguration>`,
  );
  assertEquals([arn.message, arn.fields], ["The ARN could not be parsed", {
    ArgumentName: "Topic",
    ArgumentValue: "invalid-topic",
  }]);
  // The rule's name, not its value.
  const name = refusal(
    queue(["s3:ObjectCreated:*"]).replace(
      "</Queue>",
      "</Queue><Filter><S3Key><FilterRule><Name>INVALID</Name><Value>does not matter</Value></FilterRule></S3Key></Filter>",
    ),
  );
  assertEquals(name.fields, { ArgumentName: "FilterRule.Name", ArgumentValue: "INVALID" });
  // No AWS recording of an unknown event's fields was found: named like the ARN's, element and value.
  const event = refusal(queue(["s3:ObjectCreated:Paste"]));
  assertEquals(event.fields, { ArgumentName: "Event", ArgumentValue: "s3:ObjectCreated:Paste" });
});

Deno.test("filter rule names in any case come back as Prefix then Suffix", () => {
  const cfg = parse(
    queue(["s3:ObjectCreated:*"]).replace(
      "</Queue>",
      "</Queue><Filter><S3Key><FilterRule><Name>suffix</Name><Value>.txt</Value></FilterRule><FilterRule><Name>PREFIX</Name><Value>notif-</Value></FilterRule></S3Key></Filter>",
    ),
  );
  assertEquals([cfg.rules[0].prefix, cfg.rules[0].suffix], ["notif-", ".txt"]);
  assert(
    buildXml("NotificationConfiguration", notificationXml(cfg)).includes(
      "<FilterRule><Name>Prefix</Name><Value>notif-</Value></FilterRule><FilterRule><Name>Suffix</Name><Value>.txt</Value></FilterRule>",
    ),
  );
  // A configuration stored as sent (before names were normalized) is shown the same way.
  const stored: NotificationConfig = {
    v: 1,
    rules: [{
      ...cfg.rules[0],
      filterRules: [{ name: "suffix", value: ".txt" }, { name: "prefix", value: "notif-" }],
    }],
  };
  assertEquals(
    buildXml("NotificationConfiguration", notificationXml(stored)),
    buildXml("NotificationConfiguration", notificationXml(cfg)),
  );
});

Deno.test("overlapping configurations for a common event type are refused", () => {
  const ambiguous = "InvalidArgument: Configuration is ambiguously defined. Cannot have " +
    "overlapping suffixes in two rules if the prefixes are overlapping for the same event type.";
  // A wildcard covers the specific event; no filter overlaps every filter.
  assertEquals(
    errorOf(queue(["s3:ObjectCreated:*"]) + queue(["s3:ObjectCreated:Put"], { prefix: "a/" })),
    ambiguous,
  );
  assertEquals(
    errorOf(
      queue(["s3:ObjectCreated:Put"], { prefix: "a/" }) +
        queue(["s3:ObjectCreated:Put"], { prefix: "a/b/" }),
    ),
    ambiguous,
  );
  assertEquals(
    errorOf(
      queue(["s3:ObjectCreated:Put"], { suffix: ".jpg" }) +
        queue(["s3:ObjectCreated:Put"], { suffix: "g" }),
    ),
    ambiguous,
  );
  // Different events, or disjoint prefixes, or disjoint suffixes: accepted.
  assertEquals(errorOf(queue(["s3:ObjectCreated:*"]) + queue(["s3:ObjectRemoved:*"])), "no error");
  assertEquals(
    errorOf(
      queue(["s3:ObjectCreated:*"], { prefix: "a/" }) +
        queue(["s3:ObjectCreated:*"], { prefix: "b/" }),
    ),
    "no error",
  );
  assertEquals(
    errorOf(
      queue(["s3:ObjectCreated:*"], { suffix: ".jpg" }) +
        queue(["s3:ObjectCreated:*"], { suffix: ".png" }),
    ),
    "no error",
  );
});

Deno.test("event patterns and key filters select the rules", () => {
  assert(eventMatches("s3:ObjectCreated:*", "ObjectCreated:Copy"));
  assert(eventMatches("s3:ObjectRemoved:DeleteMarkerCreated", "ObjectRemoved:DeleteMarkerCreated"));
  assert(!eventMatches("s3:ObjectRemoved:Delete", "ObjectRemoved:DeleteMarkerCreated"));
  assert(!eventMatches("s3:ObjectCreated:*", "ObjectRemoved:Delete"));
  assert(!eventMatches("s3:LifecycleExpiration:*", "ObjectRemoved:Delete"));
  const cfg: NotificationConfig = parse(
    queue(["s3:ObjectCreated:*"], { id: "img", prefix: "img/", suffix: ".jpg" }) +
      queue(["s3:ObjectRemoved:*"], { id: "all" }),
  );
  assertEquals(matchingRules(cfg, "ObjectCreated:Put", "img/a.jpg").map((r) => r.id), ["img"]);
  assertEquals(matchingRules(cfg, "ObjectCreated:Put", "img/a.png").map((r) => r.id), []);
  assertEquals(matchingRules(cfg, "ObjectCreated:Put", "doc/a.jpg").map((r) => r.id), []);
  assertEquals(matchingRules(cfg, "ObjectRemoved:Delete", "doc/a.jpg").map((r) => r.id), ["all"]);
});
