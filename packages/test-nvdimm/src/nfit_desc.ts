/**
 * Checking an NFIT-like platform before the nfit driver sees it, and building one from a user's description
 * (DIMM sizes, label sizes, interleave sets), e.g. parsed from JSON. drivers/acpi/nfit/core.c trusts firmware
 * tables far more than this does: here every inconsistency a hand-written description can have is EINVAL with
 * a message naming the offending entry, and nothing is built.
 */
import { kerr, PAGE_SIZE, PHYS_ADDR_MAX } from '@daxsim/kernel';
import type { NfitDimm, NfitMapping, NfitPlatform, NfitSpa } from '@daxsim/nvdimm-sim';

/** Every ACPI_NFIT_MEM_* bit. */
const ACPI_NFIT_MEM_ALL = 0x7f;
/** NSINDEX_ALIGN: label areas are made of 256-byte-aligned index blocks and labels. */
const LABEL_AREA_ALIGN = 256;
/** The label area size nfit_test gives its DIMMs (nfit.c's LABEL_SIZE), the default for a described DIMM. */
const DEFAULT_LABEL_SIZE = 128 * 1024;

function invalid(what: string): never {
  throw kerr('EINVAL', `nfit platform: ${what}`);
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

function isUint(v: unknown, max = Number.MAX_SAFE_INTEGER): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= max;
}

function checkUint(v: unknown, what: string, max?: number): number {
  if (!isUint(v, max)) invalid(`${what} must be an integer in [0, ${hex(max ?? Number.MAX_SAFE_INTEGER)}]`);
  return v;
}

function checkDimm(d: NfitDimm, at: string): void {
  if (typeof d !== 'object' || d === null) invalid(`${at} is not an object`);
  checkUint(d.handle, `${at}.handle`, 0xffffffff);
  checkUint(d.physId, `${at}.physId`, 0xffff);
  checkUint(d.serial, `${at}.serial`, 0xffffffff);
  checkUint(d.size, `${at}.size`);
  if (d.size === 0 || d.size % PAGE_SIZE !== 0)
    invalid(`${at}.size ${hex(d.size)} is not a positive multiple of 4 KiB`);
  checkUint(d.labelSize, `${at}.labelSize`);
  if (d.labelSize % LABEL_AREA_ALIGN !== 0)
    invalid(`${at}.labelSize ${d.labelSize} is not a multiple of 256`);
  checkUint(d.flags, `${at}.flags`, ACPI_NFIT_MEM_ALL);
}

function checkSpaFields(s: NfitSpa, at: string): void {
  if (typeof s !== 'object' || s === null) invalid(`${at} is not an object`);
  checkUint(s.rangeIndex, `${at}.rangeIndex`, 0xffff);
  if (s.type !== 'pmem' && s.type !== 'vcd') invalid(`${at}.type must be "pmem" or "vcd"`);
  checkUint(s.base, `${at}.base`);
  checkUint(s.size, `${at}.size`);
  if (s.base % PAGE_SIZE !== 0) invalid(`${at}.base ${hex(s.base)} is not page-aligned`);
  if (s.size === 0 || s.size % PAGE_SIZE !== 0)
    invalid(`${at}.size ${hex(s.size)} is not a positive multiple of 4 KiB`);
  if (s.base + s.size > PHYS_ADDR_MAX)
    invalid(`${at} ends beyond the physical address space (${hex(PHYS_ADDR_MAX)})`);
  if (s.readOnly !== undefined && typeof s.readOnly !== 'boolean')
    invalid(`${at}.readOnly must be a boolean`);
  if (s.numaNode !== undefined) checkUint(s.numaNode, `${at}.numaNode`, 0xffff);
  if (!Array.isArray(s.mappings)) invalid(`${at}.mappings must be an array`);
  if (s.type === 'vcd' && s.mappings.length > 0) invalid(`${at} is a virtual CD and cannot map DIMMs`);
}

function spaName(s: NfitSpa): string {
  return `spa (range index ${s.rangeIndex}) [${hex(s.base)}-${hex(s.base + s.size - 1)}]`;
}

/**
 * Checks that `platform` is consistent: distinct DIMM handles and SPA range indexes; page-aligned,
 * non-overlapping SPA ranges inside the physical address space; each mapping inside its DIMM and not
 * overlapping another mapping of that DIMM; an interleave set's ways all the same size, adding up to the range,
 * each DIMM at most once, all labelled or all label-less; no DIMMs behind a virtual CD. EINVAL otherwise.
 */
