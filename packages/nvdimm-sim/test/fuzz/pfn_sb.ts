/**
 * Fuzz target: the info-block parser, nd_pfn_validate() as pfnSbValidate() and decodePfnSb(). Inputs start
 * from blocks nd_pfn_init() lays out (pfnSbInit: fsdax and devdax, map=dev and map=mem, several aligns, sizes
 * and starts, plus v1.0/v1.1 re-encodings) and the device state pfn_devs.ts passes (a probing device, or a
 * configured one with its uuid, mode and align). Each case's outcome must be the one refNdPfnValidate()
 * derives from the kernel C; a valid parse must also meet the post-conditions the probe relies on.
 */
import {
  decodePfnSb,
  ND_PFN_SB_OFFSETS,
  PFN_SIG,
  type PfnSbWant,
  pfnSbInit,
  pfnSbValidate,
} from '../../src/pfn.js';
import { boundaryValues, type Field, hex, mutateBytes, readUint, setField } from './mutate.js';
import { Prng } from './prng.js';
import { type PfnCheck, refNdPfnValidate, refSbRechecksum } from './ref_pfn.js';
import { check, type FuzzReport, runFuzz } from './report.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const TiB = 1024 * GiB;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const DAX = 'NVDIMM_DAX_INFO\0';
const O = ND_PFN_SB_OFFSETS;

/** struct nd_pfn_sb's integer fields. */
const FIELDS: Field[] = [
  { name: 'flags', off: O.flags, width: 4 },
  { name: 'version_major', off: O.versionMajor, width: 2 },
  { name: 'version_minor', off: O.versionMinor, width: 2 },
  { name: 'dataoff', off: O.dataoff, width: 8 },
  { name: 'npfns', off: O.npfns, width: 8 },
  { name: 'mode', off: O.mode, width: 4 },
  { name: 'start_pad', off: O.startPad, width: 4 },
  { name: 'end_trunc', off: O.endTrunc, width: 4 },
  { name: 'align', off: O.align, width: 4 },
  { name: 'checksum', off: O.checksum, width: 8 },
];

/** A valid block and the probing device it belongs to. */
interface PfnSeed {
  name: string;
  block: Uint8Array;
  want: PfnSbWant;
  uuid: Uint8Array;
  mode: number;
  align: number;
}

function uuidOf(n: number): Uint8Array {
  return Uint8Array.from({ length: 16 }, (_, i) => (n * 37 + i * 11 + 1) & 0xff);
}

/** The seed blocks: what nd_pfn_init() writes for a spread of settings, and older minors of a few. */
export function pfnSeeds(): PfnSeed[] {
  const seeds: PfnSeed[] = [];
  const base = 4 * GiB;
  const layouts: Array<[number, number, number]> = [
    // nsSize, align, start offset from a 1 GiB boundary
    [16 * MiB, 4 * KiB, 0],
    [32 * MiB, 2 * MiB, 0],
    [64 * MiB, 64 * KiB, 0],
    [96 * MiB, 2 * MiB, 64 * KiB],
    [256 * MiB, 4 * KiB, 0],
    [2 * GiB, 1 * GiB, 0],
    [4 * GiB + 6 * MiB, 2 * MiB, 0],
    [TiB, 1 * GiB, 0],
  ];
  let n = 0;
  for (const [nsSize, align, skew] of layouts)
    for (const isDax of [false, true])
      for (const mode of [2, 1]) {
        n++;
        const parentUuid = uuidOf(n);
        const uuid = uuidOf(100 + n);
        const pads = n % 5 === 0 ? { startPad: 64 * KiB, endTrunc: 128 * KiB } : {};
        const r = pfnSbInit({
          uuid,
          parentUuid,
          nsStart: base + skew,
          nsSize,
          mode,
          align,
          isDax,
          readOnly: false,
          ...pads,
        });
        if (!r.ok) continue;
        const want: PfnSbWant = {
          sig: isDax ? DAX : PFN_SIG,
          parentUuid,
          nsStart: base + skew,
          nsSize,
          nsName: `namespace${n}.0`,
        };
        const name = `${isDax ? 'dax' : 'pfn'} ${mode === 2 ? 'dev' : 'mem'} ${hex(nsSize)}/${hex(align)}`;
        seeds.push({ name, block: r.block, want, uuid, mode, align });
        if (n % 3 === 0) {
          // the same block as a v1.0 and a v1.1 writer left it: no pads / no align field
          for (const minor of [0, 1]) {
            const old = r.block.slice();
            setField(old, 0, FIELDS[2]!, BigInt(minor));
            if (minor === 0) old.fill(0, O.startPad, O.align + 4);
            else old.fill(0, O.align, O.align + 4);
            refSbRechecksum(old);
            const legacy = Number(refLegacyAlign(r.sb.dataoff));
            seeds.push({ name: `${name} v1.${minor}`, block: old, want, uuid, mode, align: legacy });
          }
        }
      }
  return seeds;
}

