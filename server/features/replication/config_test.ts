import { assertEquals } from "../../../tests/_helpers/assert.ts";
import { S3Error } from "../../s3/errors.ts";
import { buildXml, parseXml } from "../../s3/xml.ts";
import { parseReplication, replicationXml, rulesFor } from "./config.ts";

const doc = (rules: string, role = "<Role>arn:aws:iam::1:role/r</Role>") =>
  parseXml(`<ReplicationConfiguration>${role}${rules}</ReplicationConfiguration>`);

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof S3Error) return e.code;
    throw e;
  }
  return "ok";
}

const V2 = (id: string, prio: number, filter: string, dm = "Disabled", dest = "dr") =>
  `<Rule><ID>${id}</ID><Priority>${prio}</Priority><Filter>${filter}</Filter>` +
  `<Status>Enabled</Status><DeleteMarkerReplication><Status>${dm}</Status>` +
  `</DeleteMarkerReplication><Destination><Bucket>arn:aws:s3:::${dest}</Bucket></Destination></Rule>`;

Deno.test("replication config: a V2 document round-trips through GET's rendering", () => {
  const cfg = parseReplication(
    doc(
      V2("a", 1, "<Prefix>logs/</Prefix>", "Enabled") +
        V2("b", 2, "<And><Prefix>x/</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></And>"),
    ),
  );
  assertEquals(cfg.rules.map((r) => [r.id, r.destination, r.deleteMarkers]), [
    ["a", "dr", true],
    ["b", "dr", false],
  ]);
  const again = parseReplication(
    parseXml(buildXml("ReplicationConfiguration", replicationXml(cfg))),
  );
  assertEquals(again, cfg);
});

Deno.test("replication config: V1 rules (rule-level Prefix) replicate delete markers", () => {
  const cfg = parseReplication(doc(
    "<Rule><ID>old</ID><Prefix>p/</Prefix><Status>Enabled</Status>" +
      "<Destination><Bucket>arn:aws:s3:::dr</Bucket><StorageClass>STANDARD_IA</StorageClass>" +
      "</Destination></Rule>",
  ));
  assertEquals(cfg.rules[0].deleteMarkers, true);
  assertEquals(cfg.rules[0].storageClass, "STANDARD_IA");
  assertEquals(cfg.role, "arn:aws:iam::1:role/r");
});

Deno.test("replication config: AWS's errors for bad documents", () => {
  assertEquals(code(() => parseReplication(doc(""))), "MalformedXML");
  assertEquals(code(() => parseReplication(parseXml("<Other/>"))), "MalformedXML");
  // Filter without DeleteMarkerReplication
  assertEquals(
    code(() =>
      parseReplication(doc(
        "<Rule><Filter><Prefix/></Filter><Status>Enabled</Status>" +
          "<Destination><Bucket>arn:aws:s3:::dr</Bucket></Destination></Rule>",
      ))
    ),
    "InvalidRequest",
  );
  // delete markers with a tag filter
  assertEquals(
    code(() =>
      parseReplication(doc(V2("t", 1, "<Tag><Key>k</Key><Value>v</Value></Tag>", "Enabled")))
    ),
    "InvalidRequest",
  );
  assertEquals(
    code(() => parseReplication(doc(V2("a", 1, "") + V2("a", 2, "")))),
    "InvalidArgument",
  );
  assertEquals(
    code(() => parseReplication(doc(V2("a", 1, "") + V2("b", 1, "")))),
    "InvalidRequest",
  );
  assertEquals(
    code(() =>
      parseReplication(doc(
        "<Rule><Status>Enabled</Status><Prefix/><Destination><Bucket>dr</Bucket></Destination></Rule>",
      ))
    ),
    "InvalidArgument",
  );
  assertEquals(
    code(() =>
      parseReplication(doc(
        "<Rule><Status>On</Status><Prefix/><Destination><Bucket>arn:aws:s3:::d</Bucket></Destination></Rule>",
      ))
    ),
    "MalformedXML",
  );
  assertEquals(
    code(() => parseReplication(doc("<Rule><Status>Enabled</Status><Prefix/></Rule>"))),
    "MalformedXML",
  );
  assertEquals(
    code(() => parseReplication(doc(V2("a", 1, "<Prefix>a</Prefix><Prefix>b</Prefix>")))),
    "MalformedXML",
  );
});

Deno.test("replication config: rules select by prefix and tags, one rule per destination by priority", () => {
  const cfg = parseReplication(
    doc(
      V2("low", 1, "<Prefix>a/</Prefix>") +
        V2("high", 5, "<Prefix>a/b/</Prefix>") +
        V2("tagged", 3, "<Tag><Key>k</Key><Value>v</Value></Tag>", "Disabled", "other"),
    ),
  );
  assertEquals(rulesFor(cfg, "a/b/c", undefined).map((r) => r.id), ["high"]);
  assertEquals(rulesFor(cfg, "a/c", undefined).map((r) => r.id), ["low"]);
  assertEquals(rulesFor(cfg, "z", { k: "v" }).map((r) => r.id), ["tagged"]);
  assertEquals(rulesFor(cfg, "z", { k: "w" }).map((r) => r.id), []);
});
