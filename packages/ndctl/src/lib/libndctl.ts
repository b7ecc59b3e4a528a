/**
 * libndctl's read side (ndctl/lib/libndctl.c) and the part of libdaxctl (daxctl/lib/libdaxctl.c) it leans on:
 * buses, DIMMs, regions, namespaces, pfn/dax claim devices and device-dax regions, found by walking sysfs
 * directories and read attribute by attribute as the libraries do.
 *
 * Order: the libraries find devices with readdir() and list_add() each one at the head of its parent's list, so
 * every list comes out in reverse directory order (ndbus1 before ndbus0, mapping3 before mapping0). Attributes
 * the libraries read once when they add a device are read once here, in the constructor; those they read on
 * each call (available_size, driver links, holder, badblocks...) are read on each call.
 */
import type { Kernel } from '@daxsim/kernel';

/** The character `uuid_unparse()` prints for an all-zero (absent) uuid. */
export const NULL_UUID = '00000000-0000-0000-0000-000000000000';

/** enum ndctl_namespace_mode, spelled as util_nsmode_name() prints it. */
export type NdNamespaceMode = 'fsdax' | 'devdax' | 'raw' | 'sector' | 'unknown';

/** enum ndctl_pfn_loc, spelled as util_namespace_to_json() prints it ("map"). */
export type NdPfnLoc = 'none' | 'mem' | 'dev';

/** enum ndctl_persistence_domain, as ndctl list prints it. */
export type NdPersistenceDomain = 'cpu_cache' | 'memory_controller' | 'none' | 'unknown';

/** ND_DEVICE_NAMESPACE_IO / _PMEM / _BLK (the nstype attribute). */
export const ND_DEVICE_NAMESPACE_IO = 4;
export const ND_DEVICE_NAMESPACE_PMEM = 5;
export const ND_DEVICE_NAMESPACE_BLK = 6;

/** struct badblock: a run of bad 512-byte sectors, as a badblocks attribute lists them. */
export interface Badblock {
  offset: number;
  len: number;
}

/** sysfs_read_attr(): the attribute without its trailing newline, or null when absent or its read fails. */
export function sysfsReadAttr(k: Kernel, path: string): string | null {
  try {
    return k.sysfs.read(path).replace(/\n$/, '');
  } catch {
    return null;
  }
}

/**
 * How ndctl_namespace_get_mode() reads a namespace's mode attribute: "memory" is fsdax, "dax" devdax, "raw" raw,
 * "safe" sector; null for an unreadable (null) or unknown mode (libndctl's -ENXIO).
 */
export function namespaceModeOf(mode: string | null): Exclude<NdNamespaceMode, 'unknown'> | null {
  switch (mode) {
    case 'memory':
      return 'fsdax';
    case 'dax':
      return 'devdax';
    case 'raw':
      return 'raw';
    case 'safe':
      return 'sector';
    default:
      return null;
  }
}

