import type { Kernel } from '../../kernel.js';

/** Placeholder until the device model lands. */
export class DriverCore {
  constructor(readonly kernel: Kernel) {}
}
