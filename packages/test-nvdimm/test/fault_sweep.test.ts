/**
 * The fail-point sweep over the paths that allocate and register: a dax inode's alloc + register (dax.ko), a
 * probing driver's region setup and devm_create_dax_dev (device_dax.ko), dax_pmem's probe of a configured dax
 * seed, ndctl's create-namespace in each mode, and its reconfiguration (-f -e). See fault_sweep.ts for what
 * every run must satisfy.
 */
import { type DaxCore, daxModule } from '@daxsim/dax-core';
import { type DeviceDax, deviceDaxModule } from '@daxsim/device-dax';
import {
  type BusType,
  Device,
  type DeviceDriver,
  Kernel,
  kerr,
  MAP_SHARED,
  O_RDWR,
  PFN_DEV,
  PFN_MAP,
  PROT_READ,
  PROT_WRITE,
} from '@daxsim/kernel';
import { afterAll, describe, expect, it } from 'vitest';
import { NfitTestMedia } from '../src/nfit_test_module.js';
import { loadNfitTestStack, unloadNfitTestStack } from '../src/stack.js';
import { type SweepPath, type SweepReport, sweep } from './fault_sweep.js';
import {
  bind,
  createNamespace,
  daxChardevs,
  destroyNamespace,
  driverOf,
  holder,
  type NdMode,
  read,
  reconfigureNamespace,
  regions,
  unbind,
  waitProbe,
  write,
} from './libndctl.js';
import { bootNfitTest, MiB, type NdStack } from './nd_fixture.js';

const reports: SweepReport[] = [];

/** A kernel with only the modules a path needs, whose dispose unloads them and checks the boot baseline. */
async function bootModules(withDeviceDax: boolean) {
  const kernel = new Kernel();
  const booted = kernel.kmemleak.baseline();
  const dax: DaxCore = await kernel.modules.modprobe(daxModule);
  const devdax: DeviceDax | null = withDeviceDax ? await kernel.modules.modprobe(deviceDaxModule) : null;
  return {
    kernel,
    dax,
    devdax,
    expectedWarnings: 0,
    /** Run before the modules go: tears down what the path's last run built. */
    teardown: async (): Promise<void> => {},
    async [Symbol.asyncDispose]() {
      await this.teardown();
      if (withDeviceDax) await kernel.modules.rmmod('device_dax');
      await kernel.modules.rmmod('dax');
      await kernel.rcu.barrier();
      booted.assertClean({ expectedWarnings: this.expectedWarnings });
    },
  };
}