/** strtoull(buf, NULL, 0): decimal, 0x hex or 0 octal prefix; NaN where no digits parse. */
export function strtoull(s: string): number {
  const m = /^\s*[+]?(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/.exec(s);
  if (m === null) return Number.NaN;
  const d = m[1]!;
  if (/^0[xX]/.test(d)) return Number.parseInt(d.slice(2), 16);
  if (d.length > 1 && d[0] === '0') return Number.parseInt(d, 8);
  return Number.parseInt(d, 10);
}

function strtoullBig(s: string): bigint | null {
  const m = /^\s*(0[xX][0-9a-fA-F]+|[0-9]+)/.exec(s);
  return m === null ? null : BigInt(m[1]!);
}

/** Reads a number attribute; null when absent, unreadable or not a number. */
function numAttr(k: Kernel, path: string): number | null {
  const v = sysfsReadAttr(k, path);
  if (v === null) return null;
  const n = strtoull(v);
  return Number.isNaN(n) ? null : n;
}

/** The lowercased uuid an attribute holds, or NULL_UUID where it is empty or absent (uuid_parse into zeros). */
function uuidAttr(k: Kernel, path: string): string {
  const v = sysfsReadAttr(k, path);
  return v === null || v === '' ? NULL_UUID : v.toLowerCase();
}

/** The entries of `dir` named `<prefix><number>`, in the order libndctl's lists end up: reverse readdir. */
function deviceParse(k: Kernel, dir: string, prefix: string): { name: string; id: number }[] {
  let names: string[];
  try {
    names = k.sysfs.readdir(dir);
  } catch {
    return [];
  }
  const out: { name: string; id: number }[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const m = /^[+-]?\d+/.exec(name.slice(prefix.length));
    if (m === null) continue;
    out.unshift({ name, id: Number(m[0]) });
  }
  return out;
}

/** is_enabled(): whether `dev`/driver is a symlink. */
function isEnabled(k: Kernel, devPath: string): boolean {
  return k.sysfs.typeOf(`${devPath}/driver`) === 'link';
}

/** get_block_device(): the one entry of `<dev>/block`, or null (none, or more than one). */
function getBlockDevice(k: Kernel, devPath: string): string | null {
  let names: string[];
  try {
    names = k.sysfs.readdir(`${devPath}/block`);
  } catch {
    return null;
  }
  const entries = names.filter((n) => !n.startsWith('.'));
  return entries.length === 1 ? entries[0]! : null;
}

/** badblocks_iter: "<offset> <len>" lines of `<dir>/badblocks` until one does not parse; [] when unreadable. */
export function readBadblocks(k: Kernel, dir: string): Badblock[] {
  let text: string;
  try {
    text = k.sysfs.read(`${dir}/badblocks`);
  } catch {
    return [];
  }
  const out: Badblock[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(\d+)\s+(\d+)/.exec(line);
    if (m === null) break;
    out.push({ offset: Number(m[1]), len: Number(m[2]) });
  }
  return out;
}

/** The libndctl context: the buses found in sysfs, enumerated once (ndctl_new() + busses_init()). */
export class NdctlCtx {
  readonly kernel: Kernel;
  #buses: NdBus[] | null = null;

  constructor(k: Kernel) {
    this.kernel = k;
  }

  /**
   * ndctl_bus_foreach(): device_parse() of /sys/class/nd for ndctlN control devices; a kernel without that
   * class (no ioctl surface yet) is walked through /sys/bus/nd/devices/ndbusN instead, which names the same buses.
   */
  buses(): NdBus[] {
    if (this.#buses !== null) return this.#buses;
    const k = this.kernel;
    const found: NdBus[] = [];
    const ctl = deviceParse(k, '/sys/class/nd', 'ndctl');
    const entries =
      ctl.length > 0
        ? ctl.map(({ name, id }) => ({ id, path: k.sysfs.realpath(`/sys/class/nd/${name}/device`) }))
        : deviceParse(k, '/sys/bus/nd/devices', 'ndbus').map(({ name, id }) => ({
            id,
            path: k.sysfs.realpath(`/sys/bus/nd/devices/${name}`),
          }));
    for (const { id, path } of entries) {
      const bus = NdBus.add(this, id, path);
      if (bus !== null && !found.some((b) => b.provider === bus.provider && b.devname === bus.devname))
        found.push(bus);
    }
    this.#buses = found;
    return found;
  }
}

/** struct ndctl_bus. */
export class NdBus {
  readonly ctx: NdctlCtx;
  readonly id: number;
  /** The bus device's sysfs path (/sys/devices/.../ndbusN). */
  readonly path: string;
  readonly provider: string;
  readonly hasNfit: boolean;
  #dimms: NdDimm[] | null = null;
  #regions: NdRegion[] | null = null;

  private constructor(ctx: NdctlCtx, id: number, path: string, provider: string, hasNfit: boolean) {
    this.ctx = ctx;
    this.id = id;
    this.path = path;
    this.provider = provider;
    this.hasNfit = hasNfit;
  }

  /** add_bus(): null where the provider cannot be read. */
  static add(ctx: NdctlCtx, id: number, path: string): NdBus | null {
    const k = ctx.kernel;
    const provider = sysfsReadAttr(k, `${path}/provider`);
    if (provider === null) return null;
    return new NdBus(ctx, id, path, provider, sysfsReadAttr(k, `${path}/nfit/revision`) !== null);
  }

  get kernel(): Kernel {
    return this.ctx.kernel;
  }

  /** ndctl_bus_get_devname(): "ndbusN". */
  get devname(): string {
    return this.path.split('/').pop()!;
  }

  /** ndctl_bus_get_scrub_state(): 1 while a scrub runs, 0 when idle, null without nfit/scrub or a count. */
  scrubState(): 0 | 1 | null {
    if (!this.hasNfit) return null;
    const v = sysfsReadAttr(this.kernel, `${this.path}/nfit/scrub`);
    if (v === null) return null;
    const m = /^\s*\d+(.?)/.exec(v);
    if (m === null) return null;
    if (m[1] === '') return 0;
    return m[1] === '+' ? 1 : null;
  }

  /** ndctl_dimm_foreach(). */
  dimms(): NdDimm[] {
    this.#dimms ??= deviceParse(this.kernel, this.path, 'nmem').flatMap(({ name, id }) => {
      const d = NdDimm.add(this, id, `${this.path}/${name}`);
      return d === null ? [] : [d];
    });
    return this.#dimms;
  }

  /** ndctl_region_foreach(). */
  regions(): NdRegion[] {
    this.#regions ??= deviceParse(this.kernel, this.path, 'region').flatMap(({ name, id }) => {
      const r = NdRegion.add(this, id, `${this.path}/${name}`);
      return r === null ? [] : [r];
    });
    return this.#regions;
  }

  /** ndctl_dimm_get_by_id(). */
  dimmById(id: number): NdDimm | null {
    return this.dimms().find((d) => d.id === id) ?? null;
  }

  /** ndctl_bus_get_region_by_physical_address(). */
  regionByPhysicalAddress(address: number): NdRegion | null {
    for (const r of this.regions()) {
      const start = r.resource();
      if (start === null) continue;
      if (start <= address && address < start + r.size) return r;
    }
    return null;
  }

  /**
   * ndctl_bus_get_dimm_by_physical_address(): the DIMM of a one-way region; an interleaved region needs the
   * NFIT Translate SPA DSM, which a bus without an nfit/dsm_mask advertising it does not offer (null).
   */
  dimmByPhysicalAddress(address: number): NdDimm | null {
    const region = this.regionByPhysicalAddress(address);
    if (region === null) return null;
    if (region.interleaveWays === 1) return region.mappings()[0]?.dimm ?? null;
    return null;
  }
}

