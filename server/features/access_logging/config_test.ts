import { assertEquals } from "../../../tests/_helpers/assert.ts";
import { s3ErrorOf } from "../../../tests/_helpers/assert.ts";
import { parseXml } from "../../s3/xml.ts";
import { bucketLoggingXml, parseBucketLoggingStatus } from "./config.ts";

const lookup = { userById: () => null, usersByEmail: () => [] };
const parse = (xml: string) => parseBucketLoggingStatus(parseXml(xml), lookup);
const enabled = (inner: string) =>
  `<BucketLoggingStatus><LoggingEnabled><TargetBucket>t</TargetBucket>${inner}</LoggingEnabled></BucketLoggingStatus>`;

Deno.test("an empty BucketLoggingStatus turns logging off", () => {
  assertEquals(parse("<BucketLoggingStatus/>"), null);
  assertEquals(
    bucketLoggingXml(null),
    '<?xml version="1.0" encoding="UTF-8"?>\n<BucketLoggingStatus xmlns="http://doc.s3.amazonaws.com/2006-03-01"></BucketLoggingStatus>',
  );
});

Deno.test("key formats round trip", () => {
  const req = parse(enabled(
    "<TargetPrefix>p/</TargetPrefix><TargetObjectKeyFormat><PartitionedPrefix><PartitionDateSource>DeliveryTime</PartitionDateSource></PartitionedPrefix></TargetObjectKeyFormat>",
  ))!;
  assertEquals(req.keyFormat, { kind: "PartitionedPrefix", dateSource: "DeliveryTime" });
  const xml = bucketLoggingXml({
    v: 1,
    targetId: "id",
    targetNs: "",
    ...req,
  });
  assertEquals(parse(xml.replace(/^<\?xml[^>]*>\n/, "")), req);
  assertEquals(
    parse(
      enabled(
        "<TargetPrefix></TargetPrefix><TargetObjectKeyFormat><SimplePrefix/></TargetObjectKeyFormat>",
      ),
    )
      ?.keyFormat,
    { kind: "SimplePrefix" },
  );
});

Deno.test("malformed documents are MalformedXML", async () => {
  for (
    const bad of [
      enabled(""), // no TargetPrefix
      "<BucketLoggingStatus><Other/></BucketLoggingStatus>",
      enabled(
        "<TargetPrefix/><TargetObjectKeyFormat><SimplePrefix/><PartitionedPrefix/></TargetObjectKeyFormat>",
      ),
      enabled(
        "<TargetPrefix/><TargetObjectKeyFormat><PartitionedPrefix><PartitionDateSource>Now</PartitionDateSource></PartitionedPrefix></TargetObjectKeyFormat>",
      ),
      enabled(
        '<TargetPrefix/><TargetGrants><Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group"><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee><Permission>READ_ACP</Permission></Grant></TargetGrants>',
      ),
    ]
  ) {
    assertEquals(await s3ErrorOf(Promise.try(() => parse(bad))), "400 MalformedXML", bad);
  }
});