/** Stores and loads a pattern through a MAP_SHARED mapping of /dev/<chardev>, then unmaps and exits. */
function touchDax(k: Kernel, chardev: string): void {
  const t = k.spawn('sweep');
  const fd = t.open(`/dev/${chardev}`, O_RDWR);
  const addr = t.mmap(0, 2 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  t.store(addr + 4096, Uint8Array.of(0x5a, 0xa5));
  expect(t.load(addr + 4096, 2)).toEqual(Uint8Array.of(0x5a, 0xa5));
  t.exit();
  k.reapTask(t);
}

/** The region's free capacity, through sysfs. */
const available = (k: Kernel, region: string): number => Number(read(k, region, 'available_size'));

const daxInodePath = (): SweepPath<Awaited<ReturnType<typeof bootModules>>> => ({
  name: 'alloc_dax_inode + dax_inode_register',
  prepare: () => bootModules(false),
  async run(ctx) {
    const { dax } = ctx;
    const inode = dax.allocDaxInode({ sweep: true }, 'sweep_host', null);
    if (inode === null) throw kerr('ENOMEM', 'alloc_dax_inode');
    try {
      dax.daxInodeRegister(inode, {}, null, null);
    } catch (e) {
      await dax.killDaxInode(inode);
      dax.putDaxInode(inode);
      throw e;
    }
    ctx.teardown = async () => {
      dax.daxInodeUnregister(inode);
      await dax.killDaxInode(inode);
      dax.putDaxInode(inode);
      await ctx.kernel.rcu.barrier();
      ctx.teardown = async () => {};
    };
  },
  async verify(ctx) {
    const { dax } = ctx;
    const found = dax.daxGetByHost('sweep_host');
    expect(found).not.toBeNull();
    const id = dax.daxReadLock();
    expect(dax.daxInodeAlive(found!)).toBe(true);
    dax.daxReadUnlock(id);
    dax.putDaxInode(found);
    expect(dax.stats()).toMatchObject({ minors: 1, inodes: 1, hosts: 1 });
    await ctx.teardown();
    expect(dax.stats()).toEqual({ minors: 0, inodes: 0, hosts: 0, readers: 0 });
  },
});

/** Physical range of the probing parent's device memory: above any System RAM, section aligned. */
const PARENT_BASE = 2 ** 36;
const PARENT_SIZE = 16 * MiB;

const devmCreateDaxDevPath = (): SweepPath<
  Awaited<ReturnType<typeof bootModules>> & { bus: BusType; parent: Device | null; probeError: unknown }
> => ({
  name: 'probe: request_mem_region, devm_memremap_pages, alloc_dax_region, devm_create_dax_dev',
  async prepare() {
    const m = await bootModules(true);
    const k = m.kernel;
    const core = k.driverCore;
    const devdax = m.devdax!;
    const bus: BusType = { name: 'dax_sweep' };
    core.busRegister(bus);
    const ctx = Object.assign(m, { bus, parent: null as Device | null, probeError: null as unknown });
    const driver: DeviceDriver = {
      name: 'dax_sweep',
      bus,
      owner: null,
      async probe(dev) {
        try {
          const res = k.iomem.devmRequestMemRegion(dev, PARENT_BASE, PARENT_SIZE, 'dax_sweep');
          if (res === null) throw kerr('EBUSY', 'dax_sweep_probe');
          const addr = k.memremap.devmMemremapPages(core, dev, res, null);
          const region = await devdax.allocDaxRegion(dev, 0, res, 2 * MiB, addr, PFN_DEV | PFN_MAP);
          if (region === null) throw kerr('ENOMEM', 'dax_sweep_probe');
          try {
            await devdax.devmCreateDaxDev(region, [res]);
          } finally {
            devdax.daxRegionPut(region);
          }
        } catch (e) {
          ctx.probeError = e;
          throw e;
        }
      },
    };
    await core.driverRegister(driver);
    ctx.teardown = async () => {
      if (ctx.parent !== null) await core.deviceUnregister(ctx.parent);
      ctx.parent = null;
      await core.driverUnregister(driver);
      core.busUnregister(bus);
    };
    return ctx;
  },
  async run(ctx) {
    const core = ctx.kernel.driverCore;
    const parent = new Device({ name: 'dax_sweep.0', bus: ctx.bus, release: () => {} });
    ctx.probeError = null;
    try {
      await core.deviceRegister(parent);
    } catch (e) {
      core.putDevice(parent);
      throw e;
    }
    ctx.parent = parent;
    if (ctx.probeError !== null) {
      // the caller of a failed probe: the device stays registered unbound; here it is removed again
      await core.deviceUnregister(parent);
      ctx.parent = null;
      throw ctx.probeError;
    }
  },
  async verify(ctx) {
    const k = ctx.kernel;
    expect(ctx.devdax!.stats()).toEqual({ regions: 1, devices: 1 });
    touchDax(k, 'dax0.0');
    await k.driverCore.deviceUnregister(ctx.parent!);
    ctx.parent = null;
    expect(k.sysfs.exists('/sys/class/dax/dax0.0')).toBe(false);
    expect(ctx.devdax!.stats()).toEqual({ regions: 0, devices: 0 });
  },
});

type NdCtx = NdStack & { region: string; seed: string; ns: string | null };

/** v4.12 device_add_disk() WARN_ON(1)s when blk_alloc_devt() fails, and goes on without the disk's dev_t. */
const DISK_WARN = ['block/genhd.c:device_add_disk'];

async function bootNd(): Promise<NdCtx> {
  const s = await bootNfitTest();
  return Object.assign(s, { region: regions(s.kernel, 'nfit_test.0')[0]!, seed: '', ns: null });
}

const daxPmemPath = (): SweepPath<NdCtx & { dax: string }> => ({
  name: 'dax_pmem probe of a configured dax seed',
  allowedWarnings: DISK_WARN,
  async prepare() {
    const ctx = await bootNd();
    const k = ctx.kernel;
    const ns = read(k, ctx.region, 'namespace_seed');
    await write(k, ns, 'uuid', '6a8b2f2e-42f0-4c2f-9c8b-3f1d2e4a5b6c');
    await write(k, ns, 'size', String(16 * MiB));
    const dax = read(k, ctx.region, 'dax_seed');
    await write(k, dax, 'uuid', '7b9c3a3f-53a1-4d3a-8d9c-4a2e3f5b6c7d');
    await write(k, dax, 'mode', 'pmem');
    await write(k, dax, 'align', String(2 * MiB));
    await write(k, dax, 'namespace', ns);
    return Object.assign(ctx, { ns, dax });
  },
  run: (ctx) => bind(ctx.kernel, 'dax_pmem', ctx.dax),
  async verify(ctx) {
    const k = ctx.kernel;
    expect(driverOf(k, ctx.dax)).toBe('dax_pmem');
    const [chardev] = daxChardevs(k, ctx.dax);
    expect(k.sysfs.read(`/sys/class/dax/${chardev}/size`)).toBe(`${14 * MiB}\n`);
    touchDax(k, chardev!);
    await unbind(k, ctx.dax);
    expect(daxChardevs(k, ctx.dax)).toEqual([]);
  },
});

/** ndctl's rollback of a failed create (claim link, then size; size 0 drops the uuid too). */
async function rollbackCreate(k: Kernel, region: string, ns: string): Promise<void> {
  const claim = holder(k, ns);
  if (claim !== null) {
    if (driverOf(k, claim) !== null) await unbind(k, claim);
    await write(k, claim, 'namespace', '');
  }
  if (driverOf(k, ns) !== null) await unbind(k, ns);
  if (Number(read(k, ns, 'size')) !== 0 || read(k, ns, 'uuid') !== '') await write(k, ns, 'size', '0');
  await waitProbe(k);
  expect(read(k, region, 'available_size')).toBe(read(k, region, 'size'));
}

/** What a user does after a failed reconfiguration: every namespace of the region disabled and emptied. */
async function emptyRegion(k: Kernel, region: string): Promise<void> {
  const prefix = `namespace${region.slice('region'.length)}.`;
  for (const ns of k.sysfs.readdir('/sys/bus/nd/devices').filter((d) => d.startsWith(prefix)))
    if (k.sysfs.exists(`/sys/bus/nd/devices/${ns}`)) await rollbackCreate(k, region, ns);
}

/** The result of a create or reconfigure: the mode took, its device works; then destroyed, capacity back. */
async function verifyNamespace(ctx: NdCtx, mode: NdMode): Promise<void> {
  const k = ctx.kernel;
  const ns = ctx.ns!;
  const claim = holder(k, ns);
  if (mode === 'raw') expect([claim, driverOf(k, ns)]).toEqual([null, 'nd_pmem']);
  else expect(driverOf(k, claim!)).toBe(mode === 'fsdax' ? 'nd_pmem' : 'dax_pmem');
  if (mode === 'devdax') touchDax(k, daxChardevs(k, claim!)[0]!);
  expect(available(k, ctx.region)).toBe(Number(read(k, ctx.region, 'size')) - 16 * MiB);
  await destroyNamespace(k, ns);
  ctx.ns = null;
  expect(read(k, ctx.region, 'available_size')).toBe(read(k, ctx.region, 'size'));
}

const createPath = (mode: NdMode): SweepPath<NdCtx> => ({
  name: `create-namespace -m ${mode}`,
  allowedWarnings: DISK_WARN,
  prepare: bootNd,
  async run(ctx) {
    const k = ctx.kernel;
    ctx.seed = read(k, ctx.region, 'namespace_seed');
    ctx.ns = ctx.seed;
    await createNamespace(k, ctx.region, {
      mode,
      size: 16 * MiB,
      ...(mode === 'raw' ? {} : { align: 2 * MiB }),
    });
  },
  rollback: (ctx) => rollbackCreate(ctx.kernel, ctx.region, ctx.seed),
  verify: (ctx) => verifyNamespace(ctx, mode),
});

const RECONF_UUID = '8c0d4b40-64b2-4e4b-9e0d-5b3f406c7d8e';

const reconfigurePath = (): SweepPath<NdCtx> => ({
  name: 'create-namespace -f -e (fsdax -> devdax)',
  allowedWarnings: DISK_WARN,
  rollbackRestores: false,
  async prepare() {
    const ctx = await bootNd();
    ctx.ns = await createNamespace(ctx.kernel, ctx.region, {
      mode: 'fsdax',
      size: 16 * MiB,
      align: 2 * MiB,
      uuid: RECONF_UUID,
    });
    return ctx;
  },
  async run(ctx) {
    ctx.ns = await reconfigureNamespace(ctx.kernel, ctx.region, ctx.ns!, { mode: 'devdax', align: 2 * MiB });
  },
  async rollback(ctx) {
    // ndctl leaves a failed reconfiguration half done; the user destroys what is left and creates it again
    const k = ctx.kernel;
    await emptyRegion(k, ctx.region);
    ctx.ns = await createNamespace(k, ctx.region, {
      mode: 'fsdax',
      size: 16 * MiB,
      align: 2 * MiB,
      uuid: RECONF_UUID,
    });
  },
  verify: (ctx) => verifyNamespace(ctx, 'devdax'),
});

/**
 * Media left by a first boot: a devdax namespace on region0 and an fsdax one on region1 of nfit_test.0, so that
 * the next boot scans labels, reads info blocks and probes both claims.
 */
async function labelledMedia(): Promise<NfitTestMedia> {
  const media = new NfitTestMedia();
  await using s = await bootNfitTest({}, media);
  const [r0, r1] = regions(s.kernel, 'nfit_test.0');
  await createNamespace(s.kernel, r0!, { mode: 'devdax', size: 16 * MiB, align: 2 * MiB });
  await createNamespace(s.kernel, r1!, { mode: 'fsdax', size: 16 * MiB, align: 2 * MiB });
  return media;
}

type LoadCtx = { kernel: Kernel; expectedWarnings: number; media?: NfitTestMedia } & AsyncDisposable;

/**
 * modprobe of the stack and nfit_test's platforms: buses, DIMMs, label reads, regions, seeds, ARS. With
 * `makeMedia`, every run boots over fresh media from it, so that no run sees what a failed one wrote.
 */
const nfitTestLoadPath = (makeMedia?: () => Promise<NfitTestMedia>): SweepPath<LoadCtx> => ({
  name:
    makeMedia === undefined
      ? 'modprobe nfit_test (the whole stack)'
      : 'modprobe nfit_test over labelled media',
  // v4.12's nd_async_device_register() drops both references of an nmem whose device_add() failed, while
  // nfit still holds the nvdimm: nd_region_create()'s get_device() then touches a freed device, which the
  // kernel's refcount_t reports exactly so (increment on 0, then underflow on the region's put)
  allowedWarnings: [...DISK_WARN, 'lib/refcount.c:refcount_inc', 'lib/refcount.c:refcount_dec'],
  async prepare() {
    const media = await makeMedia?.();
    const kernel = new Kernel();
    const booted = kernel.kmemleak.baseline();
    const ctx: LoadCtx = {
      kernel,
      media,
      expectedWarnings: 0,
      async [Symbol.asyncDispose]() {
        await unloadNfitTestStack(kernel);
        booted.assertClean({ expectedWarnings: ctx.expectedWarnings });
      },
    };
    return ctx;
  },
  async run(ctx) {
    await loadNfitTestStack(ctx.kernel, { media: ctx.media });
  },
  async verify(ctx) {
    const k = ctx.kernel;
    const buses = k.sysfs.readdir('/sys/bus/nd/devices').filter((d) => d.startsWith('ndbus'));
    expect(buses).toHaveLength(2);
    if (ctx.media !== undefined && k.sysfs.exists('/sys/class/dax/dax0.0')) touchDax(k, 'dax0.0');
    await unloadNfitTestStack(k);
    expect(k.modules.list()).toEqual([]);
  },
});

describe('fail-point sweep: each run ends in a clean error or an absorbed failure, and leaks nothing', () => {
  afterAll(() => {
    const calls = reports.reduce((n, r) => n + r.calls, 0);
    const names = new Set(reports.flatMap((r) => r.points));
    console.log(
      `fail-point sweep: ${calls} fail-point calls failed one at a time over ${reports.length} paths, ` +
        `${names.size} distinct points (${[...names].sort().join(', ')})\n` +
        reports
          .map(
            (r) => `  ${r.path}: ${r.calls} calls, ${r.points.length} points, ${JSON.stringify(r.outcomes)}`,
          )
          .join('\n'),
    );
  });

  it('alloc_dax_inode + dax_inode_register', async () => {
    const r = await sweep(daxInodePath());
    reports.push(r);
    expect(r.runs).toEqual(['ida_simple_get: ENOMEM', 'alloc_inode: ENOMEM', 'cdev_add: ENOMEM']);
  });

  it('a probe that sets up a dax region and calls devm_create_dax_dev', async () => {
    const r = await sweep(devmCreateDaxDevPath());
    reports.push(r);
    expect(r.points).toEqual(
      expect.arrayContaining([
        'request_region',
        'devm_memremap_pages',
        'kzalloc',
        'sysfs_create_group',
        'devm_add_action',
        'ida_simple_get',
        'alloc_inode',
        'cdev_add',
        'device_add',
      ]),
    );
    expect(r.outcomes.absorbed ?? 0).toBe(0);
  });

  it('dax_pmem probe', async () => {
    const r = await sweep(daxPmemPath());
    reports.push(r);
    expect(r.points).toEqual(
      expect.arrayContaining([
        'request_region',
        'badblocks_init',
        'nd_dax_alloc',
        'nd_namespace_pmem_create',
      ]),
    );
    expect(r.calls).toBeGreaterThanOrEqual(20);
  });

  it.each(['raw', 'fsdax', 'devdax'] as const)('create-namespace -m %s', async (mode) => {
    const r = await sweep(createPath(mode));
    reports.push(r);
    expect(r.points).toEqual(
      expect.arrayContaining(['nvdimm_set_config_data', 'request_region', 'device_add']),
    );
    expect(r.outcomes.ENOMEM).toBeGreaterThan(0);
  });

  it('modprobe nfit_test', async () => {
    const r = await sweep(nfitTestLoadPath());
    reports.push(r);
    expect(r.points).toEqual(
      expect.arrayContaining([
        'register_chrdev_region',
        'nvdimm_bus_register',
        'nvdimm_create',
        'nvdimm_init_config_data',
        'nd_region_create',
      ]),
    );
  });

  it('modprobe nfit_test over media whose labels and info blocks a first boot wrote', async () => {
    const r = await sweep(nfitTestLoadPath(labelledMedia));
    reports.push(r);
    expect(r.points).toEqual(
      expect.arrayContaining([
        'create_namespace_pmem',
        'nvdimm_init_config_data',
        'nd_dax_alloc',
        'alloc_inode',
      ]),
    );
  });

  it('create-namespace -f -e', async () => {
    const r = await sweep(reconfigurePath());
    reports.push(r);
    expect(r.points).toEqual(expect.arrayContaining(['nvdimm_set_config_data', 'nd_dax_alloc']));
  });
});
