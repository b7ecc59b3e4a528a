/**
 * drivers/nvdimm/label.h and label.c (v4.12): the namespace label storage area of a DIMM, format v1.1.
 *
 * The area (the DIMM's "config data") holds two index blocks followed by an array of 128-byte label slots.
 * Nothing is updated in place: new labels go to free slots, then the non-current index block is rewritten
 * with the next sequence number and the new free bitmap, and only that write makes the new set current.
 * Everything here is little-endian and byte-compatible with what Linux writes.
 */
import { kerr } from '@daxsim/kernel';
import { ndFletcher64 } from './fletcher64.js';

export const NSINDEX_SIG_LEN = 16;
export const NSINDEX_ALIGN = 256;
export const NSINDEX_SEQ_MASK = 0x3;
export const NSLABEL_UUID_LEN = 16;
export const NSLABEL_NAME_LEN = 64;
/** Read-only label. */
export const NSLABEL_FLAG_ROLABEL = 0x1;
/** DIMM-local (blk) namespace. */
export const NSLABEL_FLAG_LOCAL = 0x2;
/** The namespace contains a BTT. */
export const NSLABEL_FLAG_BTT = 0x4;
/** Label being updated. */
export const NSLABEL_FLAG_UPDATING = 0x8;
/** Smallest label area the DIMM driver accepts (see sizeofNamespaceIndex): 66048 bytes. */
export const ND_LABEL_MIN_SIZE = 512 * 129;
export const ND_LABEL_ID_SIZE = 50;
/** nd_label_write_index() flag: write a fresh index with every slot free. */
export const ND_NSINDEX_INIT = 0x1;
/** NSINDEX_SIGNATURE, NUL included. */
export const NSINDEX_SIGNATURE = 'NAMESPACE_INDEX\0';
/** sizeof(struct nd_namespace_index), without the free[] bitmap. */
export const SIZEOF_ND_NAMESPACE_INDEX = 72;
/** sizeof(struct nd_namespace_label) in v1.1. */
export const SIZEOF_ND_NAMESPACE_LABEL = 128;

/** offsetof() of each field of struct nd_namespace_index. */
export const ND_NAMESPACE_INDEX_OFFSETS = {
  sig: 0,
  flags: 16,
  labelsize: 19,
  seq: 20,
  myoff: 24,
  mysize: 32,
  otheroff: 40,
  labeloff: 48,
  nslot: 56,
  major: 60,
  minor: 62,
  checksum: 64,
  free: 72,
} as const;

/** offsetof() of each field of struct nd_namespace_label (v1.1). */
export const ND_NAMESPACE_LABEL_OFFSETS = {
  uuid: 0,
  name: 16,
  flags: 80,
  nlabel: 84,
  position: 86,
  isetcookie: 88,
  lbasize: 96,
  dpa: 104,
  rawsize: 112,
  slot: 120,
  unused: 124,
} as const;

const IX = ND_NAMESPACE_INDEX_OFFSETS;
const LB = ND_NAMESPACE_LABEL_OFFSETS;
const SZ_4K = 4096;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** struct nd_namespace_index: the label set superblock, decoded. */
export interface NdNamespaceIndex {
  /** sig[16] as latin1 text ("NAMESPACE_INDEX\0" when valid). */
  sig: string;
  /** flags[3], as a little-endian 24-bit value (a placeholder, written as 0). */
  flags: number;
  /** log2(label size) - 7: 0 for the 128-byte labels of v1.1. */
  labelsize: number;
  seq: number;
  /** u64 offsets and sizes: a value above Number.MAX_SAFE_INTEGER decodes as Infinity (never valid). */
  myoff: number;
  mysize: number;
  otheroff: number;
  labeloff: number;
  nslot: number;
  major: number;
  minor: number;
  checksum: bigint;
  /** free[]: one bit per slot, little-endian bit order, set = free; the rest of the index block. */
  free: Uint8Array;
}

