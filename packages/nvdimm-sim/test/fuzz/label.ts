/**
 * Fuzz target: the label area as the DIMM probe reads it. Each case is a label area image and a config size;
 * it goes through ndLabelValidate() (nd_label_validate), a LabelArea's validate() and labels() (the probe's
 * read and nd_label_active), activeLabels() (what the region scan walks), freeSlots() (nd_label_nfree),
 * decodeNamespaceIndex()/decodeNamespaceLabel()/slotValid(), and reserveDpa()/ndLabelReserveDpa() (the
 * probe's nd_label_reserve_dpa). Inputs start from areas written through LabelArea's own init and update path and are then
 * mutated; every result is compared with refLabelArea(), the kernel C re-derived on raw bytes.
 */

import {
  decodeNamespaceIndex,
  LabelArea,
  type LabelStorage,
  ND_NAMESPACE_INDEX_OFFSETS,
  ND_NAMESPACE_LABEL_OFFSETS,
  type NdNamespaceLabel,
  ndLabelReserveDpa,
  ndLabelValidate,
  slotValid,
} from '../../src/label.js';
import { activeLabels } from '../../src/label_update.js';
import { boundaryValues, type Field, hex, mutateBytes, readUint, setField, writeUint } from './mutate.js';
import { Prng } from './prng.js';
import {
  type IndexVerdict,
  REF_LABEL_MIN_SIZE,
  type RefLabelArea,
  refIndexRechecksum,
  refLabelArea,
  refReserveDpa,
  refSizeofNamespaceIndex,
} from './ref_label.js';
import { check, type FuzzReport, runFuzz } from './report.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const IX = ND_NAMESPACE_INDEX_OFFSETS;
const LB = ND_NAMESPACE_LABEL_OFFSETS;

/** struct nd_namespace_index's header fields. */
const INDEX_FIELDS: Field[] = [
  { name: 'flags0', off: IX.flags, width: 1 },
  { name: 'labelsize', off: IX.labelsize, width: 1 },
  { name: 'seq', off: IX.seq, width: 4 },
  { name: 'myoff', off: IX.myoff, width: 8 },
  { name: 'mysize', off: IX.mysize, width: 8 },
  { name: 'otheroff', off: IX.otheroff, width: 8 },
  { name: 'labeloff', off: IX.labeloff, width: 8 },
  { name: 'nslot', off: IX.nslot, width: 4 },
  { name: 'major', off: IX.major, width: 2 },
  { name: 'minor', off: IX.minor, width: 2 },
  { name: 'checksum', off: IX.checksum, width: 8 },
];

/** struct nd_namespace_label's (v1.1) integer fields. */
const LABEL_FIELDS: Field[] = [
  { name: 'flags', off: LB.flags, width: 4 },
  { name: 'nlabel', off: LB.nlabel, width: 2 },
  { name: 'position', off: LB.position, width: 2 },
  { name: 'isetcookie', off: LB.isetcookie, width: 8 },
  { name: 'lbasize', off: LB.lbasize, width: 8 },
  { name: 'dpa', off: LB.dpa, width: 8 },
  { name: 'rawsize', off: LB.rawsize, width: 8 },
  { name: 'slot', off: LB.slot, width: 4 },
];
const UTF8 = new TextDecoder();

/** A label area in memory, as the firmware's config-data commands reach it. */
class MemStorage implements LabelStorage {
  readonly size: number;
  constructor(readonly bytes: Uint8Array) {
    this.size = bytes.length;
  }
  read(offset: number, length: number): Uint8Array {
    return this.bytes.slice(offset, offset + length);
  }
  write(offset: number, data: Uint8Array): void {
    this.bytes.set(data, offset);
  }
}

/** A seed: a label area image and its config size. */
interface LabelSeed {
  name: string;
  data: Uint8Array;
}

function uuidOf(n: number): Uint8Array {
  return Uint8Array.from({ length: 16 }, (_, i) => (n * 53 + i * 7 + 3) & 0xff);
}

/** The label of namespace `n` at position `pos` of a 2-way set, 4 MiB apart on the DIMM. */
function nsLabel(n: number, pos: number): Omit<NdNamespaceLabel, 'slot'> {
  return {
    uuid: uuidOf(n),
    name: n % 3 === 0 ? '' : `ns${n}-${'x'.repeat(n % 50)}`,
    flags: 0,
    nlabel: 2,
    position: pos,
    isetcookie: 0x1234_5678_9abc_def0n + BigInt(n),
    lbasize: 0,
    dpa: n * 4 * MiB,
    rawsize: (1 + (n % 4)) * MiB,
  };
}

