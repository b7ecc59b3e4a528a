/**
 * The CI share of the parser fuzzing (test/fuzz/): 10,000 seeded cases per target must all end in the
 * kernel's errnos or a valid parse that meets its post-conditions, must reach every errno and every check
 * (so a fuzzer stuck at the checksum fails here), and a seed must always give the same report. The full
 * 100,000-case run is `pnpm --filter @daxsim/nvdimm-sim fuzz`.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { fuzzLabelArea, labelSeeds, replayLabelArea, runLabelCase } from './fuzz/label.js';
import { writeUint } from './fuzz/mutate.js';
import { fuzzPfnSb, pfnCase, pfnSeeds, replayPfnSb, runPfnCase } from './fuzz/pfn_sb.js';
import { caseSeed, Prng } from './fuzz/prng.js';
import { refIndexRechecksum, refSizeofNamespaceIndex } from './fuzz/ref_label.js';
import { refSbRechecksum } from './fuzz/ref_pfn.js';
import { type FuzzReport, formatReport } from './fuzz/report.js';

const CI_COUNT = 10_000;

function noFailures(report: FuzzReport): void {
  expect(report.failureCount, formatReport(report)).toBe(0);
  expect(report.count).toBe(CI_COUNT);
  expect(Object.values(report.outcomes).reduce((a, b) => a + b, 0)).toBe(CI_COUNT);
}

/** Every key is reached, in at least `min` cases. */
function reaches(counts: Record<string, number>, keys: string[], min = 5): void {
  for (const k of keys)
    expect(counts[k] ?? 0, `${k} in ${JSON.stringify(counts)}`).toBeGreaterThanOrEqual(min);
}

describe('seeded PRNG', () => {
  it('gives the same stream for the same seed and another for another seed', () => {
    const a = new Prng(7);
    const b = new Prng(7);
    const c = new Prng(8);
    const xs = Array.from({ length: 64 }, () => a.u32());
    expect(Array.from({ length: 64 }, () => b.u32())).toEqual(xs);
    expect(Array.from({ length: 64 }, () => c.u32())).not.toEqual(xs);
    expect(new Set(xs).size).toBe(64);
    expect(xs.every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32)).toBe(true);
  });

  it('derives a distinct seed per iteration', () => {
    const seeds = Array.from({ length: 10_000 }, (_, i) => caseSeed(412, i));
    expect(new Set(seeds).size).toBe(10_000);
    expect(caseSeed(412, 5)).toBe(caseSeed(412, 5));
    expect(caseSeed(413, 5)).not.toBe(caseSeed(412, 5));
  });
});

describe('info block fuzz (nd_pfn_validate)', () => {
  let report: FuzzReport;
  beforeAll(() => {
    report = fuzzPfnSb(0x5eed_0001, CI_COUNT);
  });

  it('ends every case in a reference errno or a valid parse', () => {
    noFailures(report);
  });

  it('reaches every errno of the reference, each check of nd_pfn_validate, and valid parses', () => {
    reaches(report.outcomes, ['ENODEV', 'ENXIO', 'EINVAL', 'EBUSY', 'valid'], 50);
    reaches(report.details, [
      'ENODEV: signature',
      'ENODEV: checksum',
      'ENODEV: parent uuid',
      'ENODEV: uuid',
      'ENXIO: mode',
      'EINVAL: settings',
      'EINVAL: align > capacity',
      'EBUSY: dataoff >= size',
      'ENXIO: dataoff alignment',
      'valid: align from 1 << ilog2(dataoff)',
      'valid: configured device',
    ]);
    // checks past the checksum are most of what the fuzz reaches
    const pastChecksum =
      report.count - (report.details['ENODEV: signature'] ?? 0) - (report.details['ENODEV: checksum'] ?? 0);
    expect(pastChecksum / report.count).toBeGreaterThan(0.5);
  });

  it('gives the same report for the same seed', () => {
    const once = fuzzPfnSb(99, 2000);
    expect(fuzzPfnSb(99, 2000)).toEqual(once);
    expect(fuzzPfnSb(100, 2000)).not.toEqual(once);
  });

  it('replays a recorded case: dataoff set to 2^64 - 1 past the checksum is EBUSY', () => {
    const cs = caseSeed(412, 395);
    expect(cs).toBe(1505107637);
    const got = replayPfnSb(cs);
    expect(got.mutations).toEqual([
      'seed dax mem 0x100600000/0x200000',
      'dataoff=0xffffffffffffffff',
      'rechecksum',
    ]);
    expect(got.outcome).toBe('EBUSY');
    expect(fuzzPfnSb(412, 396).outcomes).toMatchObject({ EBUSY: expect.any(Number) });
  });

  it('a hand-made mutation reproduces its outcome, and its un-checksummed twin stops at the checksum', () => {
    const seed = pfnSeeds().find((s) => s.name === 'pfn dev 0x2000000/0x200000')!;
    const block = seed.block.slice();
    writeUint(block, 56, 8, BigInt(seed.want.nsSize));
    const c = { seedName: seed.name, block, want: seed.want, mutations: [] };
    expect(runPfnCase(c)).toEqual({ outcome: 'ENODEV', details: ['ENODEV: checksum'] });
    refSbRechecksum(block);
    expect(runPfnCase(c)).toEqual({ outcome: 'EBUSY', details: ['EBUSY: dataoff >= size'] });
    expect(pfnCase(1505107637).block).toEqual(pfnCase(1505107637).block);
  });
});