/** struct nd_namespace_label (v1.1), decoded. */
export interface NdNamespaceLabel {
  uuid: Uint8Array;
  /** name[64] up to its first NUL, as UTF-8. */
  name: string;
  /** NSLABEL_FLAG_* bits. */
  flags: number;
  /** Number of labels describing the namespace (the interleave ways). */
  nlabel: number;
  /** This label's position in the set. */
  position: number;
  /** Interleave-set cookie (u64). */
  isetcookie: bigint;
  /** LBA size, 0 for pmem. u64 fields above Number.MAX_SAFE_INTEGER decode as Infinity. */
  lbasize: number;
  /** DPA of the range on this DIMM. */
  dpa: number;
  /** Size of the range on this DIMM. */
  rawsize: number;
  /** The slot this label was written to. */
  slot: number;
}

/** The name the region/namespace code uses for a label. */
export type NamespaceLabel = NdNamespaceLabel;

function getU64(view: DataView, off: number): number {
  const v = view.getBigUint64(off, true);
  return v > MAX_SAFE ? Number.POSITIVE_INFINITY : Number(v);
}

function setU64(view: DataView, off: number, value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) throw kerr('EINVAL', what);
  view.setBigUint64(off, BigInt(value), true);
}

function viewOf(buf: Uint8Array): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

function latin1(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes);
}

/** printf's %#x / %#llx: "0" for zero, else 0x-prefixed lowercase hex. */
function hexAlt(v: number | bigint): string {
  return v === 0 || v === 0n ? '0' : `0x${v.toString(16)}`;
}

/** nd_inc_seq(): the next sequence number in the cycle 1 -> 2 -> 3 -> 1 (0 stays 0, meaning invalid). */
export function ndIncSeq(seq: number): number {
  return [0, 2, 3, 1][seq & NSINDEX_SEQ_MASK]!;
}

/** best_seq(): of two sequence numbers, the newer one in nd_inc_seq order (b on a tie; 0 loses). */
export function bestSeq(a: number, b: number): number {
  const x = a & NSINDEX_SEQ_MASK;
  const y = b & NSINDEX_SEQ_MASK;
  if (x === 0 || x === y) return y;
  if (y === 0) return x;
  return ndIncSeq(x) === y ? y : x;
}

/** nvdimm_num_label_slots(): slots a fresh index describes, a byte of index per 128-byte label. */
export function nvdimmNumLabelSlots(configSize: number): number {
  return Math.floor(configSize / (SIZEOF_ND_NAMESPACE_LABEL + 1));
}

/**
 * sizeof_namespace_index() (v4.12): the size of one index block, a multiple of NSINDEX_ALIGN; 256 bytes for
 * the 128 KiB areas of nfit_test, 0 for areas below ND_LABEL_MIN_SIZE.
 */
export function sizeofNamespaceIndex(configSize: number): number {
  return Math.floor(nvdimmNumLabelSlots(configSize) / (NSINDEX_ALIGN * 2)) * NSINDEX_ALIGN;
}

/** nd_label_next_nsindex(): the other index block, or -1 when there is no current one. */
export function ndLabelNextNsindex(index: number): number {
  if (index < 0) return -1;
  return (index + 1) % 2;
}

/** nd_label_copy(): copies one index block (sizeof_namespace_index bytes) over another; a null side is a no-op. */
export function ndLabelCopy(configSize: number, dst: Uint8Array | null, src: Uint8Array | null): void {
  if (!dst || !src) return;
  dst.set(src.subarray(0, sizeofNamespaceIndex(configSize)));
}

/** nd_label_gen_id(): "pmem-<uuid>" ("blk-<uuid>" for NSLABEL_FLAG_LOCAL), the DPA allocation owner name. */
export function ndLabelGenId(uuid: Uint8Array, flags: number): string {
  const h = Array.from(uuid.subarray(0, NSLABEL_UUID_LEN), (b) => b.toString(16).padStart(2, '0')).join('');
  const id = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
  return `${flags & NSLABEL_FLAG_LOCAL ? 'blk' : 'pmem'}-${id}`;
}

/** The fletcher64 of an index block of `size` bytes, computed with its checksum field as zero. */
export function ndNamespaceIndexChecksum(block: Uint8Array, size: number = block.length): bigint {
  const copy = block.slice(0, size);
  copy.fill(0, IX.checksum, IX.checksum + 8);
  return ndFletcher64(copy, size, true);
}