/** Areas written by the real init and update path: blank, fresh, a few labels, churned, crowded, other sizes. */
export function labelSeeds(): LabelSeed[] {
  const seeds: LabelSeed[] = [];
  const build = (name: string, size: number, steps: (area: LabelArea) => void) => {
    const s = new MemStorage(new Uint8Array(size));
    const area = new LabelArea(s);
    area.validate();
    steps(area);
    seeds.push({ name, data: s.bytes });
  };
  seeds.push({ name: 'blank 128K', data: new Uint8Array(128 * KiB) });
  build('fresh 128K', 128 * KiB, (a) => a.init());
  build('6 labels 128K', 128 * KiB, (a) => {
    a.init();
    a.update({ add: [nsLabel(1, 0), nsLabel(2, 0), nsLabel(3, 1)] });
    a.update({ add: [nsLabel(4, 0)], remove: [1] });
    a.update({ add: [nsLabel(5, 1), nsLabel(6, 0)], remove: [0] });
    a.update({ add: [nsLabel(7, 0), nsLabel(8, 1)] });
  });
  build('churned 128K', 128 * KiB, (a) => {
    a.init();
    for (let n = 1; n <= 40; n++) {
      const live = a.labels();
      const remove = n % 3 === 0 && live.length > 0 ? [live[n % live.length]!.slot] : [];
      a.update({ add: [nsLabel(n, n & 1)], remove });
    }
  });
  build('crowded 128K', 128 * KiB, (a) => {
    a.init();
    for (let n = 0; n < 6; n++)
      a.update({ add: Array.from({ length: 100 }, (_, k) => nsLabel(1 + n * 100 + k, k & 1)) });
  });
  build('min size', REF_LABEL_MIN_SIZE, (a) => {
    a.init();
    a.update({ add: [nsLabel(1, 0), nsLabel(2, 1), nsLabel(3, 0)] });
  });
  build('2 x min size', 2 * REF_LABEL_MIN_SIZE, (a) => {
    a.init();
    a.update({ add: [nsLabel(1, 0), nsLabel(2, 1)] });
    a.update({ add: [nsLabel(3, 0)], remove: [0] });
  });
  build('256K', 256 * KiB, (a) => {
    a.init();
    a.update({ add: [nsLabel(1, 0), nsLabel(9, 1), nsLabel(10, 0)] });
  });
  return seeds;
}

/** One generated case. */
export interface LabelCase {
  seedName: string;
  /** What the firmware returns: exactly configSize bytes. */
  data: Uint8Array;
  configSize: number;
  mutations: string[];
}

/** The current index of `data` by the reference, or a guess (0) when none is valid. */
function currentOf(data: Uint8Array, configSize: number): number {
  if (configSize < REF_LABEL_MIN_SIZE) return 0;
  return Math.max(0, refLabelArea(data, configSize).current);
}

function activeSlots(data: Uint8Array, configSize: number): number[] {
  if (configSize < REF_LABEL_MIN_SIZE) return [];
  const r = refLabelArea(data, configSize);
  return [...r.active.map((a) => a.slot), ...r.skipped.map((s) => s.slot)];
}

function indexValues(
  prng: Prng,
  f: Field,
  data: Uint8Array,
  base: number,
  size: number,
  configSize: number,
): bigint[] {
  const other = base === 0 ? size : 0;
  switch (f.name) {
    case 'seq': {
      const theirs = readUint(data, other + IX.seq, 4);
      return [0n, 1n, 2n, 3n, 4n, 5n, 7n, theirs, theirs + 1n, theirs + 4n, 0x8000_0000n, 0xffff_ffffn];
    }
    case 'myoff':
    case 'otheroff':
      return [0n, BigInt(size), BigInt(2 * size), 256n, 512n, 1n << 63n, ...boundaryValues(8)];
    case 'mysize':
      return [0n, 71n, 72n, 73n, BigInt(size - 1), BigInt(size), BigInt(size + 1), ...boundaryValues(8)];
    case 'nslot': {
      const fit = Math.floor((configSize - 2 * size) / 128);
      return [
        0n,
        1n,
        BigInt(fit),
        BigInt(fit + 1),
        BigInt(Math.floor(configSize / 129)),
        readUint(data, base + IX.nslot, 4) + BigInt(prng.range(-3, 3)),
        ...boundaryValues(4),
      ];
    }
    default:
      return boundaryValues(f.width);
  }
}

