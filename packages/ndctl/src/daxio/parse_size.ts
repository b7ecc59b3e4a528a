/**
 * PMDK's util_parse_size() (src/core/util.c), which daxio's -l, -s and -k go through: `sscanf("%zu%8s")`, a
 * decimal count and an optional unit of B, K/M/G/T/P (powers of 1024), KiB..PiB (the same) or kB..PB (powers
 * of 1000), case-sensitive. Null for anything else.
 */

const SUFFIXES = new Map<string, bigint>(
  Object.entries({
    B: 1n,
    K: 1n << 10n,
    M: 1n << 20n,
    G: 1n << 30n,
    T: 1n << 40n,
    P: 1n << 50n,
    KiB: 1n << 10n,
    MiB: 1n << 20n,
    GiB: 1n << 30n,
    TiB: 1n << 40n,
    PiB: 1n << 50n,
    kB: 1000n,
    MB: 1000n ** 2n,
    GB: 1000n ** 3n,
    TB: 1000n ** 4n,
    PB: 1000n ** 5n,
  }),
);

const SIZE_MAX = (1n << 64n) - 1n;

/**
 * util_parse_size(): the size, or null. As in C, a negative count wraps modulo 2^64, one past SIZE_MAX saturates,
 * and a product wraps; a result past 2^53 is returned rounded (it is only ever compared against device sizes).
 */
export function utilParseSize(str: string): number | null {
  const m = /^\s*([+-]?)(\d+)\s*(\S{0,8})/.exec(str);
  if (m === null) return null;
  let n = BigInt(m[2]!);
  if (n > SIZE_MAX) n = SIZE_MAX;
  if (m[1] === '-') n = (SIZE_MAX + 1n - n) & SIZE_MAX;
  const unit = m[3]!;
  if (unit !== '') {
    const mag = SUFFIXES.get(unit);
    if (mag === undefined) return null;
    n = (n * mag) & SIZE_MAX;
  }
  return Number(n);
}