/** Decodes an index block (at least SIZEOF_ND_NAMESPACE_INDEX bytes; free[] is the rest of `block`). */
export function decodeNamespaceIndex(block: Uint8Array): NdNamespaceIndex {
  if (block.length < SIZEOF_ND_NAMESPACE_INDEX) throw kerr('EINVAL', 'decode_namespace_index');
  const v = viewOf(block);
  return {
    sig: latin1(block.subarray(IX.sig, IX.sig + NSINDEX_SIG_LEN)),
    flags: block[IX.flags]! | (block[IX.flags + 1]! << 8) | (block[IX.flags + 2]! << 16),
    labelsize: block[IX.labelsize]!,
    seq: v.getUint32(IX.seq, true),
    myoff: getU64(v, IX.myoff),
    mysize: getU64(v, IX.mysize),
    otheroff: getU64(v, IX.otheroff),
    labeloff: getU64(v, IX.labeloff),
    nslot: v.getUint32(IX.nslot, true),
    major: v.getUint16(IX.major, true),
    minor: v.getUint16(IX.minor, true),
    checksum: v.getBigUint64(IX.checksum, true),
    free: block.slice(IX.free),
  };
}

/**
 * Encodes an index block of `size` bytes (sizeof_namespace_index) with a freshly computed checksum
 * (idx.checksum is ignored); free[] is truncated or zero-padded to the block. EINVAL on an unencodable field.
 */
export function encodeNamespaceIndex(idx: Omit<NdNamespaceIndex, 'checksum'>, size: number): Uint8Array {
  if (!Number.isSafeInteger(size) || size < SIZEOF_ND_NAMESPACE_INDEX)
    throw kerr('EINVAL', 'encode_namespace_index');
  const what = 'encode_namespace_index';
  const u32 = (n: number) => Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
  const u16 = (n: number) => Number.isInteger(n) && n >= 0 && n <= 0xffff;
  if (
    idx.sig.length !== NSINDEX_SIG_LEN ||
    !u32(idx.seq) ||
    !u32(idx.nslot) ||
    !u16(idx.major) ||
    !u16(idx.minor)
  )
    throw kerr('EINVAL', what);
  if (!Number.isInteger(idx.flags) || idx.flags < 0 || idx.flags > 0xffffff) throw kerr('EINVAL', what);
  if (!Number.isInteger(idx.labelsize) || idx.labelsize < 0 || idx.labelsize > 0xff)
    throw kerr('EINVAL', what);
  const block = new Uint8Array(size);
  const v = viewOf(block);
  for (let i = 0; i < NSINDEX_SIG_LEN; i++) {
    const c = idx.sig.charCodeAt(i);
    if (c > 0xff) throw kerr('EINVAL', what);
    block[IX.sig + i] = c;
  }
  block[IX.flags] = idx.flags & 0xff;
  block[IX.flags + 1] = (idx.flags >> 8) & 0xff;
  block[IX.flags + 2] = (idx.flags >> 16) & 0xff;
  block[IX.labelsize] = idx.labelsize;
  v.setUint32(IX.seq, idx.seq, true);
  setU64(v, IX.myoff, idx.myoff, what);
  setU64(v, IX.mysize, idx.mysize, what);
  setU64(v, IX.otheroff, idx.otheroff, what);
  setU64(v, IX.labeloff, idx.labeloff, what);
  v.setUint32(IX.nslot, idx.nslot, true);
  v.setUint16(IX.major, idx.major, true);
  v.setUint16(IX.minor, idx.minor, true);
  block.set(idx.free.subarray(0, size - IX.free), IX.free);
  v.setBigUint64(IX.checksum, ndNamespaceIndexChecksum(block, size), true);
  return block;
}