function refLegacyAlign(dataoff: number): bigint {
  return 1n << BigInt(BigInt(dataoff).toString(2).length - 1);
}

/** One generated case: the block, the device, and what was done to get there. */
export interface PfnCase {
  seedName: string;
  block: Uint8Array;
  want: PfnSbWant;
  mutations: string[];
}

function dataoffValues(prng: Prng, sb: Uint8Array, nsSize: number): bigint[] {
  const cur = readUint(sb, O.dataoff, 8);
  const size = BigInt(nsSize);
  return [
    0n,
    4096n,
    8192n,
    cur + 4096n,
    cur - 4096n,
    cur * 2n,
    cur + 512n,
    size - 4096n,
    size,
    size + 4096n,
    BigInt(prng.below(Math.max(1, nsSize / 4096))) * 4096n,
    1n << BigInt(prng.range(12, 40)),
    ...boundaryValues(8),
  ];
}

function alignValues(prng: Prng, sb: Uint8Array, nsSize: number): bigint[] {
  const dataoff = readUint(sb, O.dataoff, 8);
  return [
    0n,
    1n,
    4096n,
    0x3000n,
    65536n,
    2n * BigInt(MiB),
    BigInt(GiB),
    BigInt(nsSize),
    BigInt(nsSize) * 2n,
    dataoff,
    1n << BigInt(prng.range(12, 31)),
    ...boundaryValues(4),
  ];
}

/** A field of the block set to a value at an edge of its type or of the namespace's geometry. */
function mutateField(prng: Prng, buf: Uint8Array, want: PfnSbWant, seeds: PfnSeed[]): string {
  switch (prng.below(8)) {
    case 0: {
      const sigs = [PFN_SIG, DAX, 'NVDIMM_BTT_INFO\0', '\0'.repeat(16), 'NVDIMM_PFN_INFO_'];
      const sig = prng.pick(sigs);
      for (let i = 0; i < 16; i++) buf[i] = sig.charCodeAt(i);
      return `signature=${JSON.stringify(sig)}`;
    }
    case 1: {
      const which = prng.pick(['uuid', 'parent_uuid'] as const);
      const off = which === 'uuid' ? O.uuid : O.parentUuid;
      const other = prng.pick(seeds).block;
      if (prng.chance(0.5)) buf.set(other.subarray(off, off + 16), off);
      else buf[off + prng.below(16)]! ^= 1 << prng.below(8);
      return `${which} changed`;
    }
    case 2:
      return setField(buf, 0, FIELDS[3]!, prng.pick(dataoffValues(prng, buf, want.nsSize)));
    case 3:
      return setField(buf, 0, FIELDS[8]!, prng.pick(alignValues(prng, buf, want.nsSize)));
    case 4:
      return setField(buf, 0, FIELDS[5]!, prng.pick([0n, 1n, 2n, 3n, 0x101n, 0xffff_ffffn]));
    case 5:
      return setField(buf, 0, FIELDS[2]!, prng.pick([0n, 1n, 2n, 3n, 0xffffn]));
    case 6: {
      const npfns = BigInt(want.nsSize) / 4096n;
      return setField(
        buf,
        0,
        FIELDS[4]!,
        prng.pick([0n, npfns, npfns + 1n, MAX_SAFE, MAX_SAFE + 1n, ...boundaryValues(8)]),
      );
    }
    default: {
      const field = prng.pick(FIELDS);
      return setField(buf, 0, field, prng.pick(boundaryValues(field.width)));
    }
  }
}

