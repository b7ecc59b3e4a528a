/**
 * The model behind the whole-stack lifecycle property: what nfit_test.0's two labelled pmem regions should hold
 * (namespaces, their claims, device-dax instances, the tasks that have them open and mapped), the operations
 * ndctl and applications perform on it, each with the outcome the kernel must produce, and the invariants that
 * tie the model to sysfs, /dev and the modules' object counts after every step.
 */
import {
  BUS_ADRERR,
  type Kernel,
  MAP_PRIVATE,
  MAP_SHARED,
  O_RDWR,
  PROT_READ,
  PROT_WRITE,
  SIGBUS,
  type Task,
  unmapMappingRange,
} from '@daxsim/kernel';
import { expect } from 'vitest';
import {
  bind,
  daxChardevs,
  driverOf,
  holder,
  type NdMode,
  read,
  regionGetNamespace,
  regions,
  waitProbe,
  write,
} from './libndctl.js';
import {
  daxInodeOfChardev,
  ndctlCreate,
  ndctlDestroy,
  ndctlDisable,
  ndctlReconfigure,
  regionChildren,
} from './lifecycle_ndctl.js';
import { KiB, MiB, type NdStack } from './nd_fixture.js';

const ND = '/sys/bus/nd/devices';
/** nd_namespace_store() refuses to claim a namespace under 16 MiB. */
const MIN_CLAIM_SIZE = 16 * MiB;
/** Namespace sizes are multiples of this (a multiple of every region's 4K-per-mapping size granule). */
const SIZE_UNIT = 4 * MiB;
const TASKS = 3;

// operations

export type Op =
  | { op: 'create'; region: number; mode: NdMode; units: number; misalign: boolean; align: number }
  | { op: 'enable'; ns: number }
  | { op: 'disable'; ns: number; release: boolean }
  | { op: 'destroy'; ns: number; force: boolean }
  | { op: 'reconfigure'; ns: number; mode: NdMode; align: number }
  | { op: 'unbind'; ns: number; target: 'active' | 'namespace' }
  | { op: 'kill'; dev: number }
  | {
      op: 'mmap';
      task: number;
      dev: number;
      reuse: boolean;
      units: number;
      offUnits: number;
      shared: boolean;
      misalign: boolean;
    }
  | { op: 'access'; map: number; at: number; write: boolean; value: number; recall: boolean }
  | { op: 'munmap'; map: number }
  | { op: 'close'; task: number; file: number }
  | { op: 'exit'; task: number };

// model objects

interface RegionModel {
  name: string;
  id: number;
  size: number;
  /** Interleave ways (mappings): DPA is allocated in size / ways per mapping. */
  ways: number;
}

/**
 * What a namespace's media holds for one configuration: the bytes stored by device offset (with the device
 * instance that stored them), and the dax device size every instance over it must have.
 */
interface Layout {
  data: Map<number, { value: number; by: DaxDevModel }>;
  devSize: number | null;
}

interface NsModel {
  name: string;
  region: RegionModel;
  mode: NdMode;
  size: number;
  uuid: string;
  align: number;
  /** Offset of the namespace's DPA in each mapping (the allocator's first fit). */
  offset: number;
  enabled: boolean;
  /** The pfn/dax device holding the namespace; null for raw, and after a disable that released the claim. */
  claim: string | null;
  layout: Layout;
  /** The device-dax instance registered for the namespace while it is an enabled devdax namespace. */
  dev: DaxDevModel | null;
}

type DevState = 'alive' | 'killed' | 'unregistered';

interface DaxDevModel {
  name: string;
  ns: NsModel;
  layout: Layout;
  size: number;
  align: number;
  state: DevState;
}

interface FileModel {
  fd: number;
  dev: DaxDevModel;
}

interface MapModel {
  task: TaskModel;
  dev: DaxDevModel;
  addr: number;
  len: number;
  /** Device offset of addr. */
  off: number;
}

interface TaskModel {
  t: Task;
  files: FileModel[];
  maps: MapModel[];
}

/** A sysfs view of what an operation that fails must leave untouched. */
type Snapshot = Record<string, string>;

const pick = <T>(xs: readonly T[], i: number): T | undefined =>
  xs.length === 0 ? undefined : xs[i % xs.length];

const nsId = (ns: string): number => Number(ns.split('.')[1]);