/** Decodes a 128-byte v1.1 label. */
export function decodeNamespaceLabel(buf: Uint8Array): NdNamespaceLabel {
  if (buf.length < SIZEOF_ND_NAMESPACE_LABEL) throw kerr('EINVAL', 'decode_namespace_label');
  const v = viewOf(buf);
  const nameBytes = buf.subarray(LB.name, LB.name + NSLABEL_NAME_LEN);
  const nul = nameBytes.indexOf(0);
  return {
    uuid: buf.slice(LB.uuid, LB.uuid + NSLABEL_UUID_LEN),
    name: new TextDecoder().decode(nul < 0 ? nameBytes : nameBytes.subarray(0, nul)),
    flags: v.getUint32(LB.flags, true),
    nlabel: v.getUint16(LB.nlabel, true),
    position: v.getUint16(LB.position, true),
    isetcookie: v.getBigUint64(LB.isetcookie, true),
    lbasize: getU64(v, LB.lbasize),
    dpa: getU64(v, LB.dpa),
    rawsize: getU64(v, LB.rawsize),
    slot: v.getUint32(LB.slot, true),
  };
}

/** Encodes a 128-byte v1.1 label (the unused tail is zero). EINVAL on an unencodable field or a name over 64 bytes. */
export function encodeNamespaceLabel(label: NdNamespaceLabel): Uint8Array {
  const what = 'encode_namespace_label';
  const u32 = (n: number) => Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
  const u16 = (n: number) => Number.isInteger(n) && n >= 0 && n <= 0xffff;
  if (label.uuid.length !== NSLABEL_UUID_LEN) throw kerr('EINVAL', what);
  if (!u32(label.flags) || !u16(label.nlabel) || !u16(label.position) || !u32(label.slot))
    throw kerr('EINVAL', what);
  if (label.isetcookie < 0n || label.isetcookie >= 1n << 64n) throw kerr('EINVAL', what);
  const name = new TextEncoder().encode(label.name);
  if (name.length > NSLABEL_NAME_LEN) throw kerr('EINVAL', what);
  const buf = new Uint8Array(SIZEOF_ND_NAMESPACE_LABEL);
  const v = viewOf(buf);
  buf.set(label.uuid, LB.uuid);
  buf.set(name, LB.name);
  v.setUint32(LB.flags, label.flags, true);
  v.setUint16(LB.nlabel, label.nlabel, true);
  v.setUint16(LB.position, label.position, true);
  v.setBigUint64(LB.isetcookie, label.isetcookie, true);
  setU64(v, LB.lbasize, label.lbasize, what);
  setU64(v, LB.dpa, label.dpa, what);
  setU64(v, LB.rawsize, label.rawsize, what);
  v.setUint32(LB.slot, label.slot, true);
  return buf;
}

/**
 * slot_valid(): the label records the slot it sits in and a 4 KiB-aligned DPA range. A dpa or rawsize too
 * large for a JS number also fails (the kernel would accept it here and fail the DPA reservation later).
 */
export function slotValid(label: NdNamespaceLabel, slot: number): boolean {
  if (label.slot !== slot) return false;
  if (!Number.isSafeInteger(label.dpa) || !Number.isSafeInteger(label.rawsize)) return false;
  return label.dpa % SZ_4K === 0 && label.rawsize % SZ_4K === 0;
}

function testBitLe(bitmap: Uint8Array, bit: number): boolean {
  const byte = bitmap[bit >> 3];
  return byte !== undefined && (byte & (1 << (bit & 7))) !== 0;
}

/**
 * nd_label_reserve_dpa(): what the DIMM probe does with the active labels before it succeeds: each label's
 * range [dpa, dpa + rawsize) is requested, in slot order, from the DIMM's DPA space (all of u64) as a busy
 * region. EBUSY (thrown) when a range overlaps an earlier label's or wraps (rawsize 0 at a nonzero dpa).
 */
export function ndLabelReserveDpa(
  labels: ReadonlyArray<{ dpa: number | bigint; rawsize: number | bigint }>,
): void {
  const u64Max = (1n << 64n) - 1n;
  const taken: Array<{ start: bigint; end: bigint }> = [];
  for (const label of labels) {
    const start = BigInt(label.dpa);
    const end = (start + BigInt(label.rawsize) - 1n) & u64Max;
    if (end < start) throw kerr('EBUSY', 'nd_label_reserve_dpa');
    taken.push({ start, end });
  }
  // the later of two overlapping labels is refused, whatever the order: any overlap fails the reservation
  taken.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  for (let i = 1; i < taken.length; i++)
    if (taken[i]!.start <= taken[i - 1]!.end) throw kerr('EBUSY', 'nd_label_reserve_dpa');
}

