/**
 * drivers/nvdimm/pfn.h and the info-block half of pfn_devs.c (v4.12): struct nd_pfn_sb, the 4 KiB block at
 * namespace offset 4 KiB that turns a namespace into fsdax (pfn) or devdax (dax) mode, with nd_pfn_validate()
 * and the layout computation of nd_pfn_init() as pure functions over bytes.
 */
import { kerr, PAGE_SIZE, PMD_SIZE } from '@daxsim/kernel';
import { ND_GEN_SB_CHECKSUM_OFFSET, ndSbChecksum } from './fletcher64.js';

export const PFN_SIG_LEN = 16;
/** Signature of an fsdax (pfn) info block, NUL included. */
export const PFN_SIG = 'NVDIMM_PFN_INFO\0';
/** Signature of a devdax (dax) info block, NUL included. */
export const DAX_SIG = 'NVDIMM_DAX_INFO\0';

/** enum nd_pfn_mode: where the struct page array lives. */
export const PFN_MODE_NONE = 0;
/** map=mem: in regular memory. */
export const PFN_MODE_RAM = 1;
/** map=dev: in the namespace itself, 64 bytes per 4 KiB page. */
export const PFN_MODE_PMEM = 2;

/** The info block's offset in its namespace (SZ_4K). */
export const PFN_SB_OFFSET = 4096;
/** sizeof(struct nd_pfn_sb). */
export const PFN_SB_SIZE = 4096;
/** Space nd_pfn_init() reserves in front of the data of a devdax namespace (SZ_128K, for dax labels). */
export const DAX_LABEL_RESERVE = 128 * 1024;
/** HPAGE_SIZE on x86-64: vmemmap_populate_hugepages() allocates the memmap in chunks of this size. */
export const HPAGE_SIZE = PMD_SIZE;

/** offsetof() of each field of struct nd_pfn_sb. */
export const ND_PFN_SB_OFFSETS = {
  signature: 0,
  uuid: 16,
  parentUuid: 32,
  flags: 48,
  versionMajor: 52,
  versionMinor: 54,
  dataoff: 56,
  npfns: 64,
  mode: 72,
  startPad: 76,
  endTrunc: 80,
  align: 84,
  padding: 88,
  checksum: ND_GEN_SB_CHECKSUM_OFFSET,
} as const;

const OFF = ND_PFN_SB_OFFSETS;
const SZ_4K = 4096n;
const SZ_8K = 8192n;
const U64 = (1n << 64n) - 1n;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** struct nd_pfn_sb, decoded. u64 fields above Number.MAX_SAFE_INTEGER decode as Infinity. */
export interface NdPfnSb {
  /** signature[16] as latin1 text (PFN_SIG or DAX_SIG when valid). */
  signature: string;
  uuid: Uint8Array;
  /** uuid of the namespace the block belongs to. */
  parentUuid: Uint8Array;
  flags: number;
  versionMajor: number;
  versionMinor: number;
  /** Offset of the data from the namespace start (+ startPad). */
  dataoff: number;
  npfns: number;
  /** PFN_MODE_*. */
  mode: number;
  /** minor >= 1: bytes skipped at the start / cut at the end of the namespace. */
  startPad: number;
  endTrunc: number;
  /** minor >= 2: the mapping alignment (0 in older blocks). */
  align: number;
  checksum: bigint;
}

function viewOf(buf: Uint8Array): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

function getU64(view: DataView, off: number): number {
  const v = view.getBigUint64(off, true);
  return v > MAX_SAFE ? Number.POSITIVE_INFINITY : Number(v);
}

/** Decodes the 4096-byte info block in `buf` (EINVAL if shorter). The padding is not kept. */
export function decodePfnSb(buf: Uint8Array): NdPfnSb {
  if (buf.length < PFN_SB_SIZE) throw kerr('EINVAL', 'decode_pfn_sb');
  const v = viewOf(buf);
  return {
    signature: String.fromCharCode(...buf.subarray(OFF.signature, OFF.signature + PFN_SIG_LEN)),
    uuid: buf.slice(OFF.uuid, OFF.uuid + 16),
    parentUuid: buf.slice(OFF.parentUuid, OFF.parentUuid + 16),
    flags: v.getUint32(OFF.flags, true),
    versionMajor: v.getUint16(OFF.versionMajor, true),
    versionMinor: v.getUint16(OFF.versionMinor, true),
    dataoff: getU64(v, OFF.dataoff),
    npfns: getU64(v, OFF.npfns),
    mode: v.getUint32(OFF.mode, true),
    startPad: v.getUint32(OFF.startPad, true),
    endTrunc: v.getUint32(OFF.endTrunc, true),
    align: v.getUint32(OFF.align, true),
    checksum: v.getBigUint64(OFF.checksum, true),
  };
}

