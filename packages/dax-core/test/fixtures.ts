import { Kernel } from '@daxsim/kernel';
import { type DaxCore, type DaxParams, daxModule } from '../src/index.js';

/** A fresh kernel with dax.ko loaded; disposing unloads it and checks that nothing leaked. */
export interface DaxFixture extends AsyncDisposable {
  kernel: Kernel;
  dax: DaxCore;
}

export async function bootDax(params: Partial<DaxParams> = {}): Promise<DaxFixture> {
  const kernel = new Kernel();
  const dax = await kernel.modules.modprobe(daxModule, params);
  return {
    kernel,
    dax,
    async [Symbol.asyncDispose]() {
      if (kernel.modules.find('dax')) await kernel.modules.rmmod('dax');
    },
  };
}

/** Resolves after the current RCU grace period, so freed minors become reusable. */
export function gracePeriod(kernel: Kernel): Promise<void> {
  return kernel.rcu.barrier();
}

export const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