describe('label area fuzz (nd_label_validate, nd_label_active, nd_label_reserve_dpa)', () => {
  let report: FuzzReport;
  beforeAll(() => {
    report = fuzzLabelArea(0x5eed_0002, CI_COUNT);
  });

  it('ends every case in a reference outcome', () => {
    noFailures(report);
  });

  it('reaches every outcome of the probe and every check of __nd_label_validate', () => {
    reaches(
      report.outcomes,
      [
        'ENXIO (config size under ND_LABEL_MIN_SIZE)',
        'no valid index (DIMM without labels)',
        'EBUSY (nd_label_reserve_dpa)',
        'valid: index 0',
        'valid: index 1',
      ],
      50,
    );
    reaches(report.details, [
      'nsindex ENODEV: signature',
      'nsindex ENODEV: checksum',
      'nsindex EINVAL: sequence',
      'nsindex EINVAL: myoff',
      'nsindex EINVAL: otheroff',
      'nsindex EINVAL: mysize',
      'nsindex EINVAL: nslot',
      'nsindex valid',
      'slot skipped: slot field',
      'slot skipped: dpa/rawsize not 4K aligned',
      'valid index with labels',
      'valid index, no labels',
    ]);
  });

  it('gives the same report for the same seed', () => {
    const once = fuzzLabelArea(99, 300);
    expect(fuzzLabelArea(99, 300)).toEqual(once);
    expect(fuzzLabelArea(100, 300)).not.toEqual(once);
  });

  it('replays a recorded case: a label duplicated into another slot fails the probe with EBUSY', () => {
    const cs = caseSeed(412, 988);
    expect(cs).toBe(484058633);
    const got = replayLabelArea(cs);
    expect(got.mutations).toEqual([
      'seed 6 labels 128K',
      'label1 duplicated into slot 358 (nsindex0)',
      'rechecksum nsindex0',
    ]);
    expect(got.outcome).toBe('EBUSY (nd_label_reserve_dpa)');
  });

  it('a hand-made mutation reproduces its outcome: nslot one past the area', () => {
    const seed = labelSeeds().find((s) => s.name === '6 labels 128K')!;
    const data = seed.data.slice();
    const size = refSizeofNamespaceIndex(data.length);
    expect(runLabelCase({ seedName: seed.name, data, configSize: data.length, mutations: [] }).outcome).toBe(
      'valid: index 0',
    );
    for (const i of [0, 1]) {
      writeUint(data, i * size + 56, 4, BigInt((data.length - 2 * size) / 128 + 1));
      refIndexRechecksum(data, i * size, size);
    }
    expect(runLabelCase({ seedName: seed.name, data, configSize: data.length, mutations: [] })).toEqual({
      outcome: 'no valid index (DIMM without labels)',
      details: ['nsindex EINVAL: nslot', 'nsindex EINVAL: nslot'],
    });
  });
});