export function validateNfitPlatform(platform: NfitPlatform): void {
  if (typeof platform !== 'object' || platform === null) invalid('not an object');
  if (typeof platform.providerName !== 'string' || platform.providerName === '')
    invalid('providerName must be a non-empty string');
  if (!Array.isArray(platform.dimms)) invalid('dimms must be an array');
  if (!Array.isArray(platform.spas)) invalid('spas must be an array');

  const dimms = new Map<number, NfitDimm>();
  platform.dimms.forEach((d, i) => {
    checkDimm(d, `dimms[${i}]`);
    if (dimms.has(d.handle)) invalid(`dimms[${i}] repeats handle ${hex(d.handle)}`);
    dimms.set(d.handle, d);
  });

  const indexes = new Set<number>();
  platform.spas.forEach((s, i) => {
    checkSpaFields(s, `spas[${i}]`);
    if (indexes.has(s.rangeIndex)) invalid(`spas[${i}] repeats range index ${s.rangeIndex}`);
    indexes.add(s.rangeIndex);
  });

  const byBase = [...platform.spas].sort((a, b) => a.base - b.base);
  for (let i = 1; i < byBase.length; i++) {
    const prev = byBase[i - 1]!;
    const cur = byBase[i]!;
    if (cur.base < prev.base + prev.size) invalid(`${spaName(cur)} overlaps ${spaName(prev)}`);
  }

  const used = new Map<number, { from: number; to: number; spa: NfitSpa }[]>();
  for (const s of platform.spas) {
    const seen = new Set<number>();
    s.mappings.forEach((m: NfitMapping, j) => {
      const at = `${spaName(s)} mapping ${j}`;
      if (typeof m !== 'object' || m === null) invalid(`${at} is not an object`);
      const dimm = dimms.get(checkUint(m.handle, `${at}.handle`, 0xffffffff));
      if (dimm === undefined) invalid(`${at} names unknown DIMM handle ${hex(m.handle)}`);
      checkUint(m.dpa, `${at}.dpa`);
      checkUint(m.size, `${at}.size`);
      if (seen.has(m.handle)) invalid(`${at} maps DIMM ${hex(m.handle)} a second time`);
      if (m.size === 0) invalid(`${at} is empty`);
      seen.add(m.handle);
      if (m.dpa + m.size > dimm.size)
        invalid(
          `${at} [DPA ${hex(m.dpa)}-${hex(m.dpa + m.size - 1)}] goes beyond DIMM ${hex(m.handle)} (${hex(dimm.size)} bytes)`,
        );
      const ranges = used.get(m.handle) ?? [];
      const clash = ranges.find((r) => m.dpa < r.to && r.from < m.dpa + m.size);
      if (clash !== undefined)
        invalid(`${at} overlaps the DPA of DIMM ${hex(m.handle)} that ${spaName(clash.spa)} maps`);
      ranges.push({ from: m.dpa, to: m.dpa + m.size, spa: s });
      used.set(m.handle, ranges);
    });
    if (s.mappings.length === 0) continue;
    const ways = s.mappings.length;
    const total = s.mappings.reduce((sum, m) => sum + m.size, 0);
    if (s.mappings.some((m) => m.size !== s.mappings[0]!.size) || total !== s.size)
      invalid(
        `${spaName(s)}: interleave sizes [${s.mappings.map((m) => hex(m.size)).join(', ')}] do not add up to ${ways} equal ways of ${hex(s.size)}`,
      );
    const labelled = s.mappings.filter((m) => dimms.get(m.handle)!.labelSize > 0).length;
    if (labelled !== 0 && labelled !== ways) invalid(`${spaName(s)} mixes labelled and label-less DIMMs`);
  }
}

/** One DIMM of a described platform. */
export interface NfitDimmDescription {
  /** Default: the DIMM's index. */
  handle?: number;
  /** Default: the DIMM's index. */
  physId?: number;
  /** Default: ~handle, as nfit_test numbers its DIMMs. */
  serial?: number;
  size: number;
  /** Default 128 KiB; 0 for a DIMM without label storage. */
  labelSize?: number;
  /** ACPI_NFIT_MEM_* bits; default 0. */
  flags?: number;
}

/** One way of an interleave set: a DIMM (by index into `dimms`) and the part of its DPA space it gives. */
export interface NfitWayDescription {
  dimm: number;
  /** Default: right after this DIMM's previous mapping in the description (0 for its first). */
  dpa?: number;
  /** Default: the range's size divided by the number of ways; without a range size, the rest of the DIMM. */
  size?: number;
}