/** struct ndctl_dimm: an nmemN. */
export class NdDimm {
  readonly bus: NdBus;
  readonly id: number;
  readonly path: string;
  /** nfit/id, or null on a kernel without it. */
  readonly uniqueId: string | null;
  /** nfit/handle, or null where the nfit attributes could not be read. */
  readonly handle: number | null;
  readonly physId: number | null;
  /** The NFIT memory-device state flags parse_nfit_mem_flags() recognises. */
  readonly flags: {
    map: boolean;
    save: boolean;
    arm: boolean;
    restore: boolean;
    flush: boolean;
    smart: boolean;
  };

  private constructor(bus: NdBus, id: number, path: string) {
    const k = bus.kernel;
    this.bus = bus;
    this.id = id;
    this.path = path;
    this.flags = { map: false, save: false, arm: false, restore: false, flush: false, smart: false };
    if (!bus.hasNfit) {
      this.uniqueId = this.handle = this.physId = null;
      return;
    }
    this.uniqueId = sysfsReadAttr(k, `${path}/nfit/id`);
    const handle = numAttr(k, `${path}/nfit/handle`);
    const physId = handle === null ? null : numAttr(k, `${path}/nfit/phys_id`);
    this.handle = physId === null ? null : handle;
    this.physId = physId;
    if (physId === null) return;
    const flags = sysfsReadAttr(k, `${path}/nfit/flags`) ?? '';
    // Only words followed by a space count, as in parse_nfit_mem_flags().
    const words = flags.split(' ').slice(0, -1);
    const has = (w: string) => words.includes(w);
    this.flags = {
      map: has('map_fail'),
      save: has('save_fail'),
      arm: has('not_armed'),
      restore: has('restore_fail'),
      flush: has('flush_fail'),
      smart: has('smart_event'),
    };
  }

  /** add_dimm(). */
  static add(bus: NdBus, id: number, path: string): NdDimm | null {
    if (sysfsReadAttr(bus.kernel, `${path}/commands`) === null) return null;
    return new NdDimm(bus, id, path);
  }

  /** ndctl_dimm_get_devname(). */
  get devname(): string {
    return this.path.split('/').pop()!;
  }

  /** ndctl_dimm_is_enabled(). */
  isEnabled(): boolean {
    return isEnabled(this.bus.kernel, this.path);
  }

  /** ndctl_dimm_get_security(): the security attribute's state, or null where the kernel has none. */
  security(): string | null {
    const v = sysfsReadAttr(this.bus.kernel, `${this.path}/security`);
    return v !== null && ['disabled', 'unlocked', 'locked', 'frozen', 'overwrite'].includes(v) ? v : null;
  }

  /** ndctl_dimm_security_is_frozen(). */
  securityIsFrozen(): boolean {
    if (this.security() === 'frozen') return true;
    const v = numAttr(this.bus.kernel, `${this.path}/frozen`);
    return v !== null && v !== 0;
  }
}

/** struct ndctl_mapping: one mappingN of a region. */
export interface NdMapping {
  readonly region: NdRegion;
  readonly dimm: NdDimm;
  readonly offset: number;
  readonly length: number;
  /** -1 where the kernel's mapping attribute has no position. */
  readonly position: number;
}