/** The device side: probing for the other kind, another namespace, a configured device, a resized namespace. */
function mutateWant(prng: Prng, want: PfnSbWant, seed: PfnSeed): string {
  switch (prng.below(5)) {
    case 0:
      want.sig = want.sig === PFN_SIG ? DAX : PFN_SIG;
      return `probe sig=${want.sig === PFN_SIG ? 'pfn' : 'dax'}`;
    case 1:
      want.parentUuid = uuidOf(prng.below(1000));
      return 'probe another namespace';
    case 2:
    case 3: {
      const good = prng.chance(0.6);
      want.uuid = good || prng.chance(0.5) ? seed.uuid : uuidOf(500 + prng.below(100));
      want.mode = good || prng.chance(0.5) ? seed.mode : 3 - seed.mode;
      want.align = good || prng.chance(0.5) ? seed.align : prng.pick([4096, 2 * MiB, GiB]);
      return `configured device uuid=${want.uuid === seed.uuid ? 'same' : 'other'} mode=${want.mode} align=${hex(want.align)}`;
    }
    default: {
      const dataoff = Number(readUint(seed.block, O.dataoff, 8));
      const sizes = [
        4096,
        8192,
        dataoff,
        dataoff + 4096,
        want.nsSize / 2,
        want.nsSize * 2,
        want.nsSize - 4096,
      ];
      want.nsSize = Math.max(4096, Math.floor(prng.pick(sizes) / 4096) * 4096);
      return `nsSize=${hex(want.nsSize)}`;
    }
  }
}

/** Builds case `seed` of the target: 0-4 mutations, re-checksummed three times in four. */
export function pfnCase(seed: number, seeds: PfnSeed[] = pfnSeeds()): PfnCase & { from: PfnSeed } {
  const prng = new Prng(seed);
  const from = prng.pick(seeds);
  let block = from.block.slice();
  const want: PfnSbWant = { ...from.want };
  const mutations: string[] = [`seed ${from.name}`];
  const n = prng.chance(0.04) ? 0 : prng.range(1, 4);
  for (let i = 0; i < n; i++) {
    const r = prng.below(100);
    if (r < 45) mutations.push(mutateField(prng, block, want, seeds));
    else if (r < 62) mutations.push(mutateBytes(prng, block, 0, 96, prng.pick(seeds).block));
    else if (r < 72) mutations.push(mutateBytes(prng, block, 0, 4096, prng.pick(seeds).block));
    else if (r < 75) mutations.push(mutateBytes(prng, block, O.checksum, 4096));
    else mutations.push(mutateWant(prng, want, from));
  }
  if (n > 0 && prng.chance(0.75)) {
    refSbRechecksum(block);
    mutations.push('rechecksum');
  }
  if (prng.chance(0.03)) {
    const len = prng.chance(0.5) ? prng.below(4096) : 4096 + prng.range(1, 8192);
    const resized = new Uint8Array(len);
    resized.set(block.subarray(0, len));
    if (len > 4096) prng.fill(resized.subarray(4096));
    block = resized;
    mutations.push(`length=${len}`);
  }
  return { seedName: from.name, block, want, mutations, from };
}

