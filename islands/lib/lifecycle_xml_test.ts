import assert from "node:assert/strict";
import { lifecycleXml, newRule, parseLifecycle, ruleActions, ruleScope } from "./lifecycle_xml.ts";

/** GetBucketLifecycleConfiguration as the server writes it (three rules, every action). */
const SERVER_DOC = `<?xml version="1.0" encoding="UTF-8"?>
<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Rule><ID>a</ID><Filter><Prefix></Prefix></Filter><Status>Enabled</Status><Expiration><Date>2030-01-01T00:00:00.000Z</Date></Expiration></Rule><Rule><ID>b</ID><Filter><And><Prefix>logs/</Prefix><Tag><Key>k</Key><Value>v&amp;w</Value></Tag><ObjectSizeGreaterThan>10</ObjectSizeGreaterThan></And></Filter><Status>Disabled</Status><Transition><Days>30</Days><StorageClass>GLACIER</StorageClass></Transition><NoncurrentVersionExpiration><NoncurrentDays>5</NoncurrentDays><NewerNoncurrentVersions>2</NewerNoncurrentVersions></NoncurrentVersionExpiration></Rule><Rule><ID>c</ID><Filter></Filter><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration><AbortIncompleteMultipartUpload><DaysAfterInitiation>7</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule></LifecycleConfiguration>`;

Deno.test("lifecycle xml: the server's document parsed", () => {
  const [a, b, c] = parseLifecycle(SERVER_DOC);
  assert.deepEqual(a, {
    ...newRule("a"),
    expiration: { kind: "date", date: "2030-01-01" },
  });
  assert.equal(b.enabled, false);
  assert.equal(b.prefix, "logs/");
  assert.deepEqual(b.tags, [["k", "v&w"]]);
  assert.equal(b.sizeGt, 10);
  assert.equal(b.noncurrentDays, 5);
  assert.equal(b.newerNoncurrent, 2);
  assert.equal(b.expiration.kind, "none");
  assert.equal(
    b.transitionsXml,
    "<Transition><Days>30</Days><StorageClass>GLACIER</StorageClass></Transition>",
  );
  assert.deepEqual(c.expiration, { kind: "deleteMarkers" });
  assert.equal(c.abortDays, 7);
  assert.equal(ruleScope(b), 'prefix "logs/", tag k=v&w, size > 10 B');
  assert.equal(
    ruleActions(b),
    "delete noncurrent versions after 5 days (keep 2 newest); transitions",
  );
  assert.equal(ruleScope(c), "every object");
  assert.deepEqual(parseLifecycle(""), []);
});

Deno.test("lifecycle xml: built documents read back the same", () => {
  const rules = parseLifecycle(SERVER_DOC);
  assert.deepEqual(parseLifecycle(lifecycleXml(rules)), rules);
  const xml = lifecycleXml(rules);
  // Several predicates go in <And>, one stands alone, none is an empty filter.
  assert.match(
    xml,
    /<ID>b<\/ID><Filter><And><Prefix>logs\/<\/Prefix><Tag><Key>k<\/Key><Value>v&amp;w<\/Value>/,
  );
  assert.match(xml, /<ID>c<\/ID><Filter><\/Filter>/);
  const one = lifecycleXml([{
    ...newRule("d"),
    prefix: "tmp/",
    expiration: { kind: "days", days: 3 },
  }]);
  assert.match(
    one,
    /<Filter><Prefix>tmp\/<\/Prefix><\/Filter><Status>Enabled<\/Status><Expiration><Days>3<\/Days><\/Expiration>/,
  );
});

Deno.test("lifecycle xml: a legacy rule-level prefix", () => {
  const [r] = parseLifecycle(
    "<LifecycleConfiguration><Rule><ID>old</ID><Prefix>x/</Prefix><Status>Enabled</Status>" +
      "<Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>",
  );
  assert.equal(r.prefix, "x/");
  assert.deepEqual(r.expiration, { kind: "days", days: 1 });
});
