/**
 * Probe cost of the nvdimm stack, all measured in one process:
 * - nfit_test: modprobe nfit_test (both platforms: buses, DIMMs with label reads, regions, namespaces, seeds,
 *   ARS) with dax, device_dax, libnvdimm, nfit, nd_pmem and dax_pmem already loaded, against the baseline of
 *   booting a kernel and loading those six modules.
 * - 1 TiB: creating and enabling a 1 TiB devdax namespace (1 GiB align, map=dev) on a sparse platform: time,
 *   and host memory held by its media afterwards.
 * Run from the repository root: npx -y pnpm@10.34.9 --filter @daxsim/test-nvdimm bench
 */
import { daxModule } from '@daxsim/dax-core';
import { daxPmemModule } from '@daxsim/dax-pmem';
import { deviceDaxModule } from '@daxsim/device-dax';
import { Kernel } from '@daxsim/kernel';
import { libnvdimmModule, ndPmemModule, nfitModule } from '@daxsim/nvdimm-sim';
import { sparsePlatform } from '../src/nfit.ts';
import { makeNfitTestModule } from '../src/nfit_test_module.ts';
import { createNamespace, regions } from '../test/libndctl.ts';

const ROUNDS = 21;
const WARMUP = 5;
const GiB = 2 ** 30;
const TiB = 1024 * GiB;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const now = (): bigint => process.hrtime.bigint();
const ms = (t0: bigint): number => Number(now() - t0) / 1e6;

async function bootModules(): Promise<Kernel> {
  const k = new Kernel();
  for (const def of [daxModule, deviceDaxModule, libnvdimmModule, nfitModule, ndPmemModule, daxPmemModule])
    await k.modules.modprobe(def as Parameters<typeof k.modules.modprobe>[0]);
  return k;
}

async function shutdown(k: Kernel): Promise<void> {
  for (const name of ['nfit_test', 'dax_pmem', 'nd_pmem', 'nfit', 'libnvdimm', 'device_dax', 'dax'])
    if (k.modules.find(name) !== undefined) await k.modules.rmmod(name);
  await k.async.synchronizeFull();
}

async function main(): Promise<void> {
  const base: number[] = [];
  const probe: number[] = [];
  let devices = 0;
  for (let r = 0; r < WARMUP + ROUNDS; r++) {
    let t0 = now();
    const k = await bootModules();
    const b = ms(t0);
    t0 = now();
    await k.modules.modprobe(makeNfitTestModule());
    await k.async.synchronizeFull();
    const p = ms(t0);
    devices = k.sysfs.readdir('/sys/bus/nd/devices').length;
    await shutdown(k);
    if (r < WARMUP) continue;
    base.push(b);
    probe.push(p);
  }

  const big: number[] = [];
  let held = 0;
  let heap = 0;
  for (let r = 0; r < 3; r++) {
    const k = await bootModules();
    const nfitTest = await k.modules.modprobe(makeNfitTestModule());
    await nfitTest.addPlatform(
      'nfit_test.2',
      sparsePlatform({ size: TiB, base: 4 * TiB, providerName: 'nfit_test.2' }),
    );
    const region = regions(k, 'nfit_test.2')[0]!;
    const before = k.physmem.allocatedBytes;
    const heap0 = process.memoryUsage().heapUsed;
    const t0 = now();
    await createNamespace(k, region, { mode: 'devdax', align: GiB });
    big.push(ms(t0));
    held = k.physmem.allocatedBytes - before;
    heap = process.memoryUsage().heapUsed - heap0;
    await shutdown(k);
  }

  const rows = [
    ['measure', 'time', 'baseline', 'ratio'],
    [
      `modprobe nfit_test (${devices} nd devices)`,
      `${median(probe).toFixed(2)} ms`,
      `${median(base).toFixed(2)} ms (boot + 6 modules)`,
      (median(probe) / median(base)).toFixed(2),
    ],
    [
      '1 TiB devdax namespace: create + enable',
      `${median(big).toFixed(2)} ms`,
      `media held ${held} B, heap +${(heap / 2 ** 20).toFixed(1)} MiB`,
      '',
    ],
  ];
  const [head, ...body] = rows;
  console.log(`| ${head!.join(' | ')} |`);
  console.log(`|${head!.map(() => '---').join('|')}|`);
  for (const row of body) console.log(`| ${row.join(' | ')} |`);
}

await main();
