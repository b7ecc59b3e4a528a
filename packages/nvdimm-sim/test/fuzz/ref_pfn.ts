/**
 * The fuzz oracle for info blocks: nd_pfn_validate() of drivers/nvdimm/pfn_devs.c (v4.12) re-derived on raw
 * bytes with u64 arithmetic in bigint, sharing no code with src/pfn.ts, so the two can only agree by both
 * following the kernel.
 */

const SZ_4K = 4096n;

/** nd_fletcher64(addr, len, 1) over a little-endian byte image, as a u64. */
export function refFletcher64(bytes: Uint8Array): bigint {
  let lo = 0;
  let hi = 0;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let off = 0; off + 4 <= bytes.length; off += 4) {
    lo = (lo + view.getUint32(off, true)) >>> 0;
    hi = (hi + lo) >>> 0;
  }
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** nd_sb_checksum(): the checksum of a 4 KiB info block with its last 8 bytes taken as zero. */
export function refSbChecksum(block: Uint8Array): bigint {
  const copy = block.slice(0, 4096);
  copy.fill(0, 4088);
  return refFletcher64(copy);
}

/** Writes the checksum nd_sb_checksum() expects into the block's last 8 bytes. */
export function refSbRechecksum(block: Uint8Array): void {
  new DataView(block.buffer, block.byteOffset).setBigUint64(4088, refSbChecksum(block), true);
}

/** Which test of nd_pfn_validate() refused the block. */
export type PfnCheck =
  | 'signature'
  | 'checksum'
  | 'parent uuid'
  | 'mode'
  | 'uuid'
  | 'settings'
  | 'align > capacity'
  | 'dataoff >= size'
  | 'dataoff alignment';

export type RefPfnResult =
  | { ok: true; align: bigint; mode: number; minor: number }
  | { ok: false; errno: 'ENODEV' | 'ENXIO' | 'EINVAL' | 'EBUSY'; check: PfnCheck };

/** The device state nd_pfn_validate() reads besides the block. */
export interface RefPfnDevice {
  sig: string;
  parentUuid: Uint8Array;
  /** nvdimm_namespace_capacity() == resource_size(&nsio->res) for the namespaces daxsim has. */
  nsSize: number;
  uuid?: Uint8Array | null;
  mode?: number | null;
  align?: number | null;
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** 1UL << ilog2(x) on x86-64, where ilog2(0) is -1 and the shift count is taken mod 64. */
function x86PowerOfTwoBelow(x: bigint): bigint {
  const log = x === 0n ? -1 : x.toString(2).length - 1;
  return 1n << BigInt(((log % 64) + 64) % 64);
}

/** nd_pfn_validate() on the first 4096 bytes of `block`, with the kernel's order of checks. */
export function refNdPfnValidate(block: Uint8Array, dev: RefPfnDevice): RefPfnResult {
  const v = new DataView(block.buffer, block.byteOffset, 4096);
  const fail = (errno: 'ENODEV' | 'ENXIO' | 'EINVAL' | 'EBUSY', check: PfnCheck): RefPfnResult => ({
    ok: false,
    errno,
    check,
  });
  for (let i = 0; i < 16; i++) if (block[i] !== dev.sig.charCodeAt(i)) return fail('ENODEV', 'signature');
  if (v.getBigUint64(4088, true) !== refSbChecksum(block)) return fail('ENODEV', 'checksum');
  if (!same(block.subarray(32, 48), dev.parentUuid)) return fail('ENODEV', 'parent uuid');

  const minor = v.getUint16(54, true);
  const sbAlign = minor < 2 ? 0n : BigInt(v.getUint32(84, true));
  const mode = v.getUint32(72, true);
  if (mode !== 1 && mode !== 2) return fail('ENXIO', 'mode');

  const offset = v.getBigUint64(56, true);
  const align = sbAlign === 0n ? x86PowerOfTwoBelow(offset) : sbAlign;
  if (dev.uuid) {
    if (!same(dev.uuid, block.subarray(16, 32))) return fail('ENODEV', 'uuid');
    if (BigInt(dev.align ?? 0) !== align || dev.mode !== mode) return fail('EINVAL', 'settings');
  }
  const size = BigInt(dev.nsSize);
  if (align > size) return fail('EINVAL', 'align > capacity');
  if (offset >= size) return fail('EBUSY', 'dataoff >= size');
  // IS_ALIGNED() is a mask test, (x & (a - 1)) == 0: an align that is no power of two is taken as that mask
  if ((offset & (align - 1n)) !== 0n || offset % SZ_4K !== 0n) return fail('ENXIO', 'dataoff alignment');
  return { ok: true, align, mode, minor };
}
