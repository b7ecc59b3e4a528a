/**
 * One simulated Linux kernel: every subsystem the drivers use hangs off an instance, so tests and tools can
 * boot as many independent kernels as they like. There is no global state anywhere in daxsim.
 */

import { BlockLayer } from './block/genhd.js';
import { Devtmpfs } from './drivers/base/devtmpfs.js';
import { DriverCore } from './drivers/base/driver_core.js';
import { CharDevices } from './fs/char_dev.js';
import { Filesystems } from './fs/filesystems.js';
import { Sysfs } from './fs/sysfs/kernfs.js';
import { AsyncDomain } from './kernel/async.js';
import { Task } from './kernel/fork.js';
import { IomapWrap, type ResourceRedirect } from './kernel/iomap_wrap.js';
import { ModuleLoader } from './kernel/module.js';
import { Printk, type PrintkOptions } from './kernel/printk.js';
import { Rcu } from './kernel/rcu/tree.js';
import { IORESOURCE_SYSTEM_RAM, ResourceTree } from './kernel/resource.js';
import { FaultInject } from './lib/fault-inject.js';
import { Kmemleak } from './mm/kmemleak.js';
import { FaultEvents } from './mm/memory.js';
import { Memremap } from './mm/memremap.js';
import { PhysicalMemory } from './mm/physmem.js';

export interface KernelOptions {
  printk?: PrintkOptions;
}

export class Kernel {
  /** The log buffer: printk, WARN, dmesg. */
  readonly log: Printk;
  /** Fail points (failslab and friends) that allocation and registration sites consult. */
  readonly faultInject = new FaultInject();
  /** Live-object counts and leak baselines (kmemleak's role): what a path left behind. */
  readonly kmemleak: Kmemleak = new Kmemleak(this);
  /** kernel/async.c: async_schedule and async_synchronize_full. */
  readonly async: AsyncDomain;
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
  /** block/genhd.c and fs/block_dev.c: gendisks, /sys/block, block device opens. */
  readonly block: BlockLayer;
  /** The physical address space and its (sparse) backing. */
  readonly physmem: PhysicalMemory;
  /** kernel/resource.c: the iomem resource tree (/proc/iomem). */
  readonly iomem: ResourceTree;
  /** kernel/memremap.c: kernel mappings of physical ranges. */
  readonly memremap: Memremap;
  /** tools/testing/nvdimm/test/iomap.c: the redirection iomem and memremap are linked against. */
  readonly #iomapWrap: IomapWrap;
  /** Driver faults by entry size and outcome, across every task. */
  readonly faultEvents = new FaultEvents();
  readonly #tasks = new Map<number, Task>();
  #nextPid = 1;

  constructor(options: KernelOptions = {}) {
    this.log = new Printk(options.printk);
    this.async = new AsyncDomain(this.log);
    this.rcu = new Rcu(this.log);
    this.sysfs = new Sysfs(this.log);
    this.devtmpfs = new Devtmpfs(this.log);
    this.driverCore = new DriverCore(this);
    this.fs = new Filesystems(this.log);
    this.chrdev = new CharDevices(
      this.log,
      {
        tryModuleGet: (mod) => this.modules.tryModuleGet(mod),
        modulePut: (mod) => this.modules.modulePut(mod),
      },
      this.faultInject,
    );
    this.modules = new ModuleLoader(this);
    this.block = new BlockLayer(this);
    this.physmem = new PhysicalMemory();
    this.#iomapWrap = new IomapWrap(this.log);
    this.iomem = new ResourceTree(this.log, this.#iomapWrap, this.faultInject);
    this.memremap = new Memremap(
      this.physmem,
      this.log,
      (phys, size) => this.iomem.regionIntersects(phys, size, IORESOURCE_SYSTEM_RAM),
      this.#iomapWrap,
      this.faultInject,
    );
  }

  /**
   * nfit_test_setup() / nfit_test_teardown(): with `r` set, region requests, insert/remove_resource and
   * memremap for addresses `r` claims are served as tools/testing/nvdimm/test/iomap.c serves them; null
   * restores the real paths. Requests already recorded on a test resource stay there.
   */
  setResourceRedirect(r: ResourceRedirect | null): void {
    this.#iomapWrap.redirect = r;
  }

  /** Regions requested inside redirected test resources and not yet released (for leak checks). */
  get redirectedRequests(): number {
    return this.#iomapWrap.liveRequests;
  }

  /** The redirect set by setResourceRedirect(), or null. */
  get resourceRedirect(): ResourceRedirect | null {
    return this.#iomapWrap.redirect;
  }

  /** fork+exec of a process named `comm`: an empty address space and descriptor table. */
  spawn(comm: string): Task {
    const task = new Task(this, this.#nextPid++, comm);
    this.#tasks.set(task.pid, task);
    return task;
  }

  /** Live tasks, by pid. */
  get tasks(): ReadonlyMap<number, Task> {
    return this.#tasks;
  }

  /** release_task(): forgets an exited task. */
  reapTask(task: Task): void {
    this.#tasks.delete(task.pid);
  }

  /** dmesg(1). */
  dmesg(): string[] {
    return this.log.dmesg();
  }
}
