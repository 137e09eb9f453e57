import assert from "node:assert/strict";
import { ListTimes } from "./list.ts";
import { isoTime } from "../headers.ts";

Deno.test("ListTimes formats like isoTime, in and out of its one-second cache", () => {
  const times = new ListTimes();
  const samples = [
    0,
    1,
    999,
    1000,
    1_700_000_000_123,
    1_700_000_000_000,
    1_700_000_000_010,
    1_700_000_001_099,
    1_700_000_000_123,
    253_402_300_799_999,
    1.5,
    -5,
  ];
  for (let i = 0; i < 2000; i++) samples.push(Math.floor(Math.random() * 4e12));
  // Day boundaries, leap days and the last millisecond of a day, seen again out of order.
  for (const d of [Date.UTC(2024, 1, 29), Date.UTC(2000, 1, 29), Date.UTC(2100, 2, 1)]) {
    samples.push(d, d - 1, d + 86_399_999, d + 3_599_999, d + 60_000, d - 1, d);
  }
  for (const ms of samples) assert.equal(times.format(ms), isoTime(ms), String(ms));
});
