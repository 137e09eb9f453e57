/** A seeded pseudo-random integer source for tests that must replay the same run. */

/** `next(n)` returns an integer in [0, n), the same sequence for the same `seed`. */
export function rng(seed: number): (n: number) => number {
  let x = seed;
  return (n: number) => {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    return x % n;
  };
}
