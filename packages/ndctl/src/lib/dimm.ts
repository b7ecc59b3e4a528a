/**
 * ndctl/lib/dimm.c (ndctl v78): libndctl's own copy of the kernel's label-index code — sizing, validation and
 * fresh index blocks — over label reads and writes made with the DIMM's config-data ioctls, plus
 * ndctl_dimm_{is_active,enable,disable} over sysfs. As libndctl does, it re-implements the format rather than
 * calling the kernel's: only pure format constants and fletcher64 come from @daxsim/nvdimm-sim.
 */
import {
  ND_NAMESPACE_INDEX_OFFSETS,
  type NdCmdGetConfigDataHdr,
  NSINDEX_ALIGN,
  NSINDEX_SEQ_MASK,
  NSINDEX_SIG_LEN,
  NSINDEX_SIGNATURE,
  ndFletcher64,
  SIZEOF_ND_NAMESPACE_INDEX,
} from '@daxsim/nvdimm-sim';
import {
  type NdctlCmd,
  ndctlCmdCfgReadGetData,
  ndctlCmdCfgReadSetExtent,
  ndctlCmdCfgWriteSetData,
  ndctlCmdCfgWriteZeroData,
  ndctlCmdSubmitXlat,
  ndctlDimmCmdNewCfgRead,
  ndctlDimmCmdNewCfgSize,
  ndctlDimmCmdNewCfgWrite,
} from './ioctl.js';
import type { NdDimm } from './libndctl.js';
import { type NdConfigCtx, neg, utilBind, utilUnbind } from './namespace_config.js';
import { waitProbe } from './sysfs.js';

const IX = ND_NAMESPACE_INDEX_OFFSETS;

/** enum ndctl_namespace_version. */
export type NdctlNamespaceVersion = '1.1' | '1.2';

/**
 * struct nvdimm_data: the label read libndctl keeps on the DIMM (ndd->cmd_read, its buffer as ndd->data,
 * config_size, and the label size found or chosen; 0 until probed).
 */
export interface NvdimmData {
  read: NdctlCmd<NdCmdGetConfigDataHdr>;
  configSize: number;
  nslabelSize: number;
}

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
const align = (n: number, a: number) => Math.ceil(n / a) * a;

/** The label area image the read filled (the whole config_size buffer; unread parts are zero). */
function ndData(ndd: NvdimmData): Uint8Array {
  return ndd.read.iter!.totalBuf;
}

/** __sizeof_namespace_index(): an index block for `nslot` slots, rounded up to NSINDEX_ALIGN. */
function sizeofNamespaceIndexFor(nslot: number): number {
  return align(SIZEOF_ND_NAMESPACE_INDEX + Math.ceil(nslot / 8), NSINDEX_ALIGN);
}

/**
 * ndctl_dimm_sizeof_namespace_label(): the label size chosen, or probed from the two NSINDEX_ALIGN-spaced
 * index headers: 256 when more of them say v1.2 than v1.1, else 128.
 */
export function ndctlDimmSizeofNamespaceLabel(ndd: NvdimmData): number {
  if (ndd.nslabelSize !== 0) return ndd.nslabelSize;
  let v1 = 0;
  let v2 = 0;
  for (let offset = 0; offset < NSINDEX_ALIGN * 2; offset += NSINDEX_ALIGN) {
    const hdr = ndctlCmdCfgReadGetData(ndd.read, SIZEOF_ND_NAMESPACE_INDEX, offset);
    if (typeof hdr === 'number' || hdr.length < SIZEOF_ND_NAMESPACE_INDEX) break;
    const v = view(hdr);
    if (v.getUint16(IX.major, true) !== 1) continue;
    const minor = v.getUint16(IX.minor, true);
    if (minor === 1) v1++;
    else if (minor === 2) v2++;
  }
  ndd.nslabelSize = v2 > v1 ? 256 : 128;
  return ndd.nslabelSize;
}

