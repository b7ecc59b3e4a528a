/**
 * One simulated Linux kernel: every subsystem the drivers use hangs off an instance, so tests and tools can
 * boot as many independent kernels as they like. There is no global state anywhere in daxsim.
 */

import { Devtmpfs } from './drivers/base/devtmpfs.js';
import { DriverCore } from './drivers/base/driver_core.js';
import { CharDevices } from './fs/char_dev.js';
import { Filesystems } from './fs/filesystems.js';
import { Sysfs } from './fs/sysfs/kernfs.js';
import { ModuleLoader } from './kernel/module.js';
import { Printk, type PrintkOptions } from './kernel/printk.js';
import { Rcu } from './kernel/rcu/tree.js';

export interface KernelOptions {
  printk?: PrintkOptions;
}

export class Kernel {
  /** The log buffer: printk, WARN, dmesg. */
  readonly log: Printk;
  /** Classic RCU: call_rcu, synchronize_rcu, rcu_barrier. */
  readonly rcu: Rcu;
  /** The /sys tree as userspace reads and writes it. */
  readonly sysfs: Sysfs;
  /** /dev nodes created for devices with a dev_t. */
  readonly devtmpfs: Devtmpfs;
  /** drivers/base: buses, classes, devices, drivers, devres. */
  readonly driverCore: DriverCore;
  /** fs/filesystems.c and fs/super.c: registered filesystem types and kernel mounts. */
  readonly fs: Filesystems;
  /** fs/char_dev.c: chrdev regions and cdevs. */
  readonly chrdev: CharDevices;
  /** kernel/module.c: insmod, modprobe, rmmod. */
  readonly modules: ModuleLoader;

  constructor(options: KernelOptions = {}) {
    this.log = new Printk(options.printk);
    this.rcu = new Rcu(this.log);
    this.sysfs = new Sysfs(this.log);
    this.devtmpfs = new Devtmpfs();
    this.driverCore = new DriverCore(this);
    this.fs = new Filesystems(this.log);
    this.chrdev = new CharDevices(this.log);
    this.modules = new ModuleLoader(this);
  }

  /** dmesg(1). */
  dmesg(): string[] {
    return this.log.dmesg();
  }
}