/** The slots whose free bit is clear (for_each_clear_bit_le over nslot bits): the active labels' slots. */
export function ndLabelActiveSlots(free: Uint8Array, nslot: number): number[] {
  const out: number[] = [];
  for (let slot = 0; slot < nslot; slot++)
    if (!testBitLe(free, slot) && slot >> 3 < free.length) out.push(slot);
  return out;
}

/** nd_label_alloc_slot(): claims the lowest free slot in `free` and returns it, or -1 (UINT_MAX) when none is. */
export function ndLabelAllocSlot(free: Uint8Array, nslot: number): number {
  for (let slot = 0; slot < nslot; slot++) {
    if (testBitLe(free, slot)) {
      free[slot >> 3]! &= ~(1 << (slot & 7));
      return slot;
    }
  }
  return -1;
}

/** nd_label_free_slot(): marks `slot` free; true if it was in use, false if already free or out of range. */
export function ndLabelFreeSlot(free: Uint8Array, nslot: number, slot: number): boolean {
  if (!Number.isInteger(slot) || slot < 0 || slot >= nslot || slot >> 3 >= free.length) return false;
  const was = testBitLe(free, slot);
  free[slot >> 3]! |= 1 << (slot & 7);
  return !was;
}

/** nd_label_nfree() (bitmap_weight): how many of the nslot slots are free. */
export function ndLabelNfree(free: Uint8Array, nslot: number): number {
  let n = 0;
  for (let slot = 0; slot < nslot; slot++) if (testBitLe(free, slot)) n++;
  return n;
}

/** Why one index block is or is not valid (the dev_dbg of __nd_label_validate). */
export type NsIndexStatus =
  | { valid: true; seq: number }
  | { valid: false; errno: 'ENODEV' | 'EINVAL'; reason: string };

/** What nd_label_validate() found. */
export interface NdLabelValidation {
  /** The current index block: 0 or 1, -1 when neither is valid. */
  index: number;
  /** Each block's verdict. */
  blocks: [NsIndexStatus, NsIndexStatus];
  /** The dev_dbg texts of the blocks that failed. */
  reasons: string[];
}

function checkIndex(data: Uint8Array, i: number, configSize: number): NsIndexStatus {
  const size = sizeofNamespaceIndex(configSize);
  const block = data.subarray(i * size, (i + 1) * size);
  const v = viewOf(block);
  const bad = (errno: 'ENODEV' | 'EINVAL', what: string): NsIndexStatus => ({
    valid: false,
    errno,
    reason: `nd_label_validate: nsindex${i} ${what}`,
  });
  if (latin1(block.subarray(IX.sig, IX.sig + NSINDEX_SIG_LEN)) !== NSINDEX_SIGNATURE)
    return bad('ENODEV', 'signature invalid');
  if (v.getBigUint64(IX.checksum, true) !== ndNamespaceIndexChecksum(block, size))
    return bad('ENODEV', 'checksum invalid');
  const seq = v.getUint32(IX.seq, true);
  if ((seq & NSINDEX_SEQ_MASK) === 0) return bad('EINVAL', `sequence: ${hexAlt(seq)} invalid`);
  const myoff = v.getBigUint64(IX.myoff, true);
  if (myoff !== BigInt(i * size)) return bad('EINVAL', `myoff: ${hexAlt(myoff)} invalid`);
  const otheroff = v.getBigUint64(IX.otheroff, true);
  if (otheroff !== BigInt((1 - i) * size)) return bad('EINVAL', `otheroff: ${hexAlt(otheroff)} invalid`);
  const mysize = v.getBigUint64(IX.mysize, true);
  if (mysize > BigInt(size) || mysize < BigInt(SIZEOF_ND_NAMESPACE_INDEX))
    return bad('EINVAL', `mysize: ${hexAlt(mysize)} invalid`);
  const nslot = v.getUint32(IX.nslot, true);
  if (nslot * SIZEOF_ND_NAMESPACE_LABEL + 2 * size > configSize)
    return bad('EINVAL', `nslot: ${nslot} invalid, config_size: ${hexAlt(configSize)}`);
  return { valid: true, seq };
}