/**
 * Encodes an info block: 4096 bytes, zero padding, checksum = nd_sb_checksum() (sb.checksum is ignored).
 * EINVAL on a field that does not fit its C type.
 */
export function encodePfnSb(sb: Omit<NdPfnSb, 'checksum'> & { checksum?: bigint }): Uint8Array {
  const what = 'encode_pfn_sb';
  const u32 = (n: number) => Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
  const u16 = (n: number) => Number.isInteger(n) && n >= 0 && n <= 0xffff;
  const u64 = (n: number) => Number.isSafeInteger(n) && n >= 0;
  if (sb.signature.length !== PFN_SIG_LEN || sb.uuid.length !== 16 || sb.parentUuid.length !== 16)
    throw kerr('EINVAL', what);
  if (![sb.flags, sb.mode, sb.startPad, sb.endTrunc, sb.align].every(u32)) throw kerr('EINVAL', what);
  if (!u16(sb.versionMajor) || !u16(sb.versionMinor) || !u64(sb.dataoff) || !u64(sb.npfns))
    throw kerr('EINVAL', what);
  const buf = new Uint8Array(PFN_SB_SIZE);
  const v = viewOf(buf);
  for (let i = 0; i < PFN_SIG_LEN; i++) {
    const c = sb.signature.charCodeAt(i);
    if (c > 0xff) throw kerr('EINVAL', what);
    buf[OFF.signature + i] = c;
  }
  buf.set(sb.uuid, OFF.uuid);
  buf.set(sb.parentUuid, OFF.parentUuid);
  v.setUint32(OFF.flags, sb.flags, true);
  v.setUint16(OFF.versionMajor, sb.versionMajor, true);
  v.setUint16(OFF.versionMinor, sb.versionMinor, true);
  v.setBigUint64(OFF.dataoff, BigInt(sb.dataoff), true);
  v.setBigUint64(OFF.npfns, BigInt(sb.npfns), true);
  v.setUint32(OFF.mode, sb.mode, true);
  v.setUint32(OFF.startPad, sb.startPad, true);
  v.setUint32(OFF.endTrunc, sb.endTrunc, true);
  v.setUint32(OFF.align, sb.align, true);
  v.setBigUint64(OFF.checksum, ndSbChecksum(buf), true);
  return buf;
}

/** The errors nd_pfn_validate() returns about a block it read. */
export type PfnSbValidateErrno = 'ENODEV' | 'ENXIO' | 'EINVAL' | 'EBUSY';

/** What the probing device knows: the namespace, and for a configured pfn/dax device its settings. */
export interface PfnSbWant {
  /** PFN_SIG or DAX_SIG. */
  sig: string;
  /** uuid of the namespace (nd_dev_to_uuid). */
  parentUuid: Uint8Array;
  /** The namespace's physical start and size (nsio->res); size is also nvdimm_namespace_capacity(). */
  nsStart: number;
  nsSize: number;
  /** The device's uuid, or null when probing a namespace (the settings then come from the block). */
  uuid?: Uint8Array | null;
  /** The device's mode and align, compared with the block when `uuid` is set. */
  mode?: number | null;
  align?: number | null;
  /** dev_name of the namespace, for messages. */
  nsName?: string;
}

export type PfnSbValidateResult =
  | {
      ok: true;
      /** The block as nd_pfn_validate() leaves it in memory (pads zeroed below v1.1, align below v1.2). */
      sb: NdPfnSb;
      /** The settings the device takes from it: uuid, effective align (legacy: 1 << ilog2(dataoff)), mode. */
      uuid: Uint8Array;
      align: number;
      mode: number;
    }
  | { ok: false; errno: PfnSbValidateErrno; reason: string };

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** ilog2() of a nonzero u64; the x86 shift `1UL << ilog2(0)` (count -1, masked to 63) gives 2^63. */
function legacyAlign(offset: bigint): bigint {
  if (offset === 0n) return 1n << 63n;
  return 1n << BigInt(offset.toString(2).length - 1);
}