/** One SPA range of a described platform. */
export interface NfitSpaDescription {
  base: number;
  /** Default: the sum of the ways' sizes. */
  size?: number;
  /** Default "pmem". */
  type?: 'pmem' | 'vcd';
  /** Default: true for a virtual CD, else false. */
  readOnly?: boolean;
  numaNode?: number;
  /** The interleave set, as DIMM indexes or ways; empty or absent for a range without DIMMs. */
  interleave?: (number | NfitWayDescription)[];
}

/** A user's platform: DIMMs and SPA ranges over them. */
export interface NfitPlatformDescription {
  /** Default "ACPI.NFIT". */
  providerName?: string;
  dimms?: NfitDimmDescription[];
  spas: NfitSpaDescription[];
}

/**
 * Builds the NfitPlatform a description stands for, filling the defaults each field documents (range indexes
 * count from 1 in description order), then checks it with validateNfitPlatform(). EINVAL for a description
 * that is malformed or inconsistent.
 */
export function describeNfitPlatform(desc: NfitPlatformDescription): NfitPlatform {
  if (typeof desc !== 'object' || desc === null) invalid('description is not an object');
  const dimmDescs = desc.dimms ?? [];
  if (!Array.isArray(dimmDescs)) invalid('dimms must be an array');
  if (!Array.isArray(desc.spas)) invalid('spas must be an array');

  const dimms: NfitDimm[] = dimmDescs.map((d, i) => {
    if (typeof d !== 'object' || d === null) invalid(`dimms[${i}] is not an object`);
    const handle = d.handle ?? i;
    return {
      handle,
      physId: d.physId ?? i,
      serial: d.serial ?? (isUint(handle) ? ~handle >>> 0 : 0),
      size: d.size,
      labelSize: d.labelSize ?? DEFAULT_LABEL_SIZE,
      flags: d.flags ?? 0,
    };
  });
  for (const [i, d] of dimms.entries()) checkDimm(d, `dimms[${i}]`);

  const nextDpa = new Map<number, number>();
  const spas: NfitSpa[] = desc.spas.map((s, i) => {
    const at = `spas[${i}]`;
    if (typeof s !== 'object' || s === null) invalid(`${at} is not an object`);
    const interleave = s.interleave ?? [];
    if (!Array.isArray(interleave)) invalid(`${at}.interleave must be an array`);
    const ways = interleave.map((w, j): NfitWayDescription => {
      const way = typeof w === 'number' ? { dimm: w } : w;
      if (typeof way !== 'object' || way === null || !isUint(way.dimm) || way.dimm >= dimms.length)
        invalid(`${at}.interleave[${j}] does not name one of the ${dimms.length} DIMMs by index`);
      if (way.dpa !== undefined) checkUint(way.dpa, `${at}.interleave[${j}].dpa`);
      if (way.size !== undefined) checkUint(way.size, `${at}.interleave[${j}].size`);
      return way;
    });
    ways.forEach((w, j) => {
      if (ways.findIndex((o) => o.dimm === w.dimm) !== j)
        invalid(`${at}.interleave[${j}] maps dimms[${w.dimm}] a second time`);
    });
    const given = s.size === undefined ? undefined : checkUint(s.size, `${at}.size`);
    const share = given === undefined ? undefined : given / Math.max(ways.length, 1);
    const mappings: NfitMapping[] = ways.map((w, j) => {
      const dimm = dimms[w.dimm]!;
      const dpa = w.dpa ?? nextDpa.get(w.dimm) ?? 0;
      if (w.size === undefined && share === undefined && dpa >= dimm.size)
        invalid(`${at}.interleave[${j}] starts at DPA ${hex(dpa)}, past the end of dimms[${w.dimm}]`);
      const wsize = w.size ?? share ?? dimm.size - dpa;
      if (!Number.isSafeInteger(wsize))
        invalid(`${at}: size ${given} does not split into ${ways.length} whole ways (interleave[${j}])`);
      nextDpa.set(w.dimm, Math.max(nextDpa.get(w.dimm) ?? 0, dpa + wsize));
      return { handle: dimm.handle, dpa, size: wsize };
    });
    if (given === undefined && mappings.length === 0)
      invalid(`${at}.size is missing and there are no ways to derive it`);
    const size = given ?? mappings.reduce((sum, m) => sum + m.size, 0);
    const type = s.type ?? 'pmem';
    return {
      rangeIndex: i + 1,
      type,
      base: s.base,
      size,
      mappings,
      readOnly: s.readOnly ?? type === 'vcd',
      ...(s.numaNode === undefined ? {} : { numaNode: s.numaNode }),
    };
  });

  const platform: NfitPlatform = { providerName: desc.providerName ?? 'ACPI.NFIT', dimms, spas };
  validateNfitPlatform(platform);
  return platform;
}
