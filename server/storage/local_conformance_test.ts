/**
 * The Backend conformance suite (conformance.ts) against the local backend, on a temp data dir
 * with a clock the cases move. Three times: listings always from KV; with the in-memory listing
 * copy (list_memory.ts, the default), which answers a bucket's listings once it has loaded; and
 * with every performance mechanism turned off (server/tuning.ts), whose plain paths must give
 * the same results.
 */
import { backendConformance, type ConformanceClock } from "./conformance.ts";
import { openTempStorage } from "../../tests/_helpers/storage.ts";
import type { OpenStorageOptions } from "./backend.ts";
import { type Mechanism, MECHANISMS, Tuning } from "../tuning.ts";

/** Starts at a fixed time and ticks one millisecond per reading; cases move it further. */
function testClock(): ConformanceClock {
  let t = 1_700_000_000_000;
  return { now: () => t++, advance: (ms) => void (t += ms) };
}

function openLocal(opts: Partial<OpenStorageOptions>) {
  return async () => {
    const clock = testClock();
    const s = await openTempStorage("maxiofs-conformance-", { clock, ...opts });
    return { backend: s.storage.backend, close: s.close, clock };
  };
}

backendConformance("local backend", openLocal({ listCacheEntries: 0 }));
backendConformance("local backend, listings from memory", openLocal({}));
backendConformance(
  "local backend, every mechanism off",
  openLocal({ tuning: new Tuning(Object.keys(MECHANISMS) as Mechanism[]) }),
);