/**
 * nd_pfn_validate() on the 4 KiB block in `buf`, in the kernel's order: signature, checksum or parent uuid
 * wrong -> ENODEV; mode neither ram nor pmem -> ENXIO; for a configured device, a different uuid -> ENODEV
 * and a different align or mode -> EINVAL; align above the capacity -> EINVAL; dataoff at or past the end ->
 * EBUSY; dataoff not aligned to align or PAGE_SIZE -> ENXIO. An npfns too large for a JS number -> ENXIO.
 */
export function pfnSbValidate(buf: Uint8Array, want: PfnSbWant): PfnSbValidateResult {
  if (buf.length < PFN_SB_SIZE) throw kerr('EINVAL', 'nd_pfn_validate');
  const fail = (errno: PfnSbValidateErrno, reason: string): PfnSbValidateResult => ({
    ok: false,
    errno,
    reason,
  });
  const v = viewOf(buf);
  const sb = decodePfnSb(buf);
  if (sb.signature !== want.sig) return fail('ENODEV', 'signature mismatch');
  if (sb.checksum !== ndSbChecksum(buf)) return fail('ENODEV', 'checksum mismatch');
  if (!bytesEqual(sb.parentUuid, want.parentUuid)) return fail('ENODEV', 'parent uuid mismatch');

  if (sb.versionMinor < 1) {
    sb.startPad = 0;
    sb.endTrunc = 0;
  }
  if (sb.versionMinor < 2) sb.align = 0;

  if (sb.mode !== PFN_MODE_RAM && sb.mode !== PFN_MODE_PMEM) return fail('ENXIO', `bad mode: ${sb.mode}`);

  const offset = v.getBigUint64(OFF.dataoff, true);
  const align = sb.align === 0 ? legacyAlign(offset) : BigInt(sb.align);
  const mode = sb.mode;

  if (want.uuid) {
    if (!bytesEqual(want.uuid, sb.uuid)) return fail('ENODEV', 'uuid mismatch');
    const alignDiffers = want.align !== null && want.align !== undefined && BigInt(want.align) !== align;
    const modeDiffers = want.mode !== null && want.mode !== undefined && want.mode !== mode;
    if (alignDiffers || modeDiffers) return fail('EINVAL', 'init failed, settings mismatch');
  }

  const capacity = BigInt(want.nsSize);
  if (align > capacity)
    return fail('EINVAL', `alignment: ${align.toString(16)} exceeds capacity ${capacity.toString(16)}`);

  if (offset >= capacity)
    return fail('EBUSY', `pfn array size exceeds capacity of ${want.nsName ?? 'namespace'}`);

  if ((align !== 0n && (offset & (align - 1n)) !== 0n) || offset % BigInt(PAGE_SIZE) !== 0n)
    return fail('ENXIO', `bad offset: ${hexAlt(offset)} dax disabled align: ${hexAlt(align)}`);

  if (!Number.isFinite(sb.npfns)) return fail('ENXIO', `npfns: ${v.getBigUint64(OFF.npfns, true)} corrupt`);

  return { ok: true, sb, uuid: sb.uuid.slice(), align: Number(align), mode };
}

/** printf's %#llx. */
function hexAlt(v: bigint): string {
  return v === 0n ? '0' : `0x${v.toString(16)}`;
}

/** What nd_pfn_init() works from: the device's settings and the namespace it claims. */
export interface PfnSbInitParams {
  /** Defaults to DAX_SIG for a dax device, PFN_SIG otherwise. */
  sig?: string;
  uuid: Uint8Array;
  parentUuid: Uint8Array;
  nsStart: number;
  nsSize: number;
  /** PFN_MODE_PMEM (map=dev) or PFN_MODE_RAM (map=mem); anything else -> ENXIO. */
  mode: number;
  /** nd_pfn->align: a power of two. */
  align: number;
  /** An nd_dax device: reserve DAX_LABEL_RESERVE. */
  isDax: boolean;
  /** The region is read-only -> ENXIO. */
  readOnly: boolean;
  /** Section-collision padding (start_pad, end_trunc); 0 on the section-aligned platforms daxsim models. */
  startPad?: number;
  endTrunc?: number;
  /** dev_name of the region and of the namespace, for messages. */
  regionName?: string;
  nsName?: string;
}