/** nvdimm_num_label_slots() (ndctl's): the slots left once two index blocks are carved out. */
export function nvdimmNumLabelSlots(ndd: NvdimmData): number {
  const label = ndctlDimmSizeofNamespaceLabel(ndd);
  const n = sizeofNamespaceIndexFor(Math.floor(ndd.configSize / label)) / NSINDEX_ALIGN;
  return Math.floor((ndd.configSize - NSINDEX_ALIGN * n * 2) / label);
}

/**
 * ndctl_dimm_sizeof_namespace_index(): one index block's size, or 0 (logged) when the area cannot hold two
 * index blocks and two labels.
 */
export function ndctlDimmSizeofNamespaceIndex(nd: NdConfigCtx, dimm: NdDimm, ndd: NvdimmData): number {
  const label = ndctlDimmSizeofNamespaceLabel(ndd);
  const nslot = nvdimmNumLabelSlots(ndd);
  const space = ndd.configSize - nslot * label;
  const size = sizeofNamespaceIndexFor(nslot) * 2;
  if (size <= space && nslot >= 2) return size / 2;
  nd.err(
    'sizeof_namespace_index',
    `${dimm.devname}: label area (${ndd.configSize}) too small to host (${label} byte) labels\n`,
  );
  return 0;
}

/** __label_validate(): the current index block (0 or 1) for the label size in `ndd`, or -EINVAL. */
function labelValidateOnce(nd: NdConfigCtx, dimm: NdDimm, ndd: NvdimmData): number {
  const size = ndctlDimmSizeofNamespaceIndex(nd, dimm, ndd);
  const data = ndData(ndd);
  const label = ndctlDimmSizeofNamespaceLabel(ndd);
  const valid: boolean[] = [false, false];
  const seqs = [0, 0];
  for (let i = 0; i < 2; i++) {
    const block = data.slice(i * size, (i + 1) * size);
    if (block.length < SIZEOF_ND_NAMESPACE_INDEX) continue;
    const v = view(block);
    const sig = String.fromCharCode(...block.subarray(IX.sig, IX.sig + NSINDEX_SIG_LEN));
    if (sig !== NSINDEX_SIGNATURE) continue;
    const version = v.getUint16(IX.major, true) * 100 + v.getUint16(IX.minor, true);
    const labelsize = version >= 102 ? 1 << (7 + block[IX.labelsize]!) : 128;
    if (labelsize !== label) continue;
    const sum = v.getBigUint64(IX.checksum, true);
    v.setBigUint64(IX.checksum, 0n, true);
    if (ndFletcher64(block, size, true) !== sum) continue;
    const seq = v.getUint32(IX.seq, true);
    if ((seq & NSINDEX_SEQ_MASK) === 0) continue;
    if (v.getBigUint64(IX.myoff, true) !== BigInt(i * size)) continue;
    if (v.getBigUint64(IX.otheroff, true) !== BigInt((1 - i) * size)) continue;
    const mysize = v.getBigUint64(IX.mysize, true);
    if (mysize > BigInt(size) || mysize < BigInt(SIZEOF_ND_NAMESPACE_INDEX)) continue;
    if (v.getUint32(IX.nslot, true) * label + 2 * size > ndd.configSize) continue;
    valid[i] = true;
    seqs[i] = seq;
  }
  if (valid[0] && valid[1]) {
    const best = bestSeq(seqs[0]!, seqs[1]!);
    return best === (seqs[1]! & NSINDEX_SEQ_MASK) ? 1 : 0;
  }
  if (valid[0]) return 0;
  if (valid[1]) return 1;
  return neg('EINVAL');
}

function incSeq(seq: number): number {
  return [0, 2, 3, 1][seq & 3]!;
}

function bestSeq(a: number, b: number): number {
  const x = a & NSINDEX_SEQ_MASK;
  const y = b & NSINDEX_SEQ_MASK;
  if (x === 0 || x === y) return y;
  if (y === 0) return x;
  return incSeq(x) === y ? y : x;
}

/**
 * ndctl_dimm_validate_labels() (label_validate()): tries 128- then 256-byte labels; the number of label slots
 * for the first size with a valid index block, else -EINVAL.
 */
export function ndctlDimmValidateLabels(nd: NdConfigCtx, dimm: NdDimm, ndd: NvdimmData): number {
  for (const size of [128, 256]) {
    ndd.nslabelSize = size;
    if (labelValidateOnce(nd, dimm, ndd) >= 0) return nvdimmNumLabelSlots(ndd);
  }
  return neg('EINVAL');
}

