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
  for (const ms of samples) assert.equal(times.format(ms), isoTime(ms), String(ms));
});
