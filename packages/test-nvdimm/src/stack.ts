/**
 * What `modprobe nfit_test` amounts to on a test machine (tools/testing/nvdimm's Kbuild builds every module it
 * needs): dax, device_dax, libnvdimm, nfit, nd_pmem, dax_pmem, then nfit_test over the given media and
 * platforms, and the wait for the probes the load started (ndctl_bus_wait_probe).
 */
import { type DaxCore, daxModule } from '@daxsim/dax-core';
import { type DaxPmem, daxPmemModule } from '@daxsim/dax-pmem';
import { type DeviceDax, deviceDaxModule } from '@daxsim/device-dax';
import type { Kernel } from '@daxsim/kernel';
import {
  type AcpiNfit,
  type Libnvdimm,
  libnvdimmModule,
  type NdPmem,
  ndPmemModule,
  nfitModule,
} from '@daxsim/nvdimm-sim';
import {
  makeNfitTestModule,
  type NfitTestMedia,
  type NfitTestModule,
  type NfitTestParams,
  type NfitTestPlatformSpec,
} from './nfit_test_module.js';

/** The module APIs of a loaded nfit_test stack. */
export interface NfitTestStack {
  dax: DaxCore;
  devdax: DeviceDax;
  nd: Libnvdimm;
  nfit: AcpiNfit;
  pmem: NdPmem;
  daxPmem: DaxPmem;
  nfitTest: NfitTestModule;
}

/** Options of loadNfitTestStack(). */
export interface NfitTestStackOptions {
  media?: NfitTestMedia;
  platforms?: readonly NfitTestPlatformSpec[];
  params?: Partial<NfitTestParams>;
}

/** The modules loadNfitTestStack() loads, in the order unloadNfitTestStack() removes them. */
export const NFIT_TEST_STACK_UNLOAD_ORDER = [
  'nfit_test',
  'dax_pmem',
  'nd_pmem',
  'nfit',
  'libnvdimm',
  'device_dax',
  'dax',
] as const;

/**
 * modprobe of the whole stack into `kernel`, then a wait for every probe it scheduled. A failed load unloads
 * what was loaded and rethrows.
 */
export async function loadNfitTestStack(
  kernel: Kernel,
  o: NfitTestStackOptions = {},
): Promise<NfitTestStack> {
  const m = kernel.modules;
  try {
    const dax = await m.modprobe(daxModule);
    const devdax = await m.modprobe(deviceDaxModule);
    const nd = await m.modprobe(libnvdimmModule);
    const nfit = await m.modprobe(nfitModule);
    const pmem = await m.modprobe(ndPmemModule);
    const daxPmem = await m.modprobe(daxPmemModule);
    const nfitTest = await m.modprobe(makeNfitTestModule(o.media, o.platforms), o.params ?? {});
    await nd.ndSynchronize();
    return { dax, devdax, nd, nfit, pmem, daxPmem, nfitTest };
  } catch (e) {
    await unloadNfitTestStack(kernel);
    throw e;
  }
}

/**
 * Kills every task (closing its files and mappings), rmmods the stack's modules that are loaded, newest first,
 * and waits for async work and RCU callbacks: the kernel is then as it was before the load.
 */
export async function unloadNfitTestStack(kernel: Kernel): Promise<void> {
  for (const t of [...kernel.tasks.values()]) t.exit();
  for (const name of NFIT_TEST_STACK_UNLOAD_ORDER)
    if (kernel.modules.find(name) !== undefined) await kernel.modules.rmmod(name);
  await kernel.async.synchronizeFull();
  await kernel.rcu.barrier();
}
