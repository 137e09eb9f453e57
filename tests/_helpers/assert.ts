/** Assertions on top of node:assert/strict (JSR's @std/assert is not reachable here). */
import assert from "node:assert/strict";
import { isS3Error } from "../../server/s3/errors.ts";

export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  assert.deepStrictEqual(actual, expected, msg);
}

export function assert_(cond: unknown, msg?: string): asserts cond {
  assert.ok(cond, msg);
}
export { assert_ as assert };

export async function assertRejects(fn: () => Promise<unknown>, msg?: string): Promise<unknown> {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  throw new assert.AssertionError({ message: msg ?? "expected the promise to reject" });
}

/** Asserts that an SDK call fails with this S3 error code (and HTTP status when given). */
export async function assertS3Error(
  fn: () => Promise<unknown>,
  code: string,
  status?: number,
): Promise<void> {
  const e = await assertRejects(fn, `expected S3 error ${code}`) as {
    name?: string;
    Code?: string;
    $metadata?: { httpStatusCode?: number };
  };
  const got = e.Code ?? e.name;
  assert.equal(got, code, `expected error code ${code}, got ${got}`);
  if (status !== undefined) assert.equal(e.$metadata?.httpStatusCode, status);
}

/**
 * `"<status> <code>"` of the S3 error a storage or service call rejects with ("no error" when it
 * resolves); anything else it throws is rethrown.
 */
export async function s3ErrorOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (isS3Error(e)) return `${e.status} ${e.code}`;
    throw e;
  }
  return "no error";
}
