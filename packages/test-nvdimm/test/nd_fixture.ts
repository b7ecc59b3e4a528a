import { type DaxCore, daxModule } from '@daxsim/dax-core';
import { type DaxPmem, daxPmemModule } from '@daxsim/dax-pmem';
import { type DeviceDax, deviceDaxModule } from '@daxsim/device-dax';
import { Kernel, type KernelOptions } from '@daxsim/kernel';
import {
  type AcpiNfit,
  type Libnvdimm,
  libnvdimmModule,
  type NdPmem,
  ndPmemModule,
  nfitModule,
} from '@daxsim/nvdimm-sim';
import { makeNfitTestModule, type NfitTestMedia, type NfitTestModule } from '../src/nfit_test_module.js';

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

/** The whole stack with nfit_test loaded, as ndctl's test suite runs it. */
export interface NdStack extends AsyncDisposable {
  kernel: Kernel;
  dax: DaxCore;
  devdax: DeviceDax;
  nd: Libnvdimm;
  nfit: AcpiNfit;
  pmem: NdPmem;
  daxPmem: DaxPmem;
  nfitTest: NfitTestModule;
  /** WARNs the test provokes on purpose. */
  expectedWarnings: number;
  /** Unloads everything; the leak check runs at dispose. */
  shutdown(): Promise<void>;
}

/** Counts that must return to their boot values once every module is unloaded. */
export function leakCounts(kernel: Kernel) {
  return {
    sysfsNodes: kernel.sysfs.nodeCount,
    devtmpfsInodes: kernel.devtmpfs.inodes,
    iomem: kernel.iomem.count,
    memremaps: kernel.memremap.count,
    pgmaps: kernel.memremap.pgmapCount,
    disks: kernel.block.counts.disks,
    diskMinors: kernel.block.counts.minors,
    bdevs: kernel.block.counts.bdevs,
    tasks: kernel.tasks.size,
    liveDevices: kernel.driverCore.liveDeviceCount,
    pendingAsync: kernel.async.pending,
    allocated: kernel.physmem.allocatedBytes,
  };
}

/**
 * Boots a kernel and modprobes dax, device_dax, libnvdimm, nfit, nd_pmem, dax_pmem and nfit_test (over `media`,
 * to reboot a machine whose labels and data a previous stack wrote).
 */
export async function bootNfitTest(
  params: { ars_busy_polls?: number } = {},
  media?: NfitTestMedia,
  options: KernelOptions = {},
): Promise<NdStack> {
  const kernel = new Kernel(options);
  const baseline = leakCounts(kernel);
  const m = kernel.modules;
  const dax = await m.modprobe(daxModule);
  const devdax = await m.modprobe(deviceDaxModule);
  const nd = await m.modprobe(libnvdimmModule);
  const nfit = await m.modprobe(nfitModule);
  const pmem = await m.modprobe(ndPmemModule);
  const daxPmem = await m.modprobe(daxPmemModule);
  const nfitTest = await m.modprobe(makeNfitTestModule(media), params);
  await nd.ndSynchronize();
  let down = false;
  const stack: NdStack = {
    kernel,
    dax,
    devdax,
    nd,
    nfit,
    pmem,
    daxPmem,
    nfitTest,
    expectedWarnings: 0,
    async shutdown() {
      if (down) return;
      down = true;
      for (const t of [...kernel.tasks.values()]) t.exit();
      for (const name of ['nfit_test', 'dax_pmem', 'nd_pmem', 'nfit', 'libnvdimm', 'device_dax', 'dax'])
        await m.rmmod(name);
      await kernel.async.synchronizeFull();
      await kernel.rcu.barrier();
    },
    async [Symbol.asyncDispose]() {
      await stack.shutdown();
      const after = leakCounts(kernel);
      const warnings = kernel.log.warnings;
      if (warnings !== stack.expectedWarnings)
        throw new Error(`unexpected WARNs (${warnings}):\n${kernel.dmesg().join('\n')}`);
      for (const [k, v] of Object.entries(baseline))
        if (after[k as keyof typeof after] !== v && k !== 'allocated')
          throw new Error(`leak: ${k} ${v} -> ${after[k as keyof typeof after]}`);
    },
  };
  return stack;
}
