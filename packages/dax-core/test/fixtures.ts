import { Kernel } from '@daxsim/kernel';
import { type DaxCore, type DaxParams, daxModule } from '../src/index.js';

/**
 * A fresh kernel with dax.ko loaded. Disposing it checks that the test left no dax inode, minor, host entry
 * or reader behind once pending RCU frees have run, then unloads dax.ko and checks that the kernel is back to
 * where it was before the load (sysfs nodes, chrdev regions, cdevs, mounts, filesystems).
 */
export interface DaxFixture extends AsyncDisposable {
  kernel: Kernel;
  dax: DaxCore;
}

export async function bootDax(params: Partial<DaxParams> = {}): Promise<DaxFixture> {
  const kernel = new Kernel();
  const sysfsNodes = kernel.sysfs.nodeCount;
  const dax = await kernel.modules.modprobe(daxModule, params);
  return {
    kernel,
    dax,
    async [Symbol.asyncDispose]() {
      await kernel.rcu.barrier();
      const leaks = dax.stats();
      await kernel.modules.rmmod('dax');
      const after = {
        ...leaks,
        sysfsNodes: kernel.sysfs.nodeCount - sysfsNodes,
        chrdev: kernel.chrdev.counts,
        mounts: kernel.fs.mounts,
        daxfs: kernel.fs.has('dax'),
      };
      const clean = {
        minors: 0,
        inodes: 0,
        hosts: 0,
        readers: 0,
        sysfsNodes: 0,
        chrdev: { regions: 0, cdevs: 0 },
        mounts: 0,
        daxfs: false,
      };
      if (JSON.stringify(after) !== JSON.stringify(clean))
        throw new Error(`leak after test: ${JSON.stringify(after)}`);
    },
  };
}

/** Resolves after the current RCU grace period, so freed minors become reusable. */
export function gracePeriod(kernel: Kernel): Promise<void> {
  return kernel.rcu.barrier();
}

export const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