/** struct ndctl_region: a regionN. */
export class NdRegion {
  readonly bus: NdBus;
  readonly id: number;
  readonly path: string;
  readonly size: number;
  readonly numMappings: number;
  readonly readOnly: boolean;
  readonly nstype: number;
  /** The interleave-set cookie (set_cookie) of a pmem region, or null (iset absent). */
  readonly cookie: bigint | null;
  /** numa_node, or null where the attribute is absent. */
  readonly numaNode: number | null;
  readonly targetNode: number | null;
  /** align, or null where the kernel has no region align. */
  readonly align: number | null;
  readonly persistenceDomain: NdPersistenceDomain;
  #mappings: NdMapping[] | null = null;
  #namespaces: NdNamespace[] | null = null;
  #pfns: NdPfn[] | null = null;
  #daxs: NdDax[] | null = null;
  #btts: NdBtt[] | null = null;

  private constructor(bus: NdBus, id: number, path: string, f: RegionFields) {
    this.bus = bus;
    this.id = id;
    this.path = path;
    this.size = f.size;
    this.numMappings = f.numMappings;
    this.readOnly = f.readOnly;
    this.nstype = f.nstype;
    this.cookie = f.cookie;
    this.numaNode = f.numaNode;
    this.targetNode = f.targetNode;
    this.align = f.align;
    this.persistenceDomain = f.persistenceDomain;
  }

  /** add_region(): null where size, mappings, read_only, nstype (or a pmem region's set_cookie) is unreadable. */
  static add(bus: NdBus, id: number, path: string): NdRegion | null {
    const k = bus.kernel;
    const size = numAttr(k, `${path}/size`);
    const numMappings = numAttr(k, `${path}/mappings`);
    const ro = numAttr(k, `${path}/read_only`);
    const nstype = numAttr(k, `${path}/nstype`);
    if (size === null || numMappings === null || ro === null || nstype === null) return null;
    let cookie: bigint | null = null;
    if (nstype === ND_DEVICE_NAMESPACE_PMEM) {
      const c = sysfsReadAttr(k, `${path}/set_cookie`);
      if (c === null) return null;
      cookie = strtoullBig(c) ?? 0n;
    }
    const pd = sysfsReadAttr(k, `${path}/persistence_domain`);
    return new NdRegion(bus, id, path, {
      size,
      numMappings,
      readOnly: ro !== 0,
      nstype,
      cookie,
      numaNode: numAttr(k, `${path}/numa_node`),
      targetNode: numAttr(k, `${path}/target_node`),
      align: numAttr(k, `${path}/align`),
      persistenceDomain:
        pd === null
          ? 'unknown'
          : pd.startsWith('cpu_cache')
            ? 'cpu_cache'
            : pd.startsWith('memory_controller')
              ? 'memory_controller'
              : pd.startsWith('none')
                ? 'none'
                : 'unknown',
    });
  }

  get kernel(): Kernel {
    return this.bus.kernel;
  }

  /** ndctl_region_get_devname(). */
  get devname(): string {
    return this.path.split('/').pop()!;
  }

  /** ndctl_region_get_type(): io and pmem namespaces make a pmem region. */
  get type(): 'pmem' | 'blk' {
    return this.nstype === ND_DEVICE_NAMESPACE_IO || this.nstype === ND_DEVICE_NAMESPACE_PMEM
      ? 'pmem'
      : 'blk';
  }

  /** ndctl_region_get_interleave_ways(). */
  get interleaveWays(): number {
    return Math.max(1, this.numMappings);
  }

  /** ndctl_region_get_available_size(): 0 for an io region, null where the read fails. */
  availableSize(): number | null {
    if (this.nstype !== ND_DEVICE_NAMESPACE_PMEM && this.nstype !== ND_DEVICE_NAMESPACE_BLK) return 0;
    return numAttr(this.kernel, `${this.path}/available_size`);
  }

  /** ndctl_region_get_max_available_extent(): 0 for an io region, null where the kernel lacks it. */
  maxAvailableExtent(): number | null {
    if (this.nstype !== ND_DEVICE_NAMESPACE_PMEM && this.nstype !== ND_DEVICE_NAMESPACE_BLK) return 0;
    return numAttr(this.kernel, `${this.path}/max_available_extent`);
  }

  /** ndctl_region_get_resource(): the region's physical start, or null. */
  resource(): number | null {
    return numAttr(this.kernel, `${this.path}/resource`);
  }

