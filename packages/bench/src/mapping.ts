/**
 * Sequential bandwidth through a shared mapping of /dev/dax0.0 against a plain TypedArray copy of the same
 * size, in the same rounds: 64 MiB, 2 MiB align, after first touch. Task.store/Task.load walk the page
 * tables and copy to or from the physical memory behind them; the baseline is Uint8Array.prototype.set.
 */
import { MAP_SHARED, PROT_READ, PROT_WRITE } from '@daxsim/kernel';
import { bootDevDax } from './devdax.js';
import { nowNs, nsSince, type Rounds, sampleMany } from './harness.js';
import type { Row } from './table.js';

const MiB = 2 ** 20;
const GiB = 2 ** 30;
/** Set by issue 3 (device-dax): at least 0.8 of a TypedArray copy, reading and writing. */
const TARGET = { of: 'ratio', cmp: '>=', limit: 0.8, source: 'issue 3' } as const;

/** Size and rounds of mapping(). */
export interface MappingOptions extends Rounds {
  /** Bytes copied per direction and round. */
  len: number;
}

/** The full bench's: 64 MiB each way. */
export const MAPPING_DEFAULTS: MappingOptions = { len: 64 * MiB, rounds: 15, warmup: 3 };

/** Mapped read and write bandwidth (GiB/s), each beside the TypedArray copy's. */
export async function mapping(o: MappingOptions = MAPPING_DEFAULTS): Promise<Row[]> {
  await using dev = await bootDevDax(2 ** 40, o.len, 2 * MiB);
  const t = dev.task;
  const addr = t.mmap(0, o.len, PROT_READ | PROT_WRITE, MAP_SHARED, dev.fd, 0);
  const src = new Uint8Array(o.len);
  for (let i = 0; i < o.len; i += 4096) src[i] = ((i >> 12) & 0xff) | 1;
  const dst = new Uint8Array(o.len);
  const plain = new Uint8Array(o.len);
  t.store(addr, src);
  const gibps = (ns: number) => o.len / GiB / (ns / 1e9);
  const m = await sampleMany(o, () => {
    let t0 = nowNs();
    plain.set(src);
    const copyWrite = gibps(nsSince(t0));
    t0 = nowNs();
    dst.set(plain);
    const copyRead = gibps(nsSince(t0));
    t0 = nowNs();
    t.store(addr, src);
    const mapWrite = gibps(nsSince(t0));
    t0 = nowNs();
    t.load(addr, dst);
    const mapRead = gibps(nsSince(t0));
    return { copyWrite, copyRead, mapWrite, mapRead };
  });
  if (dst[4096] !== src[4096]) throw new Error('mapped read returned the wrong bytes');
  const size = `${o.len / MiB} MiB, 2M align`;
  return [
    {
      key: 'mapping.write',
      measure: `mapped sequential write, ${size}`,
      value: { value: m.mapWrite, unit: 'GiB/s' },
      baseline: { value: m.copyWrite, unit: 'GiB/s', label: 'TypedArray copy' },
      target: TARGET,
    },
    {
      key: 'mapping.read',
      measure: `mapped sequential read, ${size}`,
      value: { value: m.mapRead, unit: 'GiB/s' },
      baseline: { value: m.copyRead, unit: 'GiB/s', label: 'TypedArray copy' },
      target: TARGET,
    },
  ];
}
