import type { DaxCore } from '@daxsim/dax-core';
import type { DaxPmem } from '@daxsim/dax-pmem';
import type { DeviceDax } from '@daxsim/device-dax';
import { Kernel, type KernelOptions } from '@daxsim/kernel';
import type { AcpiNfit, Libnvdimm, NdPmem } from '@daxsim/nvdimm-sim';
import type { NfitTestMedia, NfitTestModule } from '../src/nfit_test_module.js';
import { loadNfitTestStack, unloadNfitTestStack } from '../src/stack.js';

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
  const baseline = kernel.kmemleak.baseline();
  const { dax, devdax, nd, nfit, pmem, daxPmem, nfitTest } = await loadNfitTestStack(kernel, {
    media,
    params,
  });
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
      await unloadNfitTestStack(kernel);
    },
    async [Symbol.asyncDispose]() {
      await stack.shutdown();
      baseline.assertClean({ expectedWarnings: stack.expectedWarnings });
    },
  };
  return stack;
}