  /** ndctl_region_is_enabled(). */
  isEnabled(): boolean {
    return isEnabled(this.kernel, this.path);
  }

  /** ndctl_region_badblock_foreach(): the region's badblocks attribute. */
  badblocks(): Badblock[] {
    return readBadblocks(this.kernel, this.path);
  }

  /** ndctl_mapping_foreach(): mapping0..N-1 parsed as "nmemD,offset,length[,position]" (listed in reverse). */
  mappings(): NdMapping[] {
    if (this.#mappings !== null) return this.#mappings;
    const out: NdMapping[] = [];
    for (let i = 0; i < this.numMappings; i++) {
      const v = sysfsReadAttr(this.kernel, `${this.path}/mapping${i}`);
      const m = v === null ? null : /^nmem(\d+),(\d+),(\d+)(?:,(-?\d+))?/.exec(v);
      if (m === null) continue;
      const dimm = this.bus.dimmById(Number(m[1]));
      if (dimm === null) continue;
      out.unshift({
        region: this,
        dimm,
        offset: Number(m[2]),
        length: Number(m[3]),
        position: m[4] === undefined ? -1 : Number(m[4]),
      });
    }
    this.#mappings = out;
    return out;
  }

  /** ndctl_dimm_foreach_in_region(): the bus's DIMMs (in bus order) that back a mapping of this region. */
  dimms(): NdDimm[] {
    const maps = this.mappings();
    return this.bus.dimms().filter((d) => maps.some((m) => m.dimm === d));
  }

  /** ndctl_namespace_foreach(). */
  namespaces(): NdNamespace[] {
    this.#namespaces ??= deviceParse(this.kernel, this.path, `namespace${this.id}.`).flatMap(
      ({ name, id }) => {
        const ns = NdNamespace.add(this, id, `${this.path}/${name}`);
        return ns === null ? [] : [ns];
      },
    );
    return this.#namespaces;
  }

  /** ndctl_btt_foreach(). */
  btts(): NdBtt[] {
    this.#btts ??= deviceParse(this.kernel, this.path, `btt${this.id}.`).flatMap(({ name, id }) => {
      const b = NdBtt.add(this, id, `${this.path}/${name}`);
      return b === null ? [] : [b];
    });
    return this.#btts;
  }

  /** ndctl_pfn_foreach(). */
  pfns(): NdPfn[] {
    this.#pfns ??= deviceParse(this.kernel, this.path, `pfn${this.id}.`).flatMap(({ name, id }) => {
      const f = readPfnFields(this.kernel, `${this.path}/${name}`);
      return f === null ? [] : [new NdPfn(this, id, `${this.path}/${name}`, f)];
    });
    return this.#pfns;
  }

  /** ndctl_dax_foreach(). */
  daxs(): NdDax[] {
    this.#daxs ??= deviceParse(this.kernel, this.path, `dax${this.id}.`).flatMap(({ name, id }) => {
      const f = readPfnFields(this.kernel, `${this.path}/${name}`);
      return f === null ? [] : [new NdDax(this, id, `${this.path}/${name}`, f)];
    });
    return this.#daxs;
  }

  #seed<T extends { devname: string }>(attr: string, list: T[]): T | null {
    const v = sysfsReadAttr(this.kernel, `${this.path}/${attr}`);
    return v === null ? null : (list.find((d) => d.devname === v) ?? null);
  }

  /** ndctl_region_get_namespace_seed(). */
  namespaceSeed(): NdNamespace | null {
    return this.#seed('namespace_seed', this.namespaces());
  }

  /** ndctl_region_get_pfn_seed(). */
  pfnSeed(): NdPfn | null {
    return this.#seed('pfn_seed', this.pfns());
  }

  /** ndctl_region_get_dax_seed(). */
  daxSeed(): NdDax | null {
    return this.#seed('dax_seed', this.daxs());
  }

  /** ndctl_region_get_btt_seed(). */
  bttSeed(): NdBtt | null {
    return this.#seed('btt_seed', this.btts());
  }
}

interface RegionFields {
  size: number;
  numMappings: number;
  readOnly: boolean;
  nstype: number;
  cookie: bigint | null;
  numaNode: number | null;
  targetNode: number | null;
  align: number | null;
  persistenceDomain: NdPersistenceDomain;
}

