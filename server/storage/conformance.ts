/**
 * The Backend conformance suite: the behaviour every `Backend` must have (buckets, objects,
 * versions and delete markers, conditional writes, multipart, listing order and pagination,
 * counters, concurrent publishes, encryption at rest), as one function over a backend factory. The local backend
 * runs it in local_conformance_test.ts; the edge backend (metadata in Deno KV, bytes in an
 * upstream bucket) runs the same cases. The cases use the `Backend` interface and the storage
 * types only: no data dir, no KV keys.
 *
 * @example
 * ```ts
 * backendConformance("local", async () => {
 *   const s = await openSomeBackend();
 *   return { backend: s.backend, close: () => s.close(), clock: s.clock };
 * });
 * ```
 */
import type { ConformanceCase, OpenedBackend } from "./conformance/harness.ts";
import { BUCKET_CASES } from "./conformance/buckets.ts";
import { OBJECT_CASES } from "./conformance/objects.ts";
import { VERSION_CASES } from "./conformance/versions.ts";
import { MULTIPART_CASES } from "./conformance/multipart.ts";
import { CHECKSUM_CASES } from "./conformance/checksums.ts";
import { LISTING_CASES } from "./conformance/listing.ts";
import { PAGING_CASES } from "./conformance/paging.ts";
import { COUNTER_CASES } from "./conformance/counters.ts";
import { CONCURRENCY_CASES } from "./conformance/concurrency.ts";
import { ENCRYPTION_CASES } from "./conformance/encryption.ts";

export type { ConformanceCase, ConformanceClock, OpenedBackend } from "./conformance/harness.ts";

export interface ConformanceOptions {
  /**
   * Cases this backend is known to fail, by case name, with the reason (the bug). They are
   * registered as ignored, so the report still lists them; a name no case has is an error.
   */
  ignore?: Record<string, string>;
}

/** Every case of the suite, in the order they are registered. */
export const CONFORMANCE_CASES: readonly ConformanceCase[] = [
  ...BUCKET_CASES,
  ...OBJECT_CASES,
  ...VERSION_CASES,
  ...MULTIPART_CASES,
  ...CHECKSUM_CASES,
  ...LISTING_CASES,
  ...PAGING_CASES,
  ...COUNTER_CASES,
  ...CONCURRENCY_CASES,
  ...ENCRYPTION_CASES,
];

/**
 * Registers one `Deno.test` per case, named `${name}: ${case}` (an ignored one says its bug).
 * Each case gets a fresh, empty backend from `open` and closes it afterwards.
 */
export function backendConformance(
  name: string,
  open: () => Promise<OpenedBackend>,
  opts: ConformanceOptions = {},
): void {
  const names = new Set(CONFORMANCE_CASES.map((c) => c.name));
  for (const known of Object.keys(opts.ignore ?? {})) {
    if (!names.has(known)) throw new Error(`Cannot ignore "${known}": no such conformance case`);
  }
  for (const c of CONFORMANCE_CASES) {
    const bug = opts.ignore?.[c.name];
    Deno.test({
      name: `${name}: ${c.name}${bug === undefined ? "" : ` (known bug: ${bug})`}`,
      ignore: bug !== undefined,
      async fn() {
        const opened = await open();
        try {
          await c.run({ be: opened.backend, clock: opened.clock });
        } finally {
          await opened.close();
        }
      },
    });
  }
}
