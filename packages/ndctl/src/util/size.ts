/**
 * ndctl's util/size.c: parse_size64() for size arguments (-s 16M, -a 2m, daxio's -l/-s/-k) and the human
 * format of `-u` (display_size()).
 */

export const SZ_1K = 1024;
export const SZ_1M = 1024 * SZ_1K;
export const SZ_1G = 1024 * SZ_1M;
export const SZ_1T = 1024 * SZ_1G;

/**
 * parse_size64(): a decimal, hex (0x) or octal (leading 0) number with an optional k/m/g/t suffix (either case,
 * powers of 1024). Null where parse_size64 returns ULLONG_MAX: an empty or malformed string, a negative number
 * or one past 2^53 (the largest size a JS number holds exactly).
 */
export function parseSize64(str: string): number | null {
  const m = /^\s*(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)([kKmMgGtT]?)\s*$/.exec(str);
  if (m === null) return null;
  const digits = m[1]!;
  const base =
    digits.startsWith('0x') || digits.startsWith('0X') ? 16 : digits.length > 1 && digits[0] === '0' ? 8 : 10;
  const n = base === 16 ? Number.parseInt(digits.slice(2), 16) : Number.parseInt(digits, base);
  const unit = { '': 1, k: SZ_1K, m: SZ_1M, g: SZ_1G, t: SZ_1T }[m[2]!.toLowerCase()] ?? 1;
  const v = n * unit;
  return Number.isSafeInteger(v) ? v : null;
}

const U64_MASK = (1n << 64n) - 1n;
const centi = (c: bigint): string => `${c / 100n}.${String(c % 100n).padStart(2, '0')}`;

/**
 * display_size() of util/json.c (mdadm's human_size_brief()), the `-u` format: below 5000 KiB the plain
 * number; else "<x.xx> MiB|GiB|TiB (<y.yy> MB|GB|TB)", MiB/MB below 2 GiB, GiB/GB below 2 TiB, rounded to the
 * nearest hundredth in unsigned 64-bit arithmetic as the C computes it ("30.00 MiB (31.46 MB)").
 */
export function displaySize(bytes: number | bigint): string {
  const b = BigInt(bytes);
  if (b < 5000n * BigInt(SZ_1K)) return b.toString();
  const x200 = (b * 200n) & U64_MASK;
  const [g, t] = [BigInt(SZ_1G), BigInt(SZ_1T)];
  let iec: string;
  if (b < 2n * g) iec = `${centi((x200 / BigInt(SZ_1M) + 1n) / 2n)} MiB`;
  else if (b < 2n * t) iec = `${centi((x200 / g + 1n) / 2n)} GiB`;
  else iec = `${centi((x200 / t + 1n) / 2n)} TiB`;
  let jedec: string;
  if (b < 2n * g) jedec = `${centi((b / 5000n + 1n) / 2n)} MB`;
  else if (b < 2n * t) jedec = `${centi((b / 5000000n + 1n) / 2n)} GB`;
  else jedec = `${centi((b / 5000000000n + 1n) / 2n)} TB`;
  return `${iec} (${jedec})`;
}

/** "0x..." as -u prints addresses and offsets. */
export function hexString(n: number): string {
  return `0x${n.toString(16)}`;
}