export type PfnSbInitResult =
  | { ok: true /** The encoded 4096-byte block. */; block: Uint8Array; sb: NdPfnSb }
  | { ok: false; errno: 'ENXIO'; reason: string };

function alignUp(x: bigint, a: bigint): bigint {
  return (x + a - 1n) & ~(a - 1n) & U64;
}

/**
 * The "no info block, do init" part of nd_pfn_init(): lays out a v1.2 block. npfns first counts every page
 * past the 8 KiB of info; map=dev puts 64 bytes per page plus the dax reserve after that 8 KiB and aligns the
 * data to max(align, HPAGE_SIZE), as the kernel has done since the altmap was padded to the vmemmap block size
 * (v4.12's ALIGN(64 * npfns, HPAGE_SIZE) then `align` gave fsdax and devdax different offsets at 4K alignment,
 * which breaks the data hand-over ndctl's device-dax test checks); map=mem aligns 8 KiB + reserve; then npfns counts the
 * pages after the data. Read-only region, bad mode, or data offset past the end -> ENXIO. Arithmetic is u64
 * like the kernel's. EINVAL (thrown) for malformed parameters.
 */
export function pfnSbInit(params: PfnSbInitParams): PfnSbInitResult {
  const what = 'nd_pfn_init';
  const startPad = params.startPad ?? 0;
  const endTrunc = params.endTrunc ?? 0;
  const u32 = (n: number) => Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
  if (params.uuid.length !== 16 || params.parentUuid.length !== 16) throw kerr('EINVAL', what);
  if (!Number.isSafeInteger(params.nsStart) || params.nsStart < 0) throw kerr('EINVAL', what);
  if (!Number.isSafeInteger(params.nsSize) || params.nsSize < 0) throw kerr('EINVAL', what);
  if (!u32(startPad) || !u32(endTrunc) || !u32(params.align) || params.align === 0)
    throw kerr('EINVAL', what);
  if ((params.align & (params.align - 1)) !== 0) throw kerr('EINVAL', what);
  const sig = params.sig ?? (params.isDax ? DAX_SIG : PFN_SIG);
  if (sig.length !== PFN_SIG_LEN) throw kerr('EINVAL', what);

  if (params.readOnly)
    return {
      ok: false,
      errno: 'ENXIO',
      reason: `${params.regionName ?? 'region'} is read-only, unable to init metadata`,
    };

  const reserve = params.isDax ? BigInt(DAX_LABEL_RESERVE) : 0n;
  const pad = BigInt(startPad);
  const trunc = BigInt(endTrunc);
  const align = BigInt(params.align);
  const start = BigInt(params.nsStart) + pad;
  const size = BigInt(params.nsSize);
  let npfns = ((size - pad - trunc - SZ_8K) & U64) / SZ_4K;
  let offset: bigint;
  if (params.mode === PFN_MODE_PMEM) {
    const memmapAlign = align > BigInt(HPAGE_SIZE) ? align : BigInt(HPAGE_SIZE);
    offset = (alignUp((start + SZ_8K + 64n * npfns + reserve) & U64, memmapAlign) - start) & U64;
  } else if (params.mode === PFN_MODE_RAM) {
    offset = (alignUp(start + SZ_8K + reserve, align) - start) & U64;
  } else {
    return { ok: false, errno: 'ENXIO', reason: `bad mode: ${params.mode}` };
  }

  if (((offset + pad + trunc) & U64) >= size)
    return {
      ok: false,
      errno: 'ENXIO',
      reason: `${params.nsName ?? 'namespace'} unable to satisfy requested alignment`,
    };

  npfns = (size - offset - pad - trunc) / SZ_4K;
  const fields: Omit<NdPfnSb, 'checksum'> = {
    signature: sig,
    uuid: params.uuid.slice(),
    parentUuid: params.parentUuid.slice(),
    flags: 0,
    versionMajor: 1,
    versionMinor: 2,
    dataoff: Number(offset),
    npfns: Number(npfns),
    mode: params.mode,
    startPad,
    endTrunc,
    align: params.align,
  };
  const block = encodePfnSb(fields);
  return { ok: true, block, sb: decodePfnSb(block) };
}
