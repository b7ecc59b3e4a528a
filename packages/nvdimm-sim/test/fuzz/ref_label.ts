/**
 * The fuzz oracle for label areas: what v4.12's DIMM probe makes of a label area image, re-derived from
 * drivers/nvdimm/label.c and dimm.c on raw bytes (u64 in bigint), sharing no code with src/label.ts:
 * nvdimm_init_config_data()'s size check, __nd_label_validate() on both index blocks and the choice between
 * them, the active labels nd_label_active() walks (free bitmap, slot_valid()), nd_label_nfree(), and the DPA
 * reservation nd_label_reserve_dpa() makes of them before the probe succeeds.
 */
import { refFletcher64 } from './ref_pfn.js';

/** ND_LABEL_MIN_SIZE: 512 slots of 128 bytes plus a byte of index each. */
export const REF_LABEL_MIN_SIZE = 512 * 129;
const SIGNATURE = 'NAMESPACE_INDEX\0';
const U64_MAX = (1n << 64n) - 1n;

/** v4.12 sizeof_namespace_index(): config_size / 129 labels, in 512-label steps of 256 bytes. */
export function refSizeofNamespaceIndex(configSize: number): number {
  return Math.floor(Math.floor(configSize / 129) / 512) * 256;
}

/** The fletcher64 an index block of `size` bytes at `off` should carry (its checksum field read as zero). */
export function refIndexChecksum(data: Uint8Array, off: number, size: number): bigint {
  const copy = data.slice(off, off + size);
  copy.fill(0, 64, 72);
  return refFletcher64(copy);
}

/** Stores the right checksum into the index block at `off`. */
export function refIndexRechecksum(data: Uint8Array, off: number, size: number): void {
  new DataView(data.buffer, data.byteOffset).setBigUint64(off + 64, refIndexChecksum(data, off, size), true);
}

/** The first test of __nd_label_validate() an index block fails, or 'valid'. */
export type IndexVerdict =
  | 'signature'
  | 'checksum'
  | 'sequence'
  | 'myoff'
  | 'otheroff'
  | 'mysize'
  | 'nslot'
  | 'valid';

/** Why slot_valid() skipped an active slot. */
export type SlotVerdict = 'slot' | 'alignment';

/** An active label that passed slot_valid(), with its u64 DPA range. */
export interface RefActiveLabel {
  slot: number;
  dpa: bigint;
  rawsize: bigint;
}

export interface RefLabelArea {
  /** nvdimm_init_config_data() refused the area (below ND_LABEL_MIN_SIZE): the probe fails with it. */
  errno: 'ENXIO' | null;
  blocks: [IndexVerdict, IndexVerdict];
  /** ns_current: -1 when no block is valid (the DIMM then has no labels). */
  current: number;
  /** The labels nd_label_active() returns, in slot order, and the slots it skips. */
  active: RefActiveLabel[];
  skipped: Array<{ slot: number; why: SlotVerdict }>;
  /** nd_label_nfree() right after probe (ns_next is a copy of ns_current). */
  nfree: number;
  /** nd_label_reserve_dpa(): EBUSY when two active labels' DPA ranges collide or one wraps. */
  reserve: 'ok' | 'EBUSY';
}

function u32(v: DataView, off: number): number {
  return v.getUint32(off, true);
}

function u64(v: DataView, off: number): bigint {
  return v.getBigUint64(off, true);
}

function verdict(data: Uint8Array, i: number, configSize: number): IndexVerdict {
  const size = refSizeofNamespaceIndex(configSize);
  const off = i * size;
  const v = new DataView(data.buffer, data.byteOffset + off, size);
  for (let k = 0; k < 16; k++) if (data[off + k] !== SIGNATURE.charCodeAt(k)) return 'signature';
  if (u64(v, 64) !== refIndexChecksum(data, off, size)) return 'checksum';
  if ((u32(v, 20) & 3) === 0) return 'sequence';
  if (u64(v, 24) !== BigInt(i * size)) return 'myoff';
  if (u64(v, 40) !== BigInt((1 - i) * size)) return 'otheroff';
  const mysize = u64(v, 32);
  if (mysize > BigInt(size) || mysize < 72n) return 'mysize';
  if (BigInt(u32(v, 56)) * 128n + BigInt(2 * size) > BigInt(configSize)) return 'nslot';
  return 'valid';
}

