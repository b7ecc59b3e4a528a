/**
 * drivers/nvdimm/core.c: nd_fletcher64() and nd_sb_checksum(), the checksums of the namespace index blocks
 * and of the pfn/dax/btt info blocks.
 */
import { kerr } from '@daxsim/kernel';

const MASK64 = (1n << 64n) - 1n;

/** SZ_4K: sizeof(struct nd_gen_sb), the generic 4 KiB info block whose last 8 bytes are the checksum. */
export const ND_GEN_SB_SIZE = 4096;
/** offsetof(struct nd_gen_sb, checksum). */
export const ND_GEN_SB_CHECKSUM_OFFSET = ND_GEN_SB_SIZE - 8;

/**
 * nd_fletcher64(addr, len, le): Fletcher-64 over the len/4 32-bit words of `data` (a trailing partial word is
 * ignored, as in the kernel). The low half is the running 32-bit sum, the high half the wrapped sum of sums.
 * `le` = false sums the words in CPU order; daxsim models a little-endian CPU (x86-64), so both give one result.
 */
export function ndFletcher64(data: Uint8Array, len: number = data.length, _le = true): bigint {
  const words = Math.floor(Math.min(len, data.length) / 4);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let lo32 = 0;
  let hi32 = 0;
  for (let i = 0; i < words; i++) {
    lo32 = (lo32 + view.getUint32(i * 4, true)) >>> 0;
    hi32 = (hi32 + lo32) >>> 0;
  }
  return ((BigInt(hi32) << 32n) | BigInt(lo32)) & MASK64;
}

/**
 * nd_sb_checksum(): fletcher64 of a 4 KiB info block computed as if its checksum field (the last 8 bytes)
 * were zero; `sb` itself is left unchanged. EINVAL if `sb` is shorter than 4 KiB.
 */
export function ndSbChecksum(sb: Uint8Array): bigint {
  if (sb.length < ND_GEN_SB_SIZE) throw kerr('EINVAL', 'nd_sb_checksum');
  const copy = sb.slice(0, ND_GEN_SB_SIZE);
  copy.fill(0, ND_GEN_SB_CHECKSUM_OFFSET);
  return ndFletcher64(copy, ND_GEN_SB_SIZE, true);
}