/** nvdimm_namespace_disk_name(). */
const diskName = (ns: NsModel): string =>
  nsId(ns.name) === 0 ? `pmem${ns.region.id}` : `pmem${ns.region.id}.${nsId(ns.name)}`;

const sorted = (xs: Iterable<string>): string[] => [...xs].sort();

async function thrown(f: () => unknown): Promise<unknown> {
  try {
    await f();
  } catch (e) {
    return e;
  }
  return null;
}

/** The model and the stack it mirrors, for one run. */
export class LifecycleWorld {
  readonly k: Kernel;
  regions: RegionModel[] = [];
  namespaces: NsModel[] = [];
  /** Dax devices not yet released: registered, or unregistered but held by a file or mapping. */
  devices: DaxDevModel[] = [];
  tasks: Array<TaskModel | null> = Array.from({ length: TASKS }, () => null);
  /** /dev/pmem* nodes that exist independently of the model (nfit_test.1's label-less namespaces). */
  #bootDisks: string[] = [];
  #uuids = 0;
  /** Operations applied so far. */
  steps = 0;

  constructor(
    readonly s: NdStack,
    readonly counts: Map<string, number>,
  ) {
    this.k = s.kernel;
  }

  async setup(): Promise<void> {
    const k = this.k;
    this.regions = regions(k, 'nfit_test.0').map((name) => ({
      name,
      id: Number(name.slice('region'.length)),
      size: Number(read(k, name, 'size')),
      ways: Number(read(k, name, 'mappings')),
    }));
    expect(this.regions.map((r) => [r.size, r.ways])).toEqual([
      [32 * MiB, 2],
      [64 * MiB, 4],
    ]);
    this.#bootDisks = k.devtmpfs.list().filter((d) => d.startsWith('pmem'));
    await this.check();
  }

