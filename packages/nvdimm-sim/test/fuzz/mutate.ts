/**
 * Byte-level and field-aware mutators shared by the fuzz targets. Each mutation edits a buffer in place and
 * returns a one-line description for the case log, so a failure can be read without replaying it.
 */
import type { Prng } from './prng.js';

/** A little-endian unsigned field of a C struct: byte offset and width. */
export interface Field {
  readonly name: string;
  readonly off: number;
  readonly width: 1 | 2 | 4 | 8;
}

const U64_MAX = (1n << 64n) - 1n;

/** Values at the edges of the integer types and of JS numbers, for a field `width` bytes wide. */
export function boundaryValues(width: number): bigint[] {
  const max = (1n << BigInt(8 * width)) - 1n;
  const all = [
    0n,
    1n,
    2n,
    0x7fn,
    0x80n,
    0xffn,
    0x100n,
    0x7fffn,
    0x8000n,
    0xffffn,
    0x1_0000n,
    0x7fff_ffffn,
    0x8000_0000n,
    0xffff_fffen,
    0xffff_ffffn,
    0x1_0000_0000n,
    (1n << 53n) - 1n,
    1n << 53n,
    (1n << 53n) + 1n,
    1n << 63n,
    U64_MAX - 1n,
    U64_MAX,
  ];
  return all.filter((v) => v <= max).concat([max]);
}

export function readUint(buf: Uint8Array, off: number, width: number): bigint {
  let v = 0n;
  for (let i = width - 1; i >= 0; i--) v = (v << 8n) | BigInt(buf[off + i] ?? 0);
  return v;
}

/** Stores `value` modulo 2^(8 * width), little-endian; bytes past the end of `buf` are dropped. */
export function writeUint(buf: Uint8Array, off: number, width: number, value: bigint): void {
  let v = value & ((1n << BigInt(8 * width)) - 1n);
  for (let i = 0; i < width; i++) {
    if (off + i < buf.length) buf[off + i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

export function hex(v: number | bigint): string {
  return `0x${v.toString(16)}`;
}

/** Sets `field` of the struct at `base` and describes it. */
export function setField(buf: Uint8Array, base: number, field: Field, value: bigint, prefix = ''): string {
  writeUint(buf, base + field.off, field.width, value);
  return `${prefix}${field.name}=${hex(value & ((1n << BigInt(8 * field.width)) - 1n))}`;
}

/**
 * One random byte-level mutation inside [lo, hi) of `buf`: a bit flip, an interesting byte, an interesting
 * 16/32/64-bit value (aligned or not), a small add/subtract, a short fill, or a copy of another run of bytes
 * of `buf` (or of `donor`) over this one.
 */
export function mutateBytes(
  prng: Prng,
  buf: Uint8Array,
  lo: number,
  hi: number,
  donor: Uint8Array | null = null,
): string {
  const span = Math.max(1, hi - lo);
  const at = lo + prng.below(span);
  switch (prng.below(6)) {
    case 0: {
      const bit = prng.below(8);
      buf[at]! ^= 1 << bit;
      return `flip ${hex(at)}.${bit}`;
    }
    case 1: {
      const v = prng.pick([0, 1, 0x7f, 0x80, 0xfe, 0xff, prng.below(256)]);
      buf[at] = v;
      return `set8 ${hex(at)}=${hex(v)}`;
    }
    case 2: {
      const width = prng.pick([2, 4, 8] as const);
      const off = prng.chance(0.7) ? at - (at % width) : at;
      const v = prng.pick(boundaryValues(width));
      writeUint(buf, off, width, v);
      return `set${8 * width} ${hex(off)}=${hex(v)}`;
    }
    case 3: {
      const width = prng.pick([1, 2, 4, 8] as const);
      const off = at - (at % width);
      const delta = BigInt(prng.range(1, 35)) * (prng.chance(0.5) ? 1n : -1n);
      writeUint(buf, off, width, readUint(buf, off, width) + delta);
      return `add${8 * width} ${hex(off)}${delta > 0n ? '+' : ''}${delta}`;
    }
    case 4: {
      const len = Math.min(prng.range(1, 64), lo + span - at);
      const v = prng.pick([0, 0xff, -1]);
      for (let i = 0; i < len; i++) buf[at + i] = v < 0 ? prng.u32() & 0xff : v;
      return `fill ${hex(at)}+${len}=${v < 0 ? 'random' : hex(v)}`;
    }
    default: {
      const src = donor !== null && prng.chance(0.5) ? donor : buf;
      const len = prng.range(1, 256);
      const from = prng.below(Math.max(1, src.length - len));
      const to = lo + prng.below(span);
      const chunk = src.slice(from, from + len).subarray(0, Math.max(0, buf.length - to));
      buf.set(chunk, to);
      return `copy ${src === buf ? '' : 'donor:'}${hex(from)}+${chunk.length} -> ${hex(to)}`;
    }
  }
}
