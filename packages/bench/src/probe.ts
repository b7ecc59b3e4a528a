/**
 * modprobe nfit_test with the rest of the stack already loaded: both default platforms (nfit_test.0 and .1)
 * registered, DIMMs probed with their label reads, regions, namespaces and seeds, ARS, and the wait for every
 * asynchronous probe. The baseline, in the same rounds, is booting a kernel and loading the six other
 * modules (dax, device_dax, libnvdimm, nfit, nd_pmem, dax_pmem).
 */
import { daxModule } from '@daxsim/dax-core';
import { daxPmemModule } from '@daxsim/dax-pmem';
import { deviceDaxModule } from '@daxsim/device-dax';
import { Kernel } from '@daxsim/kernel';
import { libnvdimmModule, ndPmemModule, nfitModule } from '@daxsim/nvdimm-sim';
import { makeNfitTestModule, unloadNfitTestStack } from '@daxsim/test-nvdimm';
import { msSince, nowNs, type Rounds, sampleMany } from './harness.js';
import type { Row } from './table.js';

/** Set by issue 4 (nvdimm-sim, dax-pmem, test-nvdimm): "well under 100 ms". */
const TARGET = { of: 'value', cmp: '<', limit: 100, source: 'issue 4' } as const;

/** Rounds of probe(): the full bench's. */
export const PROBE_DEFAULTS: Rounds = { rounds: 21, warmup: 5 };

/** A new kernel with every module of the stack but nfit_test loaded, as tools/testing/nvdimm builds them. */
async function bootStackModules(): Promise<Kernel> {
  const k = new Kernel();
  await k.modules.modprobe(daxModule);
  await k.modules.modprobe(deviceDaxModule);
  await k.modules.modprobe(libnvdimmModule);
  await k.modules.modprobe(nfitModule);
  await k.modules.modprobe(ndPmemModule);
  await k.modules.modprobe(daxPmemModule);
  return k;
}

/** One row: the nfit_test probe beside the boot it starts from. */
export async function probe(o: Rounds = PROBE_DEFAULTS): Promise<Row[]> {
  let devices = 0;
  const m = await sampleMany(o, async () => {
    let t0 = nowNs();
    const k = await bootStackModules();
    const boot = msSince(t0);
    t0 = nowNs();
    await k.modules.modprobe(makeNfitTestModule());
    await k.async.synchronizeFull();
    const nfitTest = msSince(t0);
    devices = k.sysfs.readdir('/sys/bus/nd/devices').length;
    await unloadNfitTestStack(k);
    return { boot, nfitTest };
  });
  return [
    {
      key: 'probe.nfit_test',
      measure: `modprobe nfit_test: 2 platforms, ${devices} nd devices, labels, ARS`,
      value: { value: m.nfitTest, unit: 'ms' },
      baseline: { value: m.boot, unit: 'ms', label: 'boot + 6 modules' },
      target: TARGET,
    },
  ];
}
