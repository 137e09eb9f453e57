import { assertEquals } from "../../tests/_helpers/assert.ts";
import { formatDuration, uploadPace } from "./upload.ts";

Deno.test("upload pace: rate so far and time left at that rate", () => {
  assertEquals(uploadPace(0, 100, 5000), "", "nothing moved yet");
  assertEquals(uploadPace(10, 100, 100), "", "too early for a rate");
  assertEquals(uploadPace(2 * 1024 ** 2, 10 * 1024 ** 2, 1000), "2.00 MiB/s · 4 s left");
  assertEquals(uploadPace(100, 100, 2000), "50 B/s · 0 s left");
});

Deno.test("durations", () => {
  assertEquals(formatDuration(7.2), "8 s");
  assertEquals(formatDuration(185), "3 min 5 s");
  assertEquals(formatDuration(7440), "2 h 4 min");
});
