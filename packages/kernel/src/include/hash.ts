/** include/linux/hash.h and fs/namei.c string hashing, as the drivers use them for hash tables. */

/** GOLDEN_RATIO_32. */
export const GOLDEN_RATIO_32 = 0x61c88647;

/** hash_32(val, bits): multiplicative hash of a 32-bit value into `bits` bits. */
export function hash32(val: number, bits: number): number {
  return Math.imul(val >>> 0, GOLDEN_RATIO_32) >>> (32 - bits);
}

/**
 * full_name_hash() stand-in: a 32-bit FNV-1a hash of the string, salted. The kernel's word-at-a-time hash is
 * an implementation detail; only its use as a bucket index is modeled.
 */
export function fullNameHash(salt: string, name: string): number {
  let h = 0x811c9dc5;
  for (const s of [salt, name])
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
  return h >>> 0;
}
