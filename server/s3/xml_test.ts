import assert from "node:assert/strict";
import { buildXml, children, childText, parseXml } from "./xml.ts";
import { S3Error } from "./errors.ts";

function malformed(text: string): void {
  assert.throws(() => parseXml(text), (e) => e instanceof S3Error && e.code === "MalformedXML");
}

Deno.test("buildXml renders namespace, arrays, nesting and escapes", () => {
  const xml = buildXml("ListBucketResult", {
    Name: "b",
    Contents: [{ Key: "a&b<c>\"'" }, { Key: "x" }],
    Empty: null,
    Skipped: undefined,
    IsTruncated: false,
  });
  assert.equal(
    xml,
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
      '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name>' +
      "<Contents><Key>a&amp;b&lt;c&gt;&quot;&apos;</Key></Contents><Contents><Key>x</Key></Contents>" +
      "<Empty></Empty><IsTruncated>false</IsTruncated></ListBucketResult>",
  );
  assert.equal(buildXml("Error", { Code: "X" }, { ns: null }).includes("xmlns"), false);
});

Deno.test("parseXml reads entities, CDATA, comments and namespace prefixes", () => {
  const doc = parseXml(
    '<?xml version="1.0"?>\n<!-- c --><s3:Delete xmlns:s3="ns"><Object><Key>d &amp; &lt;e&gt; &#233;&#x41;</Key></Object>' +
      "<Object><Key><![CDATA[<raw & text>]]></Key></Object><Quiet>true</Quiet></s3:Delete>",
  );
  assert.equal(doc.name, "Delete");
  const keys = children(doc, "Object").map((o) => childText(o, "Key"));
  assert.deepEqual(keys, ["d & <e> éA", "<raw & text>"]);
  assert.equal(childText(doc, "Quiet"), "true");
});

Deno.test("parseXml rejects documents that are not well-formed", () => {
  malformed("");
  malformed("not xml");
  malformed("<a>");
  malformed("<a></b>");
  malformed("<a>x & y</a>");
  malformed("<a>&bogus;</a>");
  malformed("<a>&#xZZ;</a>");
  malformed("<a>&amp</a>");
  malformed("<a></a><b></b>");
  malformed('<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>');
  malformed("<a><!DOCTYPE x></a>");
  malformed("<a>" + "<b>".repeat(100) + "</b>".repeat(100) + "</a>");
});
