/**
 * The pieces of one nfit_test platform device (nfit_test_probe() up to acpi_nfit_init()): its NFIT, its
 * firmware and its test resources, ready for the nfit driver. The module wiring (nfit_test.ko's init, the
 * platform devices, handing the platform to the nfit driver) belongs to whoever loads it.
 */
import type { Kernel, MemoryBacking } from '@daxsim/kernel';
import type { NfitPlatform, NfitSpa } from '@daxsim/nvdimm-sim';
import { NfitTestIomap, NfitTestResources } from './iomap.js';
import { nfitTest0Platform, nfitTest1Platform, nfitTestDefaultBase } from './nfit.js';
import {
  type LabelStore,
  MemoryLabelStore,
  NfitTestFirmware,
  type NfitTestFirmwareOptions,
} from './nfit_ctl.js';

/** Options of createNfitTest(). */
export interface NfitTestOptions extends NfitTestFirmwareOptions {
  instance: 0 | 1;
  /** Physical base of the instance's SPA ranges (page-aligned); default nfitTestDefaultBase(instance). */
  base?: number;
  /**
   * The lookup the instances of one kernel share. Default: the NfitTestIomap installed in the kernel, or a new
   * one set up now; either way the last instance disposed tears it down. One passed in is left to its owner.
   */
  iomap?: NfitTestIomap;
  /** Mock media per SPA range; default a SparseBacking each. */
  backing?: (spa: NfitSpa) => MemoryBacking;
}

/** One nfit_test instance. */
export interface NfitTest {
  readonly instance: 0 | 1;
  readonly platform: NfitPlatform;
  readonly firmware: NfitTestFirmware;
  readonly resources: NfitTestResources;
  readonly iomap: NfitTestIomap;
  /** Releases the test resources (WARNing about regions still requested) and, if it is the last, the iomap. */
  dispose(): void;
  [Symbol.dispose](): void;
}

/**
 * nfit_test0_alloc()'s label buffers: each starts with the text "label<i>" (sprintf(t->label[i], "label%d", i)),
 * which is no valid index block.
 */
function nfitTestLabels(platform: NfitPlatform): Map<number, LabelStore> {
  const labels = new Map<number, LabelStore>();
  platform.dimms.forEach((dimm, i) => {
    if (dimm.labelSize > 0)
      labels.set(dimm.handle, new MemoryLabelStore(dimm.labelSize, new TextEncoder().encode(`label${i}\0`)));
  });
  return labels;
}

/**
 * Builds nfit_test.<instance> in `kernel`: the platform at `base`, its firmware (label stores seeded as
 * nfit_test seeds them unless `labels` are given) and its resources attached and added to the iomap.
 * EINVAL for a bad base; EBUSY when the ranges collide with attached memory or another redirect is installed.
 * Nothing is left behind on failure.
 */
export function createNfitTest(kernel: Kernel, options: NfitTestOptions): NfitTest {
  const { instance } = options;
  const base = options.base ?? nfitTestDefaultBase(instance);
  const platform = instance === 0 ? nfitTest0Platform(base) : nfitTest1Platform(base);
  const { arsBusyPolls, poison, midpointError } = options;
  const firmware = new NfitTestFirmware(platform, {
    labels: options.labels ?? nfitTestLabels(platform),
    ...(arsBusyPolls === undefined ? {} : { arsBusyPolls }),
    ...(poison === undefined ? {} : { poison }),
    ...(midpointError === undefined ? {} : { midpointError }),
  });
  const managed = options.iomap === undefined;
  const iomap = options.iomap ?? NfitTestIomap.installed(kernel) ?? new NfitTestIomap(kernel);
  if (managed) iomap.setup();
  let resources: NfitTestResources;
  try {
    resources = new NfitTestResources(
      kernel,
      iomap,
      platform,
      options.backing === undefined ? {} : { backing: options.backing },
    );
  } catch (e) {
    if (managed && iomap.instances === 0) iomap.teardown();
    throw e;
  }
  const dispose = (): void => {
    resources.dispose();
    if (managed && iomap.instances === 0) iomap.teardown();
  };
  return { instance, platform, firmware, resources, iomap, dispose, [Symbol.dispose]: dispose };
}

/** Both nfit_test instances of nfit_test_init(), sharing one iomap. */
export interface NfitTests {
  readonly tests: readonly [NfitTest, NfitTest];
  readonly iomap: NfitTestIomap;
  /** Disposes both instances, then tears the iomap down. */
  dispose(): void;
  [Symbol.dispose](): void;
}

/**
 * nfit_test_init()'s loop: nfit_test.0 and nfit_test.1 at their bases (defaults nfitTestDefaultBase()), with
 * one shared iomap set up for the kernel. Options other than the instance and base apply to both. Errors as
 * createNfitTest(); nothing is left behind on failure.
 */
export function createNfitTests(
  kernel: Kernel,
  options: Omit<NfitTestOptions, 'instance' | 'base' | 'iomap' | 'labels'> & {
    bases?: [number, number];
  } = {},
): NfitTests {
  const iomap = new NfitTestIomap(kernel);
  const { bases, ...common } = options;
  const make = (instance: 0 | 1): NfitTest =>
    createNfitTest(kernel, {
      ...common,
      instance,
      iomap,
      base: bases?.[instance] ?? nfitTestDefaultBase(instance),
    });
  iomap.setup();
  const made: NfitTest[] = [];
  try {
    made.push(make(0), make(1));
  } catch (e) {
    for (const t of made) t.dispose();
    iomap.teardown();
    throw e;
  }
  const [t0, t1] = made as [NfitTest, NfitTest];
  const dispose = (): void => {
    t1.dispose();
    t0.dispose();
    iomap.teardown();
  };
  return { tests: [t0, t1], iomap, dispose, [Symbol.dispose]: dispose };
}