function errnoOf(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

const REASONS: Record<PfnCheck, RegExp> = {
  signature: /^signature mismatch$/,
  checksum: /^checksum mismatch$/,
  'parent uuid': /^parent uuid mismatch$/,
  mode: /^bad mode: \d+$/,
  uuid: /^uuid mismatch$/,
  settings: /^init failed, settings mismatch$/,
  'align > capacity': /^alignment: [0-9a-f]+ exceeds capacity [0-9a-f]+$/,
  'dataoff >= size': /^pfn array size exceeds capacity of /,
  'dataoff alignment': /^bad offset: (0|0x[0-9a-f]+) dax disabled align: 0x[0-9a-f]+$/,
};

/** decodePfnSb() against the raw bytes, field by field (u64 above 2^53 - 1 as Infinity). */
function checkDecode(block: Uint8Array): void {
  const sb = decodePfnSb(block);
  const u64 = (off: number) => {
    const v = readUint(block, off, 8);
    return v > MAX_SAFE ? Number.POSITIVE_INFINITY : Number(v);
  };
  const want = {
    flags: Number(readUint(block, O.flags, 4)),
    versionMajor: Number(readUint(block, O.versionMajor, 2)),
    versionMinor: Number(readUint(block, O.versionMinor, 2)),
    dataoff: u64(O.dataoff),
    npfns: u64(O.npfns),
    mode: Number(readUint(block, O.mode, 4)),
    startPad: Number(readUint(block, O.startPad, 4)),
    endTrunc: Number(readUint(block, O.endTrunc, 4)),
    align: Number(readUint(block, O.align, 4)),
    checksum: readUint(block, O.checksum, 8),
  };
  for (const [k, v] of Object.entries(want))
    check(sb[k as keyof typeof want] === v, () => `decodePfnSb ${k}: ${sb[k as keyof typeof want]} != ${v}`);
  check(
    sb.signature === String.fromCharCode(...block.subarray(0, 16)),
    () => 'decodePfnSb signature differs from the bytes',
  );
}

/** Runs one case; returns its outcome key and the detail keys it adds, or throws what went wrong. */
export function runPfnCase(c: PfnCase): { outcome: string; details: string[] } {
  const details: string[] = [];
  const before = c.block.slice();
  if (c.block.length < 4096) {
    let threw: unknown = null;
    try {
      pfnSbValidate(c.block, c.want);
    } catch (e) {
      threw = e;
    }
    check(
      errnoOf(threw) === 'EINVAL' && (threw as { syscall?: string }).syscall === 'nd_pfn_validate',
      () => `a ${c.block.length}-byte buffer: wanted a thrown EINVAL, got ${String(threw)}`,
    );
    return { outcome: 'EINVAL (buffer under 4 KiB, thrown)', details };
  }
  checkDecode(c.block);
  const ref = refNdPfnValidate(c.block, c.want);
  const got = pfnSbValidate(c.block, c.want);
  check(
    c.block.every((b, i) => b === before[i]),
    () => 'pfnSbValidate changed its input',
  );
  if (!ref.ok) {
    check(
      !got.ok && got.errno === ref.errno,
      () =>
        `kernel: ${ref.errno} (${ref.check}), daxsim: ${got.ok ? 'valid' : `${got.errno} (${got.reason})`}`,
    );
    check(
      !got.ok && REASONS[ref.check].test(got.reason),
      () => `reason for ${ref.check}: ${got.ok ? '' : got.reason}`,
    );
    details.push(`${ref.errno}: ${ref.check}`);
    return { outcome: ref.errno, details };
  }
  const npfns = readUint(c.block, O.npfns, 8);
  if (!got.ok) {
    // departure: a u64 npfns no JS number can hold is refused once every kernel check passed
    check(
      got.errno === 'ENXIO' && npfns > MAX_SAFE && /^npfns: \d+ corrupt$/.test(got.reason),
      () => `kernel: valid, daxsim: ${got.errno} (${got.reason})`,
    );
    return { outcome: 'ENXIO (npfns > 2^53, daxsim departure)', details };
  }
  check(npfns <= MAX_SAFE, () => `valid with npfns ${npfns} beyond 2^53`);
  const size = c.want.nsSize;
  const { sb, align, mode, uuid } = got;
  check(mode === ref.mode && (mode === 1 || mode === 2), () => `mode ${mode}, kernel ${ref.mode}`);
  check(BigInt(align) === ref.align, () => `align ${hex(align)}, kernel ${hex(ref.align)}`);
  check(
    Number.isSafeInteger(align) && align > 0 && align <= size,
    () => `align ${hex(align)} vs capacity ${hex(size)}`,
  );
  check(
    Number.isSafeInteger(sb.dataoff) && sb.dataoff < size,
    () => `dataoff ${hex(sb.dataoff)} >= ${hex(size)}`,
  );
  check(
    sb.dataoff % 4096 === 0 && (BigInt(sb.dataoff) & (BigInt(align) - 1n)) === 0n,
    () => `dataoff ${hex(sb.dataoff)} not aligned to ${hex(align)}`,
  );
  check(Number.isSafeInteger(sb.npfns), () => `npfns ${sb.npfns}`);
  check(
    uuid.every((b, i) => b === c.block[O.uuid + i]) && uuid.length === 16,
    () => 'uuid differs from the block',
  );
  if (ref.minor < 1) check(sb.startPad === 0 && sb.endTrunc === 0, () => 'pads kept below v1.1');
  if (ref.minor < 2) check(sb.align === 0, () => 'align kept below v1.2');
  else check(sb.align === Number(readUint(c.block, O.align, 4)), () => 'align field changed');
  if (c.want.uuid)
    check(mode === c.want.mode && align === c.want.align, () => 'settings differ from the device');
  if (ref.minor < 2 || sb.align === 0) details.push('valid: align from 1 << ilog2(dataoff)');
  if ((align & (align - 1)) !== 0) details.push('valid: align not a power of two (v4.12 accepts)');
  if (c.want.uuid) details.push('valid: configured device');
  if (c.block.length > 4096) details.push('valid: longer buffer');
  return { outcome: 'valid', details };
}

/** Runs `count` cases of the info-block target from `seed`; case i is pfnCase(caseSeed(seed, i)). */
export function fuzzPfnSb(seed: number, count: number): FuzzReport {
  const seeds = pfnSeeds();
  return runFuzz('pfn-sb', seed, count, (cs) => pfnCase(cs, seeds), runPfnCase);
}

/** Replays one case by its caseSeed: the case and what it gave. */
export function replayPfnSb(cs: number): PfnCase & { outcome: string; details: string[] } {
  const c = pfnCase(cs);
  return { ...c, ...runPfnCase(c) };
}