/** struct ndctl_namespace: a namespaceR.N. */
export class NdNamespace {
  readonly region: NdRegion;
  readonly id: number;
  readonly path: string;
  /** The nstype attribute (ND_DEVICE_NAMESPACE_*). */
  readonly nstype: number;
  readonly size: number;
  readonly resource: number | null;
  readonly rawMode: boolean;
  readonly numaNode: number | null;
  readonly targetNode: number | null;
  /** The selected sector_size of a pmem/blk namespace, or null (attribute absent or nothing selected). */
  readonly sectorSize: number | null;
  /** alt_name of a pmem/blk namespace; null for an io namespace. */
  readonly altName: string | null;
  /** uuid of a pmem/blk namespace (NULL_UUID when unset); null for an io namespace. */
  readonly uuid: string | null;

  private constructor(region: NdRegion, id: number, path: string, f: NamespaceFields) {
    this.region = region;
    this.id = id;
    this.path = path;
    this.nstype = f.nstype;
    this.size = f.size;
    this.resource = f.resource;
    this.rawMode = f.rawMode;
    this.numaNode = f.numaNode;
    this.targetNode = f.targetNode;
    this.sectorSize = f.sectorSize;
    this.altName = f.altName;
    this.uuid = f.uuid;
  }

  /** add_namespace(): null where nstype, size or force_raw (or a pmem/blk namespace's alt_name/uuid) fails. */
  static add(region: NdRegion, id: number, path: string): NdNamespace | null {
    const k = region.kernel;
    const nstype = numAttr(k, `${path}/nstype`);
    const size = numAttr(k, `${path}/size`);
    const raw = numAttr(k, `${path}/force_raw`);
    if (nstype === null || size === null || raw === null) return null;
    let sectorSize: number | null = null;
    let altName: string | null = null;
    let uuid: string | null = null;
    if (nstype === ND_DEVICE_NAMESPACE_PMEM || nstype === ND_DEVICE_NAMESPACE_BLK) {
      const ss = sysfsReadAttr(k, `${path}/sector_size`);
      if (ss === null && nstype === ND_DEVICE_NAMESPACE_BLK) return null;
      sectorSize = ss === null ? null : selectedLbasize(ss);
      altName = sysfsReadAttr(k, `${path}/alt_name`);
      if (altName === null || sysfsReadAttr(k, `${path}/uuid`) === null) return null;
      uuid = uuidAttr(k, `${path}/uuid`);
    }
    return new NdNamespace(region, id, path, {
      nstype,
      size,
      resource: numAttr(k, `${path}/resource`),
      rawMode: raw !== 0,
      numaNode: numAttr(k, `${path}/numa_node`),
      targetNode: numAttr(k, `${path}/target_node`),
      sectorSize,
      altName,
      uuid,
    });
  }

  get kernel(): Kernel {
    return this.region.kernel;
  }

  /** ndctl_namespace_get_devname(). */
  get devname(): string {
    return this.path.split('/').pop()!;
  }

  /** The holder attribute: the claim device's name, or "" when unclaimed (null when unreadable). */
  #holder(): string | null {
    return sysfsReadAttr(this.kernel, `${this.path}/holder`);
  }

  /** ndctl_namespace_get_btt(). */
  btt(): NdBtt | null {
    const h = this.#holder();
    return h === null ? null : (this.region.btts().find((b) => b.devname === h) ?? null);
  }

  /** ndctl_namespace_get_pfn(). */
  pfn(): NdPfn | null {
    const h = this.#holder();
    return h === null ? null : (this.region.pfns().find((p) => p.devname === h) ?? null);
  }

  /** ndctl_namespace_get_dax(). */
  dax(): NdDax | null {
    const h = this.#holder();
    return h === null ? null : (this.region.daxs().find((d) => d.devname === h) ?? null);
  }

  /**
   * ndctl_namespace_get_mode(): the mode attribute ("memory" -> fsdax, "dax" -> devdax, "raw", "safe" ->
   * sector); null where it is unreadable or unknown (libndctl's -ENXIO).
   */
  mode(): Exclude<NdNamespaceMode, 'unknown'> | null {
    return namespaceModeOf(sysfsReadAttr(this.kernel, `${this.path}/mode`));
  }

  /** ndctl_namespace_is_enabled(): a driver is bound to the namespace itself. */
  isEnabled(): boolean {
    return isEnabled(this.kernel, this.path);
  }

  /** ndctl_namespace_is_active(): its claim device is enabled, or it is unclaimed and enabled. */
  isActive(): boolean {
    const btt = this.btt();
    const pfn = this.pfn();
    const dax = this.dax();
    if (btt?.isEnabled() || pfn?.isEnabled() || dax?.isEnabled()) return true;
    return btt === null && pfn === null && dax === null && this.isEnabled();
  }

  /** ndctl_namespace_get_block_device(): the disk of the namespace itself, or "" when none. */
  blockDevice(): string {
    return getBlockDevice(this.kernel, this.path) ?? '';
  }

  /**
   * ndctl_namespace_badblock_foreach(): /sys/block/<disk>/badblocks of the namespace's disk (the pfn's disk
   * when in fsdax mode); none for a btt or device-dax namespace, or without a disk.
   */
  badblocks(): Badblock[] {
    if (this.btt() !== null || this.dax() !== null) return [];
    const pfn = this.pfn();
    const bdev = pfn !== null ? pfn.blockDevice() : this.blockDevice();
    return readBadblocks(this.kernel, `/sys/block/${bdev}`);
  }
}