function labelValues(
  prng: Prng,
  f: Field,
  data: Uint8Array,
  slot: number,
  others: number[],
  labelBase: number,
): bigint[] {
  const other = others.length > 0 ? labelBase + prng.pick(others) * 128 : labelBase;
  const otherDpa = readUint(data, other + LB.dpa, 8);
  const otherSize = readUint(data, other + LB.rawsize, 8);
  switch (f.name) {
    case 'dpa':
      return [
        0n,
        4096n,
        4095n,
        otherDpa,
        otherDpa + otherSize - 4096n,
        otherDpa + otherSize,
        MAX_SAFE + 1n - 4096n,
        1n << 53n,
        1n << 63n,
        (1n << 64n) - 4096n,
        ...boundaryValues(8),
      ];
    case 'rawsize':
      return [
        0n,
        4096n,
        4095n,
        otherSize,
        otherSize + 4096n,
        1n << 53n,
        1n << 63n,
        (1n << 64n) - 4096n,
        ...boundaryValues(8),
      ];
    case 'slot':
      return [BigInt(slot), BigInt(slot + 1), BigInt(slot - 1), ...boundaryValues(4)];
    default:
      return boundaryValues(f.width);
  }
}

/** Builds case `seed` of the target. Touched index blocks are re-checksummed three times in four. */
export function labelCase(seed: number, seeds: LabelSeed[] = labelSeeds()): LabelCase {
  const prng = new Prng(seed);
  const from = prng.pick(seeds);
  let configSize = from.data.length;
  let data = from.data.slice();
  const mutations = [`seed ${from.name}`];
  if (prng.chance(0.06)) {
    const sizes = [
      REF_LABEL_MIN_SIZE - 1,
      REF_LABEL_MIN_SIZE,
      prng.range(REF_LABEL_MIN_SIZE, configSize),
      configSize - 1,
      configSize + 1,
      2 * REF_LABEL_MIN_SIZE - 1,
      2 * REF_LABEL_MIN_SIZE,
      configSize + 128 * prng.range(1, 600),
      prng.below(REF_LABEL_MIN_SIZE),
    ];
    configSize = prng.pick(sizes);
    const resized = new Uint8Array(configSize);
    resized.set(data.subarray(0, configSize));
    if (configSize > data.length && prng.chance(0.5)) prng.fill(resized.subarray(data.length));
    data = resized;
    mutations.push(`config_size=${configSize}`);
  }
  const size = refSizeofNamespaceIndex(configSize);
  const labelBase = 2 * size;
  const touched = new Set<number>();
  const n = prng.chance(0.04) ? 0 : prng.range(1, 5);
  for (let i = 0; i < n; i++) {
    const r = prng.below(100);
    const cur = currentOf(data, configSize);
    const b = prng.chance(0.65) ? cur : 1 - cur;
    const base = b * size;
    if (size === 0 || configSize < 2 * size + 128) {
      mutations.push(mutateBytes(prng, data, 0, configSize));
    } else if (r < 34) {
      const f = prng.pick(INDEX_FIELDS);
      mutations.push(
        setField(
          data,
          base,
          f,
          prng.pick(indexValues(prng, f, data, base, size, configSize)),
          `nsindex${b}.`,
        ),
      );
      touched.add(b);
    } else if (r < 38) {
      const sig = prng.pick(['NAMESPACE_INDEY\0', 'NAMESPACE_INDEX_', '\0'.repeat(16), 'NVDIMM_PFN_INFO\0']);
      for (let k = 0; k < 16; k++) data[base + k] = sig.charCodeAt(k);
      mutations.push(`nsindex${b}.sig=${JSON.stringify(sig)}`);
      touched.add(b);
    } else if (r < 50) {
      const nslot = Number(readUint(data, base + IX.nslot, 4));
      const limit = Math.min(nslot + 16, (size - IX.free) * 8);
      const slot = prng.below(Math.max(1, limit));
      if (prng.chance(0.8)) {
        data[base + IX.free + (slot >> 3)]! ^= 1 << (slot & 7);
        mutations.push(`nsindex${b}.free bit ${slot} flipped`);
      } else {
        const v = prng.pick([0, 0xff, prng.below(256)]);
        data[base + IX.free + (slot >> 3)] = v;
        mutations.push(`nsindex${b}.free byte ${slot >> 3}=${hex(v)}`);
      }
      touched.add(b);
    } else if (r < 70) {
      const live = activeSlots(data, configSize);
      const maxSlot = Math.floor((configSize - labelBase) / 128);
      const slot = live.length > 0 && prng.chance(0.8) ? prng.pick(live) : prng.below(Math.max(1, maxSlot));
      const at = labelBase + slot * 128;
      if (prng.chance(0.12)) {
        prng.fill(data.subarray(at + LB.name, at + LB.name + 64));
        mutations.push(`label${slot}.name=random`);
      } else if (prng.chance(0.1)) {
        data.fill(prng.pick([0, 0xff]), at + LB.uuid, at + LB.uuid + 16);
        mutations.push(`label${slot}.uuid filled`);
      } else {
        const f = prng.pick(LABEL_FIELDS);
        mutations.push(
          setField(
            data,
            at,
            f,
            prng.pick(labelValues(prng, f, data, slot, live, labelBase)),
            `label${slot}.`,
          ),
        );
      }
    } else if (r < 78) {
      if (prng.chance(0.4)) {
        data.copyWithin((1 - b) * size, b * size, b * size + size);
        mutations.push(`nsindex${b} copied over nsindex${1 - b}`);
        touched.add(1 - b);
      } else {
        // a label duplicated into another slot, which is then marked in use and told its new place
        const live = activeSlots(data, configSize);
        const maxSlot = Math.floor((configSize - labelBase) / 128);
        const src = live.length > 0 ? prng.pick(live) : 0;
        const dst = prng.below(Math.max(1, Math.min(maxSlot, Number(readUint(data, base + IX.nslot, 4)))));
        data.copyWithin(labelBase + dst * 128, labelBase + src * 128, labelBase + src * 128 + 128);
        if (prng.chance(0.7)) writeUint(data, labelBase + dst * 128 + LB.slot, 4, BigInt(dst));
        data[base + IX.free + (dst >> 3)]! &= ~(1 << (dst & 7));
        mutations.push(`label${src} duplicated into slot ${dst} (nsindex${b})`);
        touched.add(b);
      }
    } else if (r < 92) {
      mutations.push(mutateBytes(prng, data, 0, 2 * size, prng.pick(seeds).data));
      touched.add(0);
      touched.add(1);
    } else {
      mutations.push(mutateBytes(prng, data, 0, configSize, prng.pick(seeds).data));
    }
  }
  for (const b of [...touched].sort())
    if (size > 0 && configSize >= 2 * size && prng.chance(0.75)) {
      refIndexRechecksum(data, b * size, size);
      mutations.push(`rechecksum nsindex${b}`);
    }
  return { seedName: from.name, data, configSize, mutations };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}