/** A completed get_config_size for the DIMM, or null. */
function cfgSize(nd: NdConfigCtx, dimm: NdDimm) {
  const size = ndctlDimmCmdNewCfgSize(dimm);
  if (size === null || ndctlCmdSubmitXlat(nd, size) < 0) return null;
  return size;
}

/**
 * ndctl_dimm_read_label_index(): reads both index blocks (sized for 128-byte labels, the largest index) and
 * makes that read the DIMM's label data; null when the DIMM has no label commands or a read fails.
 */
export async function ndctlDimmReadLabelIndex(nd: NdConfigCtx, dimm: NdDimm): Promise<NvdimmData | null> {
  await waitProbe(nd.kernel);
  const size = cfgSize(nd, dimm);
  const read = size === null ? null : ndctlDimmCmdNewCfgRead(size);
  if (size === null || read === null) return null;
  const ndd: NvdimmData = { read, configSize: size.buf.configSize, nslabelSize: 128 };
  if (ndctlCmdCfgReadSetExtent(read, ndctlDimmSizeofNamespaceIndex(nd, dimm, ndd) * 2, 0) < 0) return null;
  if (ndctlCmdSubmitXlat(nd, read) < 0) return null;
  return ndd;
}

/**
 * ndctl_dimm_read_label_extent(): reads `len` bytes (the whole area when 0) from `offset`; null when the DIMM
 * has no label commands, the extent runs past the area, or a read fails.
 */
export async function ndctlDimmReadLabelExtent(
  nd: NdConfigCtx,
  dimm: NdDimm,
  len: number,
  offset: number,
): Promise<NvdimmData | null> {
  await waitProbe(nd.kernel);
  const size = cfgSize(nd, dimm);
  const read = size === null ? null : ndctlDimmCmdNewCfgRead(size);
  if (size === null || read === null) return null;
  if (ndctlCmdCfgReadSetExtent(read, len === 0 ? size.buf.configSize : len, offset) < 0) return null;
  if (ndctlCmdSubmitXlat(nd, read) < 0) return null;
  return { read, configSize: size.buf.configSize, nslabelSize: 0 };
}

/** nvdimm_set_config_data(): writes `buf` at `offset` through a write made from the label read. */
function nvdimmSetConfigData(nd: NdConfigCtx, ndd: NvdimmData, offset: number, buf: Uint8Array): number {
  const write = ndctlDimmCmdNewCfgWrite(ndd.read);
  if (write === null) return neg('ENXIO');
  const rc = ndctlCmdCfgWriteSetData(write, buf, offset);
  if (rc < 0) return rc;
  return ndctlCmdSubmitXlat(nd, write) < 0 ? neg('ENXIO') : 0;
}

/**
 * write_label_index(): fills index block `index` in the read buffer (header, every slot free in a bitmap rounded
 * up to 64 bits, the rest of the block as it was read) for label `version`, checksums it and writes it.
 */
function writeLabelIndex(
  nd: NdConfigCtx,
  dimm: NdDimm,
  ndd: NvdimmData,
  version: NdctlNamespaceVersion,
  index: number,
  seq: number,
): number {
  ndd.nslabelSize = version === '1.1' ? 128 : 256;
  const size = ndctlDimmSizeofNamespaceIndex(nd, dimm, ndd);
  const nslot = nvdimmNumLabelSlots(ndd);
  const block = ndData(ndd).subarray(index * size, (index + 1) * size);
  const v = view(block);
  for (let i = 0; i < NSINDEX_SIG_LEN; i++) block[IX.sig + i] = NSINDEX_SIGNATURE.charCodeAt(i);
  block.fill(0, IX.flags, IX.flags + 3);
  block[IX.labelsize] = ndd.nslabelSize >> 8;
  v.setUint32(IX.seq, seq, true);
  v.setBigUint64(IX.myoff, BigInt(index * size), true);
  v.setBigUint64(IX.mysize, BigInt(size), true);
  v.setBigUint64(IX.otheroff, BigInt((1 - index) * size), true);
  v.setBigUint64(IX.labeloff, BigInt(2 * size), true);
  v.setUint32(IX.nslot, nslot, true);
  v.setUint16(IX.major, 1, true);
  v.setUint16(IX.minor, ndd.nslabelSize < 256 ? 1 : 2, true);
  v.setBigUint64(IX.checksum, 0n, true);
  block.fill(0xff, IX.free, IX.free + align(nslot, 64) / 8);
  v.setBigUint64(IX.checksum, ndFletcher64(block, size, true), true);
  return nvdimmSetConfigData(nd, ndd, index * size, block.slice());
}