/**
 * nd_label_validate() over a whole label area image: checks both index blocks (signature and checksum ->
 * ENODEV; zero seq, myoff, otheroff, mysize or nslot out of line with the area -> EINVAL) and picks the
 * current one: the only valid one, or of two the newer by bestSeq (index 1 on equal seq). ENXIO (thrown)
 * for an area below ND_LABEL_MIN_SIZE.
 */
export function ndLabelValidate(data: Uint8Array, configSize: number = data.length): NdLabelValidation {
  if (configSize < ND_LABEL_MIN_SIZE || data.length < configSize) throw kerr('ENXIO', 'nd_label_validate');
  const blocks: [NsIndexStatus, NsIndexStatus] = [
    checkIndex(data, 0, configSize),
    checkIndex(data, 1, configSize),
  ];
  const [a, b] = blocks;
  let index = -1;
  if (a.valid && b.valid) index = bestSeq(a.seq, b.seq) === (b.seq & NSINDEX_SEQ_MASK) ? 1 : 0;
  else if (a.valid) index = 0;
  else if (b.valid) index = 1;
  const reasons = blocks.flatMap((s) => (s.valid ? [] : [s.reason]));
  return { index, blocks, reasons };
}

/** The DIMM's label storage (config data), as the firmware's get/set config data commands reach it. */
export interface LabelStorage {
  /** config_size in bytes. */
  readonly size: number;
  read(offset: number, length: number): Uint8Array;
  /** May throw (EIO and the like), possibly after writing part of `data`. */
  write(offset: number, data: Uint8Array): void;
}

export interface LabelAreaOptions {
  /** dev_dbg sink for the label code's debug messages. */
  dbg?: (msg: string) => void;
}

/** A label update: labels to write into free slots (their `slot` is assigned), and slots to free. */
export interface LabelUpdate {
  add?: Array<Omit<NdNamespaceLabel, 'slot'> & { slot?: number }>;
  remove?: number[];
}

/**
 * The label state of one DIMM as struct nvdimm_drvdata holds it (ndd->data, ns_current, ns_next), with the
 * label.c operations the region and namespace code use. Writes go straight to the storage; the object keeps
 * an image of what is on media.
 */
export class LabelArea {
  readonly configSize: number;
  /** sizeof_namespace_index(). */
  readonly nsindexSize: number;
  private data: Uint8Array;
  private nsCurrent = -1;
  private nsNext = -1;
  private readonly dbg: (msg: string) => void;

  /** ENXIO for an area smaller than ND_LABEL_MIN_SIZE (or above 4 GiB), as nvdimm_init_config_data(). */
  constructor(
    private readonly storage: LabelStorage,
    options: LabelAreaOptions = {},
  ) {
    const size = storage.size;
    if (!Number.isInteger(size) || size < ND_LABEL_MIN_SIZE || size > 0xffffffff)
      throw kerr('ENXIO', 'nvdimm_init_config_data');
    this.configSize = size;
    this.nsindexSize = sizeofNamespaceIndex(size);
    this.data = new Uint8Array(size);
    this.dbg = options.dbg ?? (() => {});
  }

  /** ndd->ns_current: the current index block (0 or 1), or -1 when none is valid. */
  get current(): number {
    return this.nsCurrent;
  }

  /** ndd->ns_next: the index block the next update writes, or -1. */
  get next(): number {
    return this.nsNext;
  }

  /** nvdimm_num_label_slots(). */
  get numLabelSlots(): number {
    return nvdimmNumLabelSlots(this.configSize);
  }

  /**
   * nvdimm_init_config_data() + nd_label_validate() + the probe's ns_next and nd_label_copy(): reads the whole
   * area, picks the current index and returns each block's verdict. A read error propagates.
   */
  validate(): NdLabelValidation {
    const image = this.storage.read(0, this.configSize);
    if (image.length !== this.configSize) throw kerr('EIO', 'nvdimm_init_config_data');
    this.data = new Uint8Array(image);
    const result = ndLabelValidate(this.data, this.configSize);
    for (const reason of result.reasons) this.dbg(reason);
    this.nsCurrent = result.index;
    this.nsNext = ndLabelNextNsindex(result.index);
    return result;
  }