interface NamespaceFields {
  nstype: number;
  size: number;
  resource: number | null;
  rawMode: boolean;
  numaNode: number | null;
  targetNode: number | null;
  sectorSize: number | null;
  altName: string | null;
  uuid: string | null;
}

/** parse_lbasize_supported() + the selected entry: "512 [4096] " -> 4096; null when nothing is selected. */
function selectedLbasize(text: string): number | null {
  const fields = text.split(' ');
  fields.pop();
  for (const f of fields) {
    const m = /^\[(\d+)\]/.exec(f);
    if (m !== null) return Number(m[1]);
    if (!/^\d+/.test(f)) break;
  }
  return null;
}

interface PfnFields {
  uuid: string;
  loc: NdPfnLoc;
  align: number;
  resource: number | null;
  size: number | null;
}

/** __add_pfn(): the attributes a pfn or dax claim device is added with; null where uuid or mode fails. */
function readPfnFields(k: Kernel, path: string): PfnFields | null {
  if (sysfsReadAttr(k, `${path}/uuid`) === null) return null;
  const mode = sysfsReadAttr(k, `${path}/mode`);
  const loc = mode === 'none' ? 'none' : mode === 'ram' ? 'mem' : mode === 'pmem' ? 'dev' : null;
  if (loc === null) return null;
  return {
    uuid: uuidAttr(k, `${path}/uuid`),
    loc,
    align: numAttr(k, `${path}/align`) ?? 0,
    resource: numAttr(k, `${path}/resource`),
    size: numAttr(k, `${path}/size`),
  };
}

/** struct ndctl_pfn: a pfnR.N claim device (fsdax). */
export class NdPfn {
  readonly region: NdRegion;
  readonly id: number;
  readonly path: string;
  readonly uuid: string;
  readonly loc: NdPfnLoc;
  /** align, or 0 where the kernel has none. */
  readonly align: number;
  /** resource and size: null while the device is disabled (their reads fail). */
  readonly resource: number | null;
  readonly size: number | null;

  constructor(region: NdRegion, id: number, path: string, f: PfnFields) {
    this.region = region;
    this.id = id;
    this.path = path;
    this.uuid = f.uuid;
    this.loc = f.loc;
    this.align = f.align;
    this.resource = f.resource;
    this.size = f.size;
  }

  get kernel(): Kernel {
    return this.region.kernel;
  }

  /** ndctl_pfn_get_devname(). */
  get devname(): string {
    return this.path.split('/').pop()!;
  }

  /** ndctl_pfn_is_enabled(). */
  isEnabled(): boolean {
    return isEnabled(this.kernel, this.path);
  }

  /** ndctl_pfn_get_block_device(): "" when none. */
  blockDevice(): string {
    return getBlockDevice(this.kernel, this.path) ?? '';
  }

  /** ndctl_pfn_get_namespace(): the namespace named by the namespace attribute, or null. */
  namespace(): NdNamespace | null {
    const v = sysfsReadAttr(this.kernel, `${this.path}/namespace`);
    return v === null ? null : (this.region.namespaces().find((n) => n.devname === v) ?? null);
  }
}

/** struct ndctl_dax: a daxR.N claim device (devdax), a pfn device underneath. */
export class NdDax extends NdPfn {
  /**
   * ndctl_dax_get_daxctl_region() (daxctl_new_region() over the claim device's path): the dax_region group's
   * id, size and align (null while the claim is disabled and the group absent) and the devices below it.
   */
  daxRegion(): NdDaxRegion {
    return daxRegionAt(this.kernel, this.region.id, this.path);
  }
}

/** struct ndctl_btt: a bttR.N claim device (sector mode); this kernel's stack has none, read for completeness. */
export class NdBtt {
  readonly region: NdRegion;
  readonly id: number;
  readonly path: string;
  readonly uuid: string;
  readonly sectorSize: number | null;
  readonly size: number | null;