/**
 * ndctl_dimm_init_labels(): writes index 0 (seq 3) and index 1 (seq 2) for label `version`; the number of
 * label slots, or a negative errno.
 */
export function ndctlDimmInitLabels(
  nd: NdConfigCtx,
  dimm: NdDimm,
  ndd: NvdimmData,
  version: NdctlNamespaceVersion,
): number {
  for (let i = 0; i < 2; i++) {
    const rc = writeLabelIndex(nd, dimm, ndd, version, i, 3 - i);
    if (rc < 0) return rc;
  }
  return nvdimmNumLabelSlots(ndd);
}

/** ndctl_dimm_is_active(): nmemN/state reads "active" (1), anything else (0), unreadable (-ENXIO). */
export function ndctlDimmIsActive(dimm: NdDimm): number {
  try {
    return dimm.bus.kernel.sysfs.read(`${dimm.path}/state`).replace(/\n$/, '') === 'active' ? 1 : 0;
  } catch {
    return neg('ENXIO');
  }
}

/** ndctl_dimm_disable(): unbinds the DIMM's driver; -EBUSY (logged) when it stays bound. */
export async function ndctlDimmDisable(nd: NdConfigCtx, dimm: NdDimm): Promise<number> {
  if (!dimm.isEnabled()) return 0;
  await utilUnbind(nd.kernel, dimm.devname);
  if (dimm.isEnabled()) {
    nd.err('ndctl_dimm_disable', `${dimm.devname}: failed to disable\n`);
    return neg('EBUSY');
  }
  return 0;
}

/** ndctl_dimm_enable(): binds the DIMM to its driver; -ENXIO (logged) when that fails. */
export async function ndctlDimmEnable(nd: NdConfigCtx, dimm: NdDimm): Promise<number> {
  if (dimm.isEnabled()) return 0;
  await utilBind(nd.kernel, dimm.devname);
  if (!dimm.isEnabled()) {
    nd.err('ndctl_dimm_enable', `${dimm.devname}: failed to enable\n`);
    return neg('ENXIO');
  }
  return 0;
}

/** Disable then enable, so that the kernel drops its cached copy of the label area and reads it again. */
export async function ndctlDimmRevalidate(nd: NdConfigCtx, dimm: NdDimm): Promise<number> {
  if (!dimm.isEnabled()) return 0;
  const rc = await ndctlDimmDisable(nd, dimm);
  return rc !== 0 ? rc : ndctlDimmEnable(nd, dimm);
}

/**
 * ndctl_dimm_zero_label_extent(): zeroes `len` bytes (the whole area when 0) from `offset`, refusing (-EBUSY)
 * while a region using the DIMM is active, then has the kernel re-read the area.
 */
export async function ndctlDimmZeroLabelExtent(
  nd: NdConfigCtx,
  dimm: NdDimm,
  len: number,
  offset: number,
): Promise<number> {
  const ndd = await ndctlDimmReadLabelExtent(nd, dimm, len, offset);
  if (ndd === null) return neg('EINVAL');
  if (ndctlDimmIsActive(dimm) === 1) return neg('EBUSY');
  const write = ndctlDimmCmdNewCfgWrite(ndd.read);
  if (write === null) return neg('ENOTTY');
  if (ndctlCmdCfgWriteZeroData(write) < 0) return neg('ENXIO');
  const rc = ndctlCmdSubmitXlat(nd, write);
  if (rc < 0) return rc;
  return ndctlDimmRevalidate(nd, dimm);
}
