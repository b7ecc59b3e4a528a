import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ndSbChecksum } from '../src/fletcher64.js';
import {
  LabelArea,
  type LabelStorage,
  type NdNamespaceLabel,
  ndLabelValidate,
  ndNamespaceIndexChecksum,
  slotValid,
} from '../src/label.js';
import {
  DAX_SIG,
  PFN_MODE_PMEM,
  PFN_MODE_RAM,
  PFN_SIG,
  type PfnSbInitParams,
  pfnSbInit,
  pfnSbValidate,
} from '../src/pfn.js';

const RUNS = 2000;
const SZ_128K = 128 * 1024;

/** A label area in memory whose next write can be made to fail, before or after writing part of it. */
class MemStorage implements LabelStorage {
  readonly size: number;
  readonly bytes: Uint8Array;
  failAt: { n: number; partial: number } | null = null;
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.size = bytes.length;
  }
  read(offset: number, length: number): Uint8Array {
    return this.bytes.slice(offset, offset + length);
  }
  write(offset: number, data: Uint8Array): void {
    if (this.failAt !== null) {
      if (this.failAt.n === 0) {
        const partial = Math.min(this.failAt.partial, data.length);
        this.failAt = null;
        this.bytes.set(data.subarray(0, partial), offset);
        throw Object.assign(new Error('EIO: input/output error, nvdimm_set_config_data'), { code: 'EIO' });
      }
      this.failAt.n--;
    }
    this.bytes.set(data, offset);
  }
}

function label(n: number): Omit<NdNamespaceLabel, 'slot'> {
  return {
    uuid: Uint8Array.from({ length: 16 }, (_, i) => (n >> (8 * (i % 4))) & 0xff),
    name: `ns${n}`,
    flags: 0,
    nlabel: 1,
    position: 0,
    isetcookie: (BigInt(n) * 0x9e3779b97f4a7c15n) & 0xffff_ffff_ffff_ffffn,
    lbasize: 0,
    dpa: n * 4096,
    rawsize: 4096 * (1 + (n % 7)),
  };
}

/** A label set as "slot:n" strings, n being the label's number (its dpa / 4K). */
function show(labels: NdNamespaceLabel[]): string[] {
  return labels.map((l) => `${l.slot}:${l.dpa / 4096}`).sort();
}

function onMedia(s: MemStorage): string[] {
  const area = new LabelArea(new MemStorage(s.bytes.slice()));
  area.validate();
  return show(area.labels());
}

type Op =
  | { t: 'update'; adds: number; removes: number[]; fault: { n: number; partial: number } | null }
  | { t: 'reboot' };

const faultArb = fc.option(fc.record({ n: fc.nat(3), partial: fc.nat(300) }), { freq: 2 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      t: fc.constant('update' as const),
      adds: fc.nat(3),
      removes: fc.array(fc.nat(40), { maxLength: 3 }),
      fault: faultArb,
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('reboot' as const) }) },
);

describe('label area updates under torn writes', () => {
  it('never lose the last committed set', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 25 }), fc.boolean(), (ops, blankFirst) => {
        const s = new MemStorage(new Uint8Array(SZ_128K));
        let area = new LabelArea(s);
        area.validate();
        if (!blankFirst) area.init();
        let committed: string[] = [];
        let next = 1;
        for (const op of ops) {
          if (op.t === 'reboot') {
            area = new LabelArea(s);
            area.validate();
            expect(show(area.labels())).toEqual(committed);
            continue;
          }
          if (area.current < 0) {
            s.failAt = op.fault;
            try {
              area.init();
            } catch (e) {
              expect((e as { code?: string }).code).toBe('EIO');
            }
            s.failAt = null;
            expect(show(area.labels())).toEqual(onMedia(s));
            committed = onMedia(s);
            continue;
          }
          const active = committed.map((x) => Number(x.split(':')[0]));
          const removes = [...new Set(op.removes.map((i) => active[i % Math.max(1, active.length)]!))].filter(
            (x) => x !== undefined,
          );
          const adds = Array.from({ length: op.adds }, () => next++);
          const used = new Set(active);
          const expectedSlots: number[] = [];
          for (let slot = 0; expectedSlots.length < adds.length; slot++)
            if (!used.has(slot)) expectedSlots.push(slot);
          const attempted = [
            ...committed.filter((x) => !removes.includes(Number(x.split(':')[0]))),
            ...adds.map((n, i) => `${expectedSlots[i]}:${n}`),
          ].sort();
          s.failAt = op.fault;
          let failed = false;
          try {
            const slots = area.update({ add: adds.map(label), remove: removes });
            expect(slots).toEqual(expectedSlots);
          } catch (e) {
            expect((e as { code?: string }).code).toBe('EIO');
            failed = true;
          }
          s.failAt = null;
          const media = onMedia(s);
          if (failed) expect([committed, attempted]).toContainEqual(media);
          else expect(media).toEqual(attempted);
          expect(show(area.labels())).toEqual(media);
          committed = media;
        }
      }),
      { numRuns: RUNS },
    );
  });
});

