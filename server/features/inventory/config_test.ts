import { assertEquals, s3ErrorOf } from "../../../tests/_helpers/assert.ts";
import { buildXml, parseXml } from "../../s3/xml.ts";
import {
  type InventoryConfiguration,
  inventoryXml,
  MAX_INVENTORY_CONFIGS,
  parseInventoryConfiguration,
  withConfiguration,
} from "./config.ts";

const doc = (dest: string, extra = "") =>
  `<InventoryConfiguration><Id>r1</Id><IsEnabled>true</IsEnabled><Destination><S3BucketDestination>${dest}</S3BucketDestination></Destination><IncludedObjectVersions>All</IncludedObjectVersions><Schedule><Frequency>Weekly</Frequency></Schedule>${extra}</InventoryConfiguration>`;
const parse = (xml: string) => parseInventoryConfiguration(parseXml(xml), "r1");

Deno.test("a configuration renders back to the document it was parsed from", () => {
  const cfg = parse(doc(
    "<AccountId>123</AccountId><Bucket>arn:aws:s3:::dst</Bucket><Encryption><SSE-KMS><KeyId>k1</KeyId></SSE-KMS></Encryption><Format>CSV</Format><Prefix>p</Prefix>",
    "<Filter><Prefix>logs/</Prefix></Filter><OptionalFields><Field>ETag</Field><Field>Size</Field></OptionalFields>",
  ));
  assertEquals(cfg.destination, {
    bucketArn: "arn:aws:s3:::dst",
    bucket: "dst",
    format: "CSV",
    prefix: "p",
    accountId: "123",
    encryption: { mode: "SSE-KMS", keyId: "k1" },
  });
  assertEquals(cfg.optionalFields, ["Size", "ETag"]);
  const again = parse(buildXml("InventoryConfiguration", inventoryXml(cfg)));
  assertEquals(again, cfg);
});

Deno.test("bad documents get AWS's errors", async () => {
  const dest = "<Bucket>arn:aws:s3:::dst</Bucket><Format>CSV</Format>";
  const cases: [string, string][] = [
    [doc(dest).replace("<Id>r1</Id>", "<Id>r2</Id>"), "400 IdMismatch"],
    [doc("<Bucket>dst</Bucket><Format>CSV</Format>"), "400 InvalidS3DestinationBucket"],
    [
      doc("<Bucket>arn:aws:s3::123456789012:dst</Bucket><Format>CSV</Format>"),
      "400 InvalidS3DestinationBucket",
    ],
    // AWS checks the structure first, then the Id, then the destination's ARN.
    [
      doc(dest).replace("<Id>r1</Id>", "<Id>r2</Id>").replace("Weekly", "Hourly"),
      "400 MalformedXML",
    ],
    [
      doc("<Bucket>dst</Bucket><Format>CSV</Format>").replace("<Id>r1</Id>", "<Id>r2</Id>"),
      "400 IdMismatch",
    ],
    [doc("<Bucket>arn:aws:s3:::dst</Bucket><Format>Parquet</Format>"), "501 NotImplemented"],
    [doc("<Bucket>arn:aws:s3:::dst</Bucket><Format>XLS</Format>"), "400 MalformedXML"],
    [
      doc(dest + "<Encryption><SSE-S3/><SSE-KMS><KeyId>k</KeyId></SSE-KMS></Encryption>"),
      "400 MalformedXML",
    ],
    [doc(dest).replace("<IsEnabled>true</IsEnabled>", ""), "400 MalformedXML"],
    [doc(dest).replace("Weekly", "Monthly"), "400 MalformedXML"],
    [doc(dest, "<Filter></Filter>"), "400 MalformedXML"],
  ];
  for (const [xml, want] of cases) {
    assertEquals(await s3ErrorOf(Promise.try(() => parse(xml))), want, xml);
  }
});

Deno.test("AWS's messages for an Id mismatch and a bucket ARN with a namespace", () => {
  const messageOf = (xml: string) => {
    try {
      parse(xml);
    } catch (e) {
      return (e as Error).message;
    }
    return "accepted";
  };
  const dest = "<Bucket>arn:aws:s3:::dst</Bucket><Format>CSV</Format>";
  assertEquals(
    messageOf(doc(dest).replace("<Id>r1</Id>", "<Id>r2</Id>")),
    "Document ID does not match the specified configuration ID.",
  );
  assertEquals(
    messageOf(doc("<Bucket>arn:aws:s3::123456789012:dst</Bucket><Format>CSV</Format>")),
    "Bucket ARN should not specify a namespace.",
  );
  assertEquals(messageOf(doc("<Bucket>dst</Bucket><Format>CSV</Format>")), "Invalid bucket ARN.");
});

Deno.test("at most 1,000 configurations; replacing one is not adding one", async () => {
  const one = (id: string): InventoryConfiguration => ({
    id,
    enabled: true,
    destination: { bucketArn: "arn:aws:s3:::d", bucket: "d", format: "CSV" },
    includedVersions: "Current",
    optionalFields: [],
    frequency: "Daily",
  });
  let stored = null;
  for (let i = 0; i < MAX_INVENTORY_CONFIGS; i++) {
    stored = withConfiguration(stored, one(`c${String(i).padStart(4, "0")}`));
  }
  assertEquals(stored!.configs.length, MAX_INVENTORY_CONFIGS);
  assertEquals(withConfiguration(stored, one("c0005")).configs.length, MAX_INVENTORY_CONFIGS);
  assertEquals(
    await s3ErrorOf(Promise.try(() => withConfiguration(stored, one("extra")))),
    "400 TooManyConfigurations",
  );
});