/** best_seq() of two sequence numbers. */
function refBestSeq(a: number, b: number): number {
  const next = [0, 2, 3, 1];
  const x = a & 3;
  const y = b & 3;
  if (x === 0 || x === y) return y;
  if (y === 0) return x;
  return next[x] === y ? y : x;
}

/** The probe's view of the first `configSize` bytes of `data`. */
export function refLabelArea(data: Uint8Array, configSize: number): RefLabelArea {
  const none: RefLabelArea = {
    errno: null,
    blocks: ['signature', 'signature'],
    current: -1,
    active: [],
    skipped: [],
    nfree: Math.floor(configSize / 129),
    reserve: 'ok',
  };
  if (configSize < REF_LABEL_MIN_SIZE) return { ...none, errno: 'ENXIO' };
  const size = refSizeofNamespaceIndex(configSize);
  const view = new DataView(data.buffer, data.byteOffset, configSize);
  const blocks: [IndexVerdict, IndexVerdict] = [verdict(data, 0, configSize), verdict(data, 1, configSize)];
  let current = -1;
  if (blocks[0] === 'valid' && blocks[1] === 'valid') {
    const s0 = u32(view, 20);
    const s1 = u32(view, size + 20);
    current = refBestSeq(s0, s1) === (s1 & 3) ? 1 : 0;
  } else if (blocks[0] === 'valid') current = 0;
  else if (blocks[1] === 'valid') current = 1;
  if (current < 0) return { ...none, blocks };

  const idx = current * size;
  const nslot = u32(view, idx + 56);
  const bit = (slot: number) => (data[idx + 72 + (slot >> 3)]! >> (slot & 7)) & 1;
  const active: RefActiveLabel[] = [];
  const skipped: RefLabelArea['skipped'] = [];
  let nfree = 0;
  for (let slot = 0; slot < nslot; slot++) {
    if (bit(slot)) {
      nfree++;
      continue;
    }
    const at = 2 * size + slot * 128;
    const dpa = u64(view, at + 104);
    const rawsize = u64(view, at + 112);
    if (u32(view, at + 120) !== slot) {
      skipped.push({ slot, why: 'slot' });
      continue;
    }
    if ((dpa | rawsize) % 4096n !== 0n) {
      skipped.push({ slot, why: 'alignment' });
      continue;
    }
    active.push({ slot, dpa, rawsize });
  }
  return { errno: null, blocks, current, active, skipped, nfree, reserve: refReserveDpa(active) };
}

/**
 * nd_label_reserve_dpa() over labels in slot order: __request_region(&ndd->dpa, dpa, rawsize) each, where
 * ndd->dpa spans the whole u64 space and every reservation is busy, so a wrapping range (rawsize 0 at a
 * nonzero dpa included) or one overlapping an earlier label's fails the probe with EBUSY.
 */
export function refReserveDpa(
  labels: ReadonlyArray<{ dpa: bigint | number; rawsize: bigint | number }>,
): 'ok' | 'EBUSY' {
  // whichever label comes second in slot order fails, so the probe fails iff any range wraps or any two overlap
  const ranges: Array<[bigint, bigint]> = [];
  for (const l of labels) {
    const start = BigInt(l.dpa);
    const end = (start + BigInt(l.rawsize) - 1n) & U64_MAX;
    if (end < start) return 'EBUSY';
    ranges.push([start, end]);
  }
  ranges.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  for (let i = 1; i < ranges.length; i++) if (ranges[i]![0] <= ranges[i - 1]![1]) return 'EBUSY';
  return 'ok';
}