function errnoOf(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

const BLOCK_REASON: Record<Exclude<IndexVerdict, 'valid'>, [string, RegExp]> = {
  signature: ['ENODEV', /^nd_label_validate: nsindex[01] signature invalid$/],
  checksum: ['ENODEV', /^nd_label_validate: nsindex[01] checksum invalid$/],
  sequence: ['EINVAL', /^nd_label_validate: nsindex[01] sequence: (0|0x[0-9a-f]+) invalid$/],
  myoff: ['EINVAL', /^nd_label_validate: nsindex[01] myoff: (0|0x[0-9a-f]+) invalid$/],
  otheroff: ['EINVAL', /^nd_label_validate: nsindex[01] otheroff: (0|0x[0-9a-f]+) invalid$/],
  mysize: ['EINVAL', /^nd_label_validate: nsindex[01] mysize: (0|0x[0-9a-f]+) invalid$/],
  nslot: ['EINVAL', /^nd_label_validate: nsindex[01] nslot: \d+ invalid, config_size: 0x[0-9a-f]+$/],
};

function u64Num(data: Uint8Array, off: number): number {
  const v = readUint(data, off, 8);
  return v > MAX_SAFE ? Number.POSITIVE_INFINITY : Number(v);
}

/** decodeNamespaceIndex() against the raw bytes of the block at `off`. */
function checkIndexDecode(data: Uint8Array, off: number, size: number): void {
  const ix = decodeNamespaceIndex(data.subarray(off, off + size));
  const raw = {
    flags: Number(readUint(data, off + IX.flags, 3)),
    labelsize: data[off + IX.labelsize],
    seq: Number(readUint(data, off + IX.seq, 4)),
    myoff: u64Num(data, off + IX.myoff),
    mysize: u64Num(data, off + IX.mysize),
    otheroff: u64Num(data, off + IX.otheroff),
    labeloff: u64Num(data, off + IX.labeloff),
    nslot: Number(readUint(data, off + IX.nslot, 4)),
    major: Number(readUint(data, off + IX.major, 2)),
    minor: Number(readUint(data, off + IX.minor, 2)),
    checksum: readUint(data, off + IX.checksum, 8),
  };
  for (const [k, v] of Object.entries(raw))
    check(
      ix[k as keyof typeof raw] === v,
      () => `decodeNamespaceIndex ${k}: ${ix[k as keyof typeof raw]} != ${v}`,
    );
  check(ix.free.length === size - IX.free, () => 'decodeNamespaceIndex free[] length');
}

/** A decoded label against the raw bytes of its slot. */
function checkLabelDecode(l: NdNamespaceLabel, data: Uint8Array, at: number): void {
  const v = new DataView(data.buffer, data.byteOffset + at, 128);
  const u64 = (off: number) => {
    const x = v.getBigUint64(off, true);
    return x > MAX_SAFE ? Number.POSITIVE_INFINITY : Number(x);
  };
  const nameBytes = data.subarray(at + LB.name, at + LB.name + 64);
  const nul = nameBytes.indexOf(0);
  const raw = {
    flags: v.getUint32(LB.flags, true),
    nlabel: v.getUint16(LB.nlabel, true),
    position: v.getUint16(LB.position, true),
    isetcookie: v.getBigUint64(LB.isetcookie, true),
    lbasize: u64(LB.lbasize),
    dpa: u64(LB.dpa),
    rawsize: u64(LB.rawsize),
    slot: v.getUint32(LB.slot, true),
    name: UTF8.decode(nul < 0 ? nameBytes : nameBytes.subarray(0, nul)),
  };
  for (const [k, x] of Object.entries(raw))
    check(
      l[k as keyof typeof raw] === x,
      () => `label at ${hex(at)} ${k}: ${String(l[k as keyof typeof raw])} != ${String(x)}`,
    );
  check(
    l.uuid.length === 16 && l.uuid.every((x, i) => x === data[at + i]),
    () => `label at ${hex(at)} uuid differs`,
  );
}

function reserveOutcome(reserve: () => void): 'ok' | 'EBUSY' {
  try {
    reserve();
    return 'ok';
  } catch (e) {
    check(errnoOf(e) === 'EBUSY', () => `DPA reservation threw ${String(e)}`);
    return 'EBUSY';
  }
}

/** The probe outcome name for the table. */
function outcomeOf(ref: RefLabelArea): string {
  if (ref.errno !== null) return `${ref.errno} (config size under ND_LABEL_MIN_SIZE)`;
  if (ref.current < 0) return 'no valid index (DIMM without labels)';
  if (ref.reserve === 'EBUSY') return 'EBUSY (nd_label_reserve_dpa)';
  return `valid: index ${ref.current}`;
}

/** Runs one case; returns its outcome and detail keys, or throws what went wrong. */
export function runLabelCase(c: LabelCase): { outcome: string; details: string[] } {
  const details: string[] = [];
  const { data, configSize } = c;
  const before = data.slice();
  const ref = refLabelArea(data, configSize);
  if (ref.errno !== null) {
    for (const attempt of [
      () => ndLabelValidate(data, configSize),
      () => new LabelArea(new MemStorage(data)),
    ]) {
      let threw: unknown = null;
      try {
        attempt();
      } catch (e) {
        threw = e;
      }
      check(
        errnoOf(threw) === 'ENXIO',
        () => `config size ${configSize}: wanted ENXIO, got ${String(threw)}`,
      );
    }
    return { outcome: outcomeOf(ref), details };
  }

  const v = ndLabelValidate(data, configSize);
  check(v.index === ref.current, () => `ndLabelValidate index ${v.index}, kernel ${ref.current}`);
  v.blocks.forEach((blk, i) => {
    const want = ref.blocks[i]!;
    if (want === 'valid') {
      check(blk.valid, () => `nsindex${i}: kernel valid, daxsim ${blk.valid ? '' : blk.reason}`);
      details.push('nsindex valid');
      return;
    }
    const [errno, reason] = BLOCK_REASON[want];
    check(
      !blk.valid && blk.errno === errno && reason.test(blk.reason),
      () => `nsindex${i}: kernel ${want}, daxsim ${JSON.stringify(blk)}`,
    );
    details.push(`nsindex ${errno}: ${want}`);
  });
  const size = refSizeofNamespaceIndex(configSize);
  checkIndexDecode(data, 0, size);
  checkIndexDecode(data, size, size);

  const area = new LabelArea(new MemStorage(data.slice()));
  const again = area.validate();
  check(
    again.index === v.index && JSON.stringify(again.blocks) === JSON.stringify(v.blocks),
    () => 'LabelArea.validate() differs from ndLabelValidate()',
  );
  const labels = area.labels();
  // departure: slot_valid() also refuses a dpa or rawsize no JS number can hold
  const beyond = ref.active.filter((a) => a.dpa > MAX_SAFE || a.rawsize > MAX_SAFE);
  const held = ref.active.filter((a) => a.dpa <= MAX_SAFE && a.rawsize <= MAX_SAFE);
  if (beyond.length > 0) details.push('label with a u64 dpa/rawsize beyond 2^53 dropped (daxsim departure)');
  check(
    JSON.stringify(labels.map((l) => l.slot)) === JSON.stringify(held.map((a) => a.slot)),
    () => `active slots ${labels.map((l) => l.slot).join(',')}, kernel ${held.map((a) => a.slot).join(',')}`,
  );
  // every label of a small set; the ends and every 16th of a crowded one (a full area would dominate the run)
  labels.forEach((l, i) => {
    if (labels.length <= 64 || i < 32 || i >= labels.length - 32 || i % 16 === 0)
      checkLabelDecode(l, data, area.labelOffset(l.slot));
  });
  const listed = activeLabels(area);
  check(
    listed.length === labels.length &&
      listed.every((e, i) => e.slot === labels[i]!.slot && e.label.slot === e.slot),
    () => 'activeLabels() differs from labels()',
  );
  check(area.activeCount() === labels.length, () => 'activeCount() differs');
  check(area.freeSlots() === ref.nfree, () => `freeSlots ${area.freeSlots()}, kernel ${ref.nfree}`);
  for (const s of ref.skipped)
    details.push(`slot skipped: ${s.why === 'slot' ? 'slot field' : 'dpa/rawsize not 4K aligned'}`);

  if (v.index >= 0) {
    const cur = decodeNamespaceIndex(data.subarray(v.index * size, (v.index + 1) * size));
    check(v.blocks[v.index]!.valid, () => 'current index is not valid');
    check((cur.seq & 3) >= 1 && (cur.seq & 3) <= 3, () => `current seq ${cur.seq}`);
    check(cur.nslot * 128 + 2 * size <= configSize, () => `nslot ${cur.nslot} overflows the area`);
    labels.forEach((l, i) => {
      check(l.slot < cur.nslot, () => `slot ${l.slot} >= nslot ${cur.nslot}`);
      check(i === 0 || l.slot > labels[i - 1]!.slot, () => 'slots out of order');
      check(
        slotValid(l, l.slot) && l.dpa % 4096 === 0 && l.rawsize % 4096 === 0,
        () => `slot ${l.slot} not valid`,
      );
      check(area.labelOffset(l.slot) + 128 <= configSize, () => `slot ${l.slot} past the area`);
    });
    details.push(labels.length === 0 ? 'valid index, no labels' : 'valid index with labels');
  } else check(labels.length === 0, () => 'labels without an index');

  const reserve = reserveOutcome(() => area.reserveDpa());
  check(reserve === ref.reserve, () => `LabelArea.reserveDpa() ${reserve}, kernel ${ref.reserve}`);
  // ndLabelReserveDpa() over the labels labels() returns: the kernel's answer unless labels beyond 2^53 collide
  const listedReserve = reserveOutcome(() => ndLabelReserveDpa(labels));
  check(listedReserve === refReserveDpa(held), () => `ndLabelReserveDpa(labels) ${listedReserve}`);
  check(sameBytes(data, before), () => 'the parsers changed their input');
  return { outcome: outcomeOf(ref), details };
}

/** Runs `count` cases of the label-area target from `seed`; case i is labelCase(caseSeed(seed, i)). */
export function fuzzLabelArea(seed: number, count: number): FuzzReport {
  const seeds = labelSeeds();
  return runFuzz('label-area', seed, count, (cs) => labelCase(cs, seeds), runLabelCase);
}

/** Replays one case by its caseSeed. */
export function replayLabelArea(cs: number): LabelCase & { outcome: string; details: string[] } {
  const c = labelCase(cs);
  return { ...c, ...runLabelCase(c) };
}