  /**
   * init_labels(): when no index is current (or `force`), writes index 0 with seq 3 and index 1 with seq 2,
   * every slot free (nd_label_write_index with ND_NSINDEX_INIT); then index 0 is current. Returns whether it
   * wrote. A write error propagates (the object then re-reads the media).
   */
  init(force = false): boolean {
    if (!force && this.nsCurrent >= 0 && this.nsNext >= 0) return false;
    this.nsCurrent = -1;
    this.nsNext = -1;
    try {
      for (let i = 0; i < 2; i++) this.writeIndex(i, 3 - i, this.initBlock());
    } catch (e) {
      this.resync();
      throw e;
    }
    this.nsNext = 1;
    this.nsCurrent = 0;
    return true;
  }

  /** nd_label_active() for n = 0, 1, ...: the labels of the current set with a valid slot, by slot. */
  labels(): NdNamespaceLabel[] {
    const cur = this.indexBlock(this.nsCurrent);
    if (cur === null) return [];
    const out: NdNamespaceLabel[] = [];
    for (const slot of ndLabelActiveSlots(cur.subarray(IX.free), viewOf(cur).getUint32(IX.nslot, true))) {
      const label = decodeNamespaceLabel(this.labelBytes(slot));
      if (!slotValid(label, slot)) {
        this.dbg(
          `nd_label_active_count: slot${slot} invalid slot: ${label.slot} dpa: ${hex(label.dpa)} size: ${hex(label.rawsize)}`,
        );
        continue;
      }
      out.push(label);
    }
    return out;
  }

  /**
   * nd_label_reserve_dpa() as the DIMM probe runs it: the DPA ranges of every active slot slot_valid() accepts,
   * u64 values beyond Number.MAX_SAFE_INTEGER included (labels() leaves those out). EBUSY (thrown) on a
   * collision; nothing to do without a current index.
   */
  reserveDpa(): void {
    const cur = this.indexBlock(this.nsCurrent);
    if (cur === null) return;
    const ranges: Array<{ dpa: bigint; rawsize: bigint }> = [];
    for (const slot of ndLabelActiveSlots(cur.subarray(IX.free), viewOf(cur).getUint32(IX.nslot, true))) {
      const v = viewOf(this.labelBytes(slot));
      const dpa = v.getBigUint64(LB.dpa, true);
      const rawsize = v.getBigUint64(LB.rawsize, true);
      if (v.getUint32(LB.slot, true) !== slot || (dpa | rawsize) % BigInt(SZ_4K) !== 0n) continue;
      ranges.push({ dpa, rawsize });
    }
    ndLabelReserveDpa(ranges);
  }

  /** nd_label_active_count(). */
  activeCount(): number {
    return this.labels().length;
  }

  /** nd_label_nfree(): free slots of the index the next update starts from; all slots when none is current. */
  freeSlots(): number {
    const cur = this.indexBlock(this.nsCurrent);
    if (cur === null) return this.numLabelSlots;
    return ndLabelNfree(cur.subarray(IX.free), viewOf(cur).getUint32(IX.nslot, true));
  }