  private constructor(region: NdRegion, id: number, path: string) {
    const k = region.kernel;
    this.region = region;
    this.id = id;
    this.path = path;
    this.uuid = uuidAttr(k, `${path}/uuid`);
    const ss = sysfsReadAttr(k, `${path}/sector_size`);
    this.sectorSize = ss === null ? null : selectedLbasize(ss);
    this.size = numAttr(k, `${path}/size`);
  }

  /** add_btt(). */
  static add(region: NdRegion, id: number, path: string): NdBtt | null {
    if (sysfsReadAttr(region.kernel, `${path}/uuid`) === null) return null;
    return new NdBtt(region, id, path);
  }

  /** ndctl_btt_get_devname(). */
  get devname(): string {
    return this.path.split('/').pop()!;
  }

  /** ndctl_btt_is_enabled(). */
  isEnabled(): boolean {
    return isEnabled(this.region.kernel, this.path);
  }

  /** ndctl_btt_get_block_device(). */
  blockDevice(): string {
    return getBlockDevice(this.region.kernel, this.path) ?? '';
  }
}

/** struct daxctl_dev as the JSON builders read it: a daxR.N character device. */
export interface DaxDev {
  /** "daxR.N". */
  readonly name: string;
  readonly id: number;
  readonly regionId: number;
  readonly size: number;
  /** The device's align, or null (0 and absent are not printed). */
  readonly align: number | null;
  /** target_node, or null where the kernel has none. */
  readonly targetNode: number | null;
  readonly enabled: boolean;
  /** "system-ram" when bound to kmem (dax bus kernels only); "devdax" when absent. */
  readonly mode?: 'devdax' | 'system-ram';
}

/** struct daxctl_region as the JSON builders read it. */
export interface DaxRegion {
  readonly id: number;
  readonly size: number;
  readonly align: number;
  /** dax_region/available_size, or null where the kernel has none. */
  readonly availableSize: number | null;
  /** The sysfs path of the device carrying the dax_region group. */
  readonly path: string;
  readonly devices: readonly DaxDev[];
}

/** A DaxRegion whose dax_region group may be absent (a disabled claim device): size and align null. */
export interface NdDaxRegion extends Omit<DaxRegion, 'size' | 'align'> {
  readonly size: number | null;
  readonly align: number | null;
}

/**
 * add_dax_region() + dax_devices_init() at sysfs path `path`: the dax_region attributes and the dax<id>.N
 * devices found in `<path>/dax` (the class layout) and then in `<path>` itself (the dax-bus layout), listed in
 * libdaxctl's order (reverse of discovery). A device is added only with readable dev and size attributes.
 */
export function daxRegionAt(k: Kernel, id: number, path: string): NdDaxRegion {
  const devices: DaxDev[] = [];
  for (const dir of [`${path}/dax`, path]) {
    for (const { name, id: devId } of deviceParse(k, dir, `dax${id}.`).reverse()) {
      const base = `${dir}/${name}`;
      const size = numAttr(k, `${base}/size`);
      if (sysfsReadAttr(k, `${base}/dev`) === null || size === null) continue;
      if (devices.some((d) => d.id === devId)) continue;
      const isBus =
        k.sysfs.typeOf(`${base}/subsystem`) === 'link' &&
        k.sysfs.realpath(`${base}/subsystem`) === '/sys/bus/dax';
      const enabled = !isBus || isEnabled(k, base);
      const ram = isBus && enabled && k.sysfs.realpath(`${base}/driver`).split('/').pop() === 'kmem';
      devices.unshift({
        name,
        id: devId,
        regionId: id,
        size,
        align: numAttr(k, `${base}/align`),
        targetNode: numAttr(k, `${base}/target_node`),
        enabled,
        mode: ram ? 'system-ram' : 'devdax',
      });
    }
  }
  return {
    id,
    size: numAttr(k, `${path}/dax_region/size`),
    align: numAttr(k, `${path}/dax_region/align`),
    availableSize: numAttr(k, `${path}/dax_region/available_size`),
    path,
    devices,
  };
}

/** Finds the namespace named `devname` ("namespace1.0") anywhere on the platform, or null. */
export function findNamespace(ctx: NdctlCtx, devname: string): NdNamespace | null {
  for (const bus of ctx.buses())
    for (const region of bus.regions()) {
      const ns = region.namespaces().find((n) => n.devname === devname);
      if (ns !== undefined) return ns;
    }
  return null;
}

/** Finds the region named `devname` ("region1") anywhere on the platform, or null. */
export function findRegion(ctx: NdctlCtx, devname: string): NdRegion | null {
  for (const bus of ctx.buses()) {
    const r = bus.regions().find((x) => x.devname === devname);
    if (r !== undefined) return r;
  }
  return null;
}
