import { assertEquals } from "../../tests/_helpers/assert.ts";
import { csvField, toCsv } from "./csv.ts";

Deno.test("csvField quotes separators and defuses formulas", () => {
  assertEquals(csvField("plain"), "plain");
  assertEquals(csvField('a,"b"'), '"a,""b"""');
  assertEquals(csvField("line\nbreak"), '"line\nbreak"');
  assertEquals(csvField("=SUM(A1)"), "'=SUM(A1)");
  assertEquals(csvField(null), "");
  assertEquals(toCsv(["a", "b"], [{ a: 1, b: "x,y" }]), 'a,b\r\n1,"x,y"\r\n');
});