  /**
   * __pmem_label_update / __blk_label_update / del_labels: writes each added label into the lowest free slot
   * (slots freed by this same update are not reused), frees the removed slots, then writes the next index
   * block with nd_inc_seq(current seq); only that last write commits. Returns the slots given to the added
   * labels, in order. ENXIO with no current index (a remove-only update is then a no-op) or too few free slots; EINVAL
   * (nothing written) for a bad label or a removed slot that is not active. A storage write error propagates
   * and the object re-reads the media: a torn update leaves the previous set current.
   */
  update(changes: LabelUpdate): number[] {
    const adds = changes.add ?? [];
    const removes = changes.remove ?? [];
    const cur = this.indexBlock(this.nsCurrent);
    if (cur === null) {
      if (adds.length === 0) return [];
      throw kerr('ENXIO', 'nd_label_update');
    }
    const next = cur.slice();
    const free = next.subarray(IX.free);
    const nslot = viewOf(next).getUint32(IX.nslot, true);
    const active = new Set(ndLabelActiveSlots(free, nslot));
    const seen = new Set<number>();
    for (const slot of removes) {
      if (!active.has(slot) || seen.has(slot)) throw kerr('EINVAL', 'nd_label_update');
      seen.add(slot);
    }
    for (const add of adds) encodeNamespaceLabel({ ...add, slot: 0 });
    if (ndLabelNfree(free, nslot) < adds.length) {
      this.dbg('nd_label_update: no free label slot');
      throw kerr('ENXIO', 'nd_label_update');
    }
    const slots: number[] = [];
    try {
      for (const add of adds) {
        const slot = ndLabelAllocSlot(free, nslot);
        this.dbg(`__pmem_label_update: allocated: ${slot}`);
        const bytes = encodeNamespaceLabel({ ...add, slot });
        const offset = this.labelOffset(slot);
        this.storage.write(offset, bytes);
        this.data.set(bytes, offset);
        slots.push(slot);
      }
      for (const slot of removes) {
        ndLabelFreeSlot(free, nslot, slot);
        this.dbg(`__pmem_label_update: free: ${slot}`);
      }
      this.writeIndex(this.nsNext, ndIncSeq(viewOf(cur).getUint32(IX.seq, true)), next);
    } catch (e) {
      this.resync();
      throw e;
    }
    this.nsCurrent = ndLabelNextNsindex(this.nsCurrent);
    this.nsNext = ndLabelNextNsindex(this.nsNext);
    return slots;
  }

  /**
   * After a failed write nobody knows how much reached the media (a write may fail after landing): take the
   * media's word by validating again, keeping the previous state if that read fails too.
   */
  private resync(): void {
    try {
      this.validate();
    } catch {
      /* the state from before the failed update stands */
    }
  }

  /** The index block `i` as last read or written (a copy), or null for -1. */
  indexBlock(i: number): Uint8Array | null {
    if (i !== 0 && i !== 1) return null;
    return this.data.slice(i * this.nsindexSize, (i + 1) * this.nsindexSize);
  }

  /** Byte offset of a label slot in the area (nd_label_base() + slot * 128). */
  labelOffset(slot: number): number {
    return 2 * this.nsindexSize + slot * SIZEOF_ND_NAMESPACE_LABEL;
  }

  private labelBytes(slot: number): Uint8Array {
    const off = this.labelOffset(slot);
    return this.data.subarray(off, off + SIZEOF_ND_NAMESPACE_LABEL);
  }

  /** An index block with every one of nvdimm_num_label_slots() slots free, as ND_NSINDEX_INIT fills it. */
  private initBlock(): Uint8Array {
    const block = new Uint8Array(this.nsindexSize);
    const nslot = this.numLabelSlots;
    viewOf(block).setUint32(IX.nslot, nslot, true);
    const nfree = Math.ceil(nslot / 64) * 64;
    block.fill(0xff, IX.free, IX.free + nfree / 8);
    for (let bit = nslot; bit < nfree; bit++) block[IX.free + (bit >> 3)]! &= ~(1 << (bit & 7));
    return block;
  }

  /**
   * nd_label_write_index(): fills in the header of `block` (keeping its nslot and free bitmap) for position
   * `index` with `seq`, checksums it and writes it to the media.
   */
  private writeIndex(index: number, seq: number, block: Uint8Array): void {
    const size = this.nsindexSize;
    const v = viewOf(block);
    for (let i = 0; i < NSINDEX_SIG_LEN; i++) block[IX.sig + i] = NSINDEX_SIGNATURE.charCodeAt(i);
    block.fill(0, IX.flags, IX.flags + 3);
    block[IX.labelsize] = 0;
    v.setUint32(IX.seq, seq, true);
    v.setBigUint64(IX.myoff, BigInt(index * size), true);
    v.setBigUint64(IX.mysize, BigInt(size), true);
    v.setBigUint64(IX.otheroff, BigInt(ndLabelNextNsindex(index) * size), true);
    v.setBigUint64(IX.labeloff, BigInt(2 * size), true);
    v.setUint16(IX.major, 1, true);
    v.setUint16(IX.minor, 1, true);
    v.setBigUint64(IX.checksum, ndNamespaceIndexChecksum(block, size), true);
    this.storage.write(index * size, block);
    this.data.set(block, index * size);
  }
}

function hex(n: number): string {
  return Number.isFinite(n) ? n.toString(16) : 'inf';
}