function baseArea(): Uint8Array {
  const s = new MemStorage(new Uint8Array(SZ_128K));
  const area = new LabelArea(s);
  area.init();
  area.update({ add: [label(1), label(2), label(3)] });
  area.update({ add: [label(4)], remove: [1] });
  area.update({ add: [label(5), label(6)], remove: [0] });
  return s.bytes;
}

describe('random corruption never escapes the validate errnos', () => {
  const base = baseArea();

  it('label area: index blocks and labels', () => {
    const mutation = fc.record({
      off: fc.oneof(fc.nat(511), fc.integer({ min: 512, max: 512 + 8 * 128 - 1 }), fc.nat(SZ_128K - 1)),
      value: fc.nat(255),
    });
    fc.assert(
      fc.property(
        fc.array(mutation, { minLength: 1, maxLength: 8 }),
        fc.constantFrom<Array<0 | 1>>([], [0], [1], [0, 1]),
        (muts, fix) => {
          const bytes = base.slice();
          for (const m of muts) bytes[m.off] = m.value;
          for (const i of fix) {
            const block = bytes.subarray(i * 256, i * 256 + 256);
            new DataView(block.buffer, block.byteOffset).setBigUint64(
              64,
              ndNamespaceIndexChecksum(block, 256),
              true,
            );
          }
          const v = ndLabelValidate(bytes);
          expect([-1, 0, 1]).toContain(v.index);
          for (const b of v.blocks) if (!b.valid) expect(['ENODEV', 'EINVAL']).toContain(b.errno);
          if (v.index >= 0) expect(v.blocks[v.index]!.valid).toBe(true);

          const s = new MemStorage(bytes);
          const area = new LabelArea(s);
          expect(area.validate().index).toBe(v.index);
          const labels = area.labels();
          for (const l of labels) expect(slotValid(l, l.slot)).toBe(true);
          expect(area.freeSlots()).toBeGreaterThanOrEqual(0);
          try {
            const [slot] = area.update({ add: [label(99)] });
            expect(show(area.labels())).toContain(`${slot}:99`);
            expect(onMedia(s)).toEqual(show(area.labels()));
          } catch (e) {
            expect((e as { code?: string }).code).toBe('ENXIO');
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('info block', () => {
    const NS = 64 * 1024 * 1024;
    const setups: Array<Partial<PfnSbInitParams>> = [
      { mode: PFN_MODE_PMEM, align: 4096 },
      { mode: PFN_MODE_PMEM, align: 2 * 1024 * 1024, isDax: true },
      { mode: PFN_MODE_RAM, align: 4096, isDax: true },
      { mode: PFN_MODE_RAM, align: 2 * 1024 * 1024 },
    ];
    const uuid = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
    const parent = Uint8Array.from({ length: 16 }, (_, i) => 0xf0 - i);
    const blocks = setups.map((over) => {
      const r = pfnSbInit({
        uuid,
        parentUuid: parent,
        nsStart: 1 << 30,
        nsSize: NS,
        mode: PFN_MODE_PMEM,
        align: 4096,
        isDax: false,
        readOnly: false,
        ...over,
      });
      if (!r.ok) throw new Error(r.reason);
      return { block: r.block, sb: r.sb };
    });
    const mutation = fc.record({
      off: fc.oneof(fc.nat(95), fc.integer({ min: 4088, max: 4095 }), fc.nat(4095)),
      value: fc.nat(255),
    });
    fc.assert(
      fc.property(
        fc.nat(blocks.length - 1),
        fc.array(mutation, { minLength: 1, maxLength: 6 }),
        fc.boolean(),
        fc.boolean(),
        (which, muts, fix, configured) => {
          const { block, sb } = blocks[which]!;
          const buf = block.slice();
          for (const m of muts) buf[m.off] = m.value;
          if (fix) new DataView(buf.buffer).setBigUint64(4088, ndSbChecksum(buf), true);
          const got = pfnSbValidate(buf, {
            sig: sb.signature === DAX_SIG ? DAX_SIG : PFN_SIG,
            parentUuid: parent,
            nsStart: 1 << 30,
            nsSize: NS,
            uuid: configured ? uuid : null,
            mode: configured ? sb.mode : null,
            align: configured ? sb.align : null,
          });
          if (!got.ok) {
            expect(['ENODEV', 'ENXIO', 'EINVAL', 'EBUSY']).toContain(got.errno);
            expect(got.reason.length).toBeGreaterThan(0);
            return;
          }
          expect(got.sb.dataoff).toBeLessThan(NS);
          expect(got.sb.dataoff % 4096).toBe(0);
          expect(got.align).toBeLessThanOrEqual(NS);
          expect(BigInt(got.sb.dataoff) & (BigInt(got.align) - 1n)).toBe(0n);
          expect([PFN_MODE_RAM, PFN_MODE_PMEM]).toContain(got.mode);
          expect(Number.isSafeInteger(got.sb.npfns)).toBe(true);
        },
      ),
      { numRuns: RUNS },
    );
  });
});