  #count(op: string, outcome: string): void {
    const key = `${op}:${outcome}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  /** Whether `o` has something to act on (an existing namespace, device, mapping, file or task). */
  applies(o: Op): boolean {
    switch (o.op) {
      case 'create':
        return true;
      case 'enable':
      case 'disable':
      case 'destroy':
      case 'reconfigure':
      case 'unbind':
        return this.namespaces.length > 0;
      case 'kill':
        return this.devices.some((d) => d.state === 'alive');
      case 'mmap':
        return this.devices.length > 0 || (o.reuse && (this.tasks[o.task % TASKS]?.files.length ?? 0) > 0);
      case 'access':
      case 'munmap':
        return this.#maps().length > 0;
      case 'close':
        return (this.tasks[o.task % TASKS]?.files.length ?? 0) > 0;
      case 'exit':
        return this.tasks[o.task % TASKS] != null;
    }
  }

  /** Applies one operation, asserting the kernel's outcome, then checks every invariant; returns the outcome. */
  async step(o: Op): Promise<string> {
    const outcome = await this.#apply(o);
    this.steps++;
    this.#count(o.op, outcome);
    this.#release();
    await this.check();
    return outcome;
  }

  async #apply(o: Op): Promise<string> {
    switch (o.op) {
      case 'create':
        return this.#create(o);
      case 'enable':
        return this.#enable(o.ns);
      case 'disable':
        return this.#disable(o.ns, o.release);
      case 'destroy':
        return this.#destroy(o.ns, o.force);
      case 'reconfigure':
        return this.#reconfigure(o);
      case 'unbind':
        return this.#unbind(o.ns, o.target);
      case 'kill':
        return this.#kill(o.dev);
      case 'mmap':
        return this.#mmap(o);
      case 'access':
        return this.#access(o);
      case 'munmap':
        return this.#munmap(o.map);
      case 'close':
        return this.#close(o.task, o.file);
      case 'exit':
        return this.#exit(o.task);
    }
  }

  /** Runs `f`, which must fail with `code` and leave sysfs as it was. */
  async #fails(code: string, f: () => unknown): Promise<string> {
    const before = this.#snapshot();
    const e = await thrown(f);
    expect(e, `expected ${code}`).toMatchObject({ code });
    expect(this.#snapshot()).toEqual(before);
    return code;
  }

  // allocation, mirroring the region's first fit over each mapping's DPA

  #firstFit(r: RegionModel, size: number, without: NsModel | null = null): number | null {
    const per = size / r.ways;
    const used = this.namespaces
      .filter((n) => n.region === r && n !== without)
      .map((n) => [n.offset, n.offset + n.size / r.ways] as const)
      .sort((a, b) => a[0] - b[0]);
    let at = 0;
    for (const [s, e] of used) {
      if (s - at >= per) return at;
      at = Math.max(at, e);
    }
    return r.size / r.ways - at >= per ? at : null;
  }

  #available(r: RegionModel): number {
    return r.size - this.namespaces.filter((n) => n.region === r).reduce((a, n) => a + n.size, 0);
  }

  #newUuid(): string {
    const n = ++this.#uuids;
    return `6c1f0000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
  }

  // namespace operations

  async #create(o: Extract<Op, { op: 'create' }>): Promise<string> {
    const r = this.regions[o.region % this.regions.length]!;
    const size = o.units * SIZE_UNIT + (o.misalign ? 4 * KiB : 0);
    const opts = { mode: o.mode, size, uuid: this.#newUuid(), align: o.mode === 'raw' ? undefined : o.align };
    const offset = this.#firstFit(r, size);
    if (size % (4 * KiB * r.ways) !== 0)
      return this.#fails('EINVAL', () => ndctlCreate(this.k, r.name, opts));
    if (size > this.#available(r)) return this.#fails('ENOSPC', () => ndctlCreate(this.k, r.name, opts));
    if (offset === null) {
      // enough capacity in total, but no single free extent holds it
      await this.#fails('ENOSPC', () => ndctlCreate(this.k, r.name, opts));
      return 'ENOSPC, fragmented';
    }
    if (o.mode !== 'raw' && size < MIN_CLAIM_SIZE)
      return this.#fails('ENXIO', () => ndctlCreate(this.k, r.name, opts));
    const expected = regionGetNamespace(this.k, r.name);
    const name = await ndctlCreate(this.k, r.name, opts);
    expect(name).toBe(expected);
    const ns: NsModel = {
      name,
      region: r,
      mode: o.mode,
      size,
      uuid: opts.uuid,
      align: o.align,
      offset,
      enabled: true,
      claim: null,
      layout: { data: new Map(), devSize: null },
      dev: null,
    };
    this.namespaces.push(ns);
    this.#enabled(ns);
    return 'ok';
  }

  /** Records that `ns` has just been enabled: its claim device, and its dax device for devdax. */
  #enabled(ns: NsModel): void {
    ns.enabled = true;
    if (ns.mode === 'raw') return;
    const claim = holder(this.k, ns.name);
    expect(claim).toMatch(new RegExp(`^${ns.mode === 'devdax' ? 'dax' : 'pfn'}${ns.region.id}\\.\\d+$`));
    ns.claim = claim;
    if (ns.mode !== 'devdax') return;
    const name = `dax${ns.region.id}.${nsId(ns.name)}`;
    expect(daxChardevs(this.k, claim!)).toEqual([name]);
    const size = Number(this.k.sysfs.read(`/sys/class/dax/${name}/size`));
    if (ns.layout.devSize === null) {
      expect(size).toBeGreaterThan(0);
      expect(size % ns.align).toBe(0);
      expect(size).toBeLessThan(ns.size);
      ns.layout.devSize = size;
    }
    // the info block is validated, not rewritten: a re-enabled device has the same data range
    expect(size).toBe(ns.layout.devSize);
    const dev: DaxDevModel = { name, ns, layout: ns.layout, size, align: ns.align, state: 'alive' };
    ns.dev = dev;
    this.devices.push(dev);
  }

  /** Records that `ns` is no longer enabled: its dax device was unregistered. */
  #disabled(ns: NsModel): void {
    ns.enabled = false;
    if (ns.dev !== null) ns.dev.state = 'unregistered';
    ns.dev = null;
  }

  /** The device a namespace's personality binds (its claim, else itself) and that device's driver. */
  #active(ns: NsModel): [dev: string, driver: string] {
    if (ns.claim === null) return [ns.name, 'nd_pmem'];
    return [ns.claim, ns.mode === 'devdax' ? 'dax_pmem' : 'nd_pmem'];
  }

  async #enable(i: number): Promise<string> {
    const ns = pick(this.namespaces, i);
    if (ns === undefined) return 'noop';
    const [dev, driver] = this.#active(ns);
    if (ns.enabled) return this.#fails('ENODEV', () => bind(this.k, driver, dev));
    if (ns.claim !== null || ns.mode === 'raw') {
      await bind(this.k, driver, dev);
      this.#enabled(ns);
      return 'ok';
    }
    // released claim: nd_pmem finds the info block, hands over to a new claim device and fails its own probe
    expect(await thrown(() => bind(this.k, 'nd_pmem', ns.name))).toMatchObject({ code: 'ENODEV' });
    await waitProbe(this.k);
    expect(driverOf(this.k, ns.name)).toBeNull();
    this.#enabled(ns);
    return 'rediscovered';
  }

  async #disable(i: number, release: boolean): Promise<string> {
    const ns = pick(this.namespaces, i);
    if (ns === undefined) return 'noop';
    const was = ns.enabled;
    await ndctlDisable(this.k, ns.name, release);
    this.#disabled(ns);
    if (release) ns.claim = null;
    return `${was ? 'enabled' : 'disabled'}${release ? '+release' : ''}`;
  }

  async #unbind(i: number, target: 'active' | 'namespace'): Promise<string> {
    const ns = pick(this.namespaces, i);
    if (ns === undefined) return 'noop';
    const [dev, driver] = target === 'namespace' ? [ns.name, 'nd_pmem'] : this.#active(ns);
    const unbindIt = async () => {
      await this.k.sysfs.write(`/sys/bus/nd/drivers/${driver}/unbind`, `${dev}\n`);
      await waitProbe(this.k);
    };
    if (!ns.enabled || dev !== this.#active(ns)[0]) return this.#fails('ENODEV', unbindIt);
    await unbindIt();
    this.#disabled(ns);
    return 'ok';
  }

  /** Drops `ns` from the model after its labels were deleted, checking its capacity came back. */
  #forget(ns: NsModel, availableBefore: number): void {
    this.#disabled(ns);
    this.namespaces.splice(this.namespaces.indexOf(ns), 1);
    expect(Number(read(this.k, ns.region.name, 'available_size'))).toBe(availableBefore + ns.size);
  }

  async #destroy(i: number, force: boolean): Promise<string> {
    const ns = pick(this.namespaces, i);
    if (ns === undefined) return 'noop';
    // ndctl refuses an active namespace without -f; the kernel refuses to shrink a bound or claimed one
    if (ns.enabled && !force) return this.#fails('EBUSY', () => write(this.k, ns.name, 'size', '0'));
    const before = Number(read(this.k, ns.region.name, 'available_size'));
    await ndctlDestroy(this.k, ns.name);
    this.#forget(ns, before);
    return 'ok';
  }

  async #reconfigure(o: Extract<Op, { op: 'reconfigure' }>): Promise<string> {
    const ns = pick(this.namespaces, o.ns);
    if (ns === undefined) return 'noop';
    const k = this.k;
    const before = Number(read(k, ns.region.name, 'available_size'));
    const opts = { mode: o.mode, align: o.mode === 'raw' ? undefined : o.align };
    if (o.mode !== 'raw' && ns.size < MIN_CLAIM_SIZE) {
      // the destroy half succeeds; the claim refuses the namespace, and ndctl's cleanup deletes it
      const e = await thrown(() => ndctlReconfigure(k, ns.region.name, ns.name, opts));
      expect(e).toMatchObject({ code: 'ENXIO' });
      this.#forget(ns, before);
      return 'ENXIO';
    }
    const offset = this.#firstFit(ns.region, ns.size, ns)!;
    const name = await ndctlReconfigure(k, ns.region.name, ns.name, opts);
    this.#disabled(ns);
    Object.assign(ns, {
      name,
      mode: o.mode,
      align: o.align,
      offset,
      claim: null,
      layout: { data: new Map(), devSize: null },
    });
    expect(read(k, name, 'uuid')).toBe(ns.uuid);
    this.#enabled(ns);
    return 'ok';
  }

  // device-dax operations

  /** Registered dax devices. */
  #registered(): DaxDevModel[] {
    return this.devices.filter((d) => d.state !== 'unregistered');
  }

  async #kill(i: number): Promise<string> {
    const dev = pick(
      this.devices.filter((d) => d.state === 'alive'),
      i,
    );
    if (dev === undefined) return 'noop';
    // unregister_dax_dev()'s first half: no new faults or mappings, the existing mappings zapped
    const dax = daxInodeOfChardev(this.k, dev.name);
    await this.s.dax.killDaxInode(dax);
    unmapMappingRange(this.s.dax.daxInodeToInode(dax).mapping, 0, 0, true);
    dev.state = 'killed';
    return 'ok';
  }

  #task(i: number): TaskModel {
    const slot = i % TASKS;
    let t = this.tasks[slot];
    if (t === null || t === undefined) {
      t = { t: this.k.spawn(`lifecycle${slot}`), files: [], maps: [] };
      this.tasks[slot] = t;
    }
    return t;
  }

  async #mmap(o: Extract<Op, { op: 'mmap' }>): Promise<string> {
    const task = this.#task(o.task);
    const t = task.t;
    let file = o.reuse ? pick(task.files, o.dev) : undefined;
    if (file === undefined) {
      const registered = this.#registered();
      const stale = this.devices.filter((d) => !registered.some((r) => r.name === d.name)).map((d) => d.name);
      const name = pick([...registered.map((d) => d.name), ...stale], o.dev);
      if (name === undefined) return 'noop';
      const path = `/dev/${name}`;
      const dev = registered.find((d) => d.name === name);
      if (dev === undefined) return `open ${await this.#fails('ENOENT', () => t.open(path, O_RDWR))}`;
      if (dev.state === 'killed') return `open ${await this.#fails('ENXIO', () => t.open(path, O_RDWR))}`;
      file = { fd: t.open(path, O_RDWR), dev };
      task.files.push(file);
    }
    const { dev, fd } = file;
    const len = o.units * dev.align + (o.misalign ? 4 * KiB : 0);
    const off = (o.offUnits % (dev.size / dev.align + 1)) * dev.align;
    const prot = PROT_READ | PROT_WRITE;
    const flags = o.shared ? MAP_SHARED : MAP_PRIVATE;
    const map = () => t.mmap(0, len, prot, flags, fd, off);
    if (dev.state !== 'alive') return this.#fails('ENXIO', map);
    if (!o.shared || len % dev.align !== 0) return this.#fails('EINVAL', map);
    const addr = map();
    expect(addr % dev.align).toBe(0);
    task.maps.push({ task, dev, addr, len, off });
    return 'ok';
  }

  #maps(): MapModel[] {
    return this.tasks.flatMap((t) => t?.maps ?? []);
  }

  /** A one-byte load or store through `m` at `at`; true when it must succeed. */
  #accessOk(m: MapModel, at: number): boolean {
    return m.dev.state === 'alive' && m.off + at < m.dev.size;
  }

  async #access(o: Extract<Op, { op: 'access' }>): Promise<string> {
    const m = pick(this.#maps(), o.map);
    if (m === undefined) return 'noop';
    let at = o.at % m.len;
    if (!o.write && o.recall) {
      // a load of a byte stored earlier (through this or another device of the layout) that the window covers
      const stored = [...m.dev.layout.data.keys()].filter((off) => off >= m.off && off < m.off + m.len);
      const off = pick(stored, o.at);
      if (off !== undefined) at = off - m.off;
    }
    const devOff = m.off + at;
    const t = m.task.t;
    const run = () => (o.write ? t.store(m.addr + at, new Uint8Array([o.value])) : t.load(m.addr + at, 1)[0]);
    if (!this.#accessOk(m, at)) {
      expectSigbus(await thrown(run), m.addr + at);
      return 'SIGBUS';
    }
    const got = run();
    const stored = m.dev.layout.data.get(devOff);
    if (o.write) {
      m.dev.layout.data.set(devOff, { value: o.value, by: m.dev });
      return 'store';
    }
    if (stored === undefined) return 'load';
    expect(got).toBe(stored.value);
    return stored.by === m.dev ? 'load of a stored byte' : 'load of a byte an earlier instance stored';
  }

  async #munmap(i: number): Promise<string> {
    const m = pick(this.#maps(), i);
    if (m === undefined) return 'noop';
    m.task.t.munmap(m.addr, m.len);
    m.task.maps.splice(m.task.maps.indexOf(m), 1);
    return 'ok';
  }

  async #close(i: number, f: number): Promise<string> {
    const task = this.tasks[i % TASKS];
    const file = task ? pick(task.files, f) : undefined;
    if (task === null || task === undefined || file === undefined) return 'noop';
    task.t.close(file.fd);
    task.files.splice(task.files.indexOf(file), 1);
    return 'ok';
  }

  async #exit(i: number): Promise<string> {
    const task = this.tasks[i % TASKS];
    if (task === null || task === undefined) return 'noop';
    task.t.exit();
    this.tasks[i % TASKS] = null;
    return 'ok';
  }

  /** Forgets the unregistered devices no file or mapping holds any more (their release ran). */
  #release(): void {
    const held = new Set<DaxDevModel>();
    for (const t of this.tasks) {
      for (const f of t?.files ?? []) held.add(f.dev);
      for (const m of t?.maps ?? []) held.add(m.dev);
    }
    this.devices = this.devices.filter((d) => d.state !== 'unregistered' || held.has(d));
  }

  // invariants

  #snapshot(): Snapshot {
    const k = this.k;
    const out: Snapshot = {};
    const attr = (dev: string, a: string) => {
      out[`${dev}/${a}`] = k.sysfs.exists(`${ND}/${dev}/${a}`) ? read(k, dev, a) : '-';
    };
    for (const r of this.regions) {
      for (const a of ['available_size', 'namespace_seed', 'pfn_seed', 'dax_seed']) attr(r.name, a);
      for (const ns of regionChildren(k, r.name, /^namespace\d+\.\d+$/)) {
        for (const a of ['size', 'uuid', 'mode', 'holder', 'alt_name']) attr(ns, a);
        out[`${ns}/driver`] = driverOf(k, ns) ?? '';
      }
      for (const c of regionChildren(k, r.name, /^(pfn|dax)\d+\.\d+$/)) {
        // an idle seed keeps the align it was last given (nd_detach_and_reset() resets only uuid and mode)
        for (const a of ['namespace', 'uuid', 'mode']) attr(c, a);
        out[`${c}/driver`] = driverOf(k, c) ?? '';
      }
    }
    out['/sys/class/dax'] = sorted(k.sysfs.readdir('/sys/class/dax')).join(' ');
    out['/dev'] = k.devtmpfs.list().join(' ');
    return out;
  }

  /**
   * Every invariant of the model against the stack. Mismatches are collected and asserted at once, so that a
   * failure lists all of them.
   */
  async check(): Promise<void> {
    const k = this.k;
    const bad: string[] = [];
    const same = (what: string, got: unknown, want: unknown) => {
      const [g, w] = [JSON.stringify(got), JSON.stringify(want)];
      if (g !== w) bad.push(`${what}: ${g}, model ${w}`);
    };
    for (const r of this.regions) this.#checkRegion(r, same);

    // each /sys/class/dax entry and /dev/dax node is a registered device of an enabled devdax namespace
    const registered = this.#registered();
    const names = sorted(registered.map((d) => d.name));
    same('/sys/class/dax', sorted(k.sysfs.readdir('/sys/class/dax')), names);
    same(
      '/dev/dax*',
      k.devtmpfs.list().filter((d) => d.startsWith('dax')),
      names,
    );
    for (const ns of this.namespaces)
      same(
        `${ns.name} has a dax device`,
        ns.dev !== null,
        ns.enabled && ns.mode === 'devdax' && ns.claim !== null,
      );
    const id = this.s.dax.daxReadLock();
    try {
      for (const d of registered) {
        same(`${d.name} is its namespace's one device`, d.ns.dev === d, true);
        same(`${d.name}/size`, Number(k.sysfs.read(`/sys/class/dax/${d.name}/size`)), d.size);
        same(`${d.name} alive`, this.s.dax.daxInodeAlive(daxInodeOfChardev(k, d.name)), d.state === 'alive');
      }
    } finally {
      this.s.dax.daxReadUnlock(id);
    }

    // the block devices are the enabled raw and fsdax namespaces' (and nfit_test.1's)
    const disks = this.namespaces.filter((n) => n.enabled && n.mode !== 'devdax').map(diskName);
    same(
      '/dev/pmem*',
      k.devtmpfs.list().filter((d) => d.startsWith('pmem')),
      sorted([...this.#bootDisks, ...disks]),
    );

    // object counts: dax devices and regions until their last reference, dax inodes once RCU has run
    const n = this.devices.length;
    same('device_dax stats', this.s.devdax.stats(), { regions: n, devices: n });
    same(
      'live devices outside sysfs',
      sorted(k.driverCore.liveDevices.filter((d) => !d.kobj.stateInSysfs).map((d) => d.name)),
      sorted(this.devices.filter((d) => d.state === 'unregistered').map((d) => d.name)),
    );
    await k.rcu.barrier();
    const hosts = this.#bootDisks.length + disks.length;
    same('dax stats', this.s.dax.stats(), { minors: hosts + n, inodes: hosts + n, hosts, readers: 0 });
    same('WARNs', k.log.warnings, 0);
    expect(bad).toEqual([]);

    // no access succeeds through a mapping of a killed or unregistered device
    for (const m of this.#maps())
      if (m.dev.state !== 'alive') expectSigbus(await thrown(() => m.task.t.load(m.addr, 1)), m.addr);
  }

  /** A region's available_size, namespaces and claim devices against the model. */
  #checkRegion(r: RegionModel, same: (what: string, got: unknown, want: unknown) => void): void {
    const k = this.k;
    const dir = k.sysfs.realpath(`${ND}/${r.name}`);
    /** An attribute of the region (dev '') or of a device below it. */
    const attr = (dev: string, a: string) => k.sysfs.read(`${dir}${dev && `/${dev}`}/${a}`).trim();
    const driver = (dev: string) =>
      k.sysfs.readdir(`${dir}/${dev}`).includes('driver')
        ? k.sysfs.readlink(`${dir}/${dev}/driver`).split('/').pop()!
        : null;
    const mine = this.namespaces.filter((n) => n.region === r);
    same(`${r.name}/available_size`, Number(attr('', 'available_size')), this.#available(r));
    const children = k.sysfs.readdir(dir);
    const live = children.filter((d) => /^namespace\d+\.\d+$/.test(d));
    const idleNs = [attr('', 'namespace_seed'), `namespace${r.id}.0`];
    const base = Number(attr('', 'resource'));
    for (const name of live) {
      const ns = mine.find((x) => x.name === name);
      const seen = {
        size: Number(attr(name, 'size')),
        uuid: attr(name, 'uuid'),
        mode: attr(name, 'mode'),
        holder: attr(name, 'holder'),
        driver: driver(name),
      };
      if (ns === undefined) {
        // an idle namespace: the seed, or namespaceR.0 which the kernel never retires
        same(`${name} is idle`, idleNs.includes(name), true);
        same(name, seen, { size: 0, uuid: '', mode: 'raw', holder: '', driver: null });
        continue;
      }
      same(name, seen, {
        size: ns.size,
        uuid: ns.uuid,
        mode: ns.claim === null ? 'raw' : ns.mode === 'fsdax' ? 'memory' : 'dax',
        holder: ns.claim ?? '',
        driver: ns.enabled && ns.claim === null ? 'nd_pmem' : null,
      });
      same(`${name} DPA offset`, (Number(attr(name, 'resource')) - base) / r.ways, ns.offset);
    }
    same(
      `${r.name} namespaces`,
      mine.filter((x) => !live.includes(x.name)).map((x) => x.name),
      [],
    );
    const idleClaims = [attr('', 'pfn_seed'), attr('', 'dax_seed')];
    const claims = children.filter((d) => /^(pfn|dax)\d+\.\d+$/.test(d));
    for (const c of claims) {
      const ns = mine.find((x) => x.claim === c);
      const seen = { namespace: attr(c, 'namespace'), driver: driver(c) };
      if (ns === undefined) {
        same(`${c} is an idle seed`, idleClaims.includes(c), true);
        same(c, seen, { namespace: '', driver: null });
        continue;
      }
      same(c, seen, { namespace: ns.name, driver: ns.enabled ? this.#active(ns)[1] : null });
      if (ns.enabled) same(`${c}/align`, Number(attr(c, 'align')), ns.align);
    }
    same(
      `${r.name} claims`,
      mine.filter((x) => x.claim !== null && !claims.includes(x.claim)).map((x) => x.name),
      [],
    );
  }
}

/** The signal a failed user fault delivers: SIGBUS, BUS_ADRERR, at the faulting address. */
function expectSigbus(e: unknown, addr: number): void {
  expect(e).toMatchObject({ code: 'SIGBUS', signal: 'SIGBUS', signo: SIGBUS, si_code: BUS_ADRERR, addr });
}
