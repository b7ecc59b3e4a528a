/**
 * ndctl/list.c (`ndctl list`) with the walk of ndctl/filter.c it is built on (util_filter_walk(); the
 * util_*_filter() matchers are in filter.ts).
 *
 * Which objects are listed: -B buses, -D dimms, -R regions, -N namespaces; with none of them, a -b/-r/-d filter
 * lists its own kind, and otherwise namespaces are listed. Buses hold their "dimms" and "regions" (or
 * "namespaces" without -R), regions hold "mappings" (with -D) and "namespaces". Disabled dimms, regions and
 * namespaces are left out unless -i (or -c, for a namespace with a size); claim-device seeds are never listed.
 * The output is the buses array, else an object holding the dimms/regions/namespaces arrays when more than one
 * of them was started, else the one array; with -u a one-element array prints as its element. Nothing matched
 * prints nothing and exits 0.
 *
 * Not modelled: -H (health, a SMART command) and -F (firmware info, firmware DSMs) add nothing.
 */
import type { ToolCommand, ToolContext } from '../context.js';
import {
  type NdBus,
  NdctlCtx,
  type NdDimm,
  type NdNamespace,
  type NdRegion,
  sysfsReadAttr,
} from '../lib/libndctl.js';
import { waitProbe } from '../lib/sysfs.js';
import {
  busToJson,
  dimmToJson,
  displayJsonArray,
  type JsonFlags,
  type JsonObject,
  type JsonValue,
  mappingToJson,
  namespaceToJson,
  printJson,
  regionToJson,
} from '../util/json.js';
import { type OptionSpec, parseOrUsage, USAGE_EXIT, usageText } from '../util/parse_options.js';
import {
  utilBusFilter,
  utilBusFilterByDimm,
  utilBusFilterByNamespace,
  utilBusFilterByRegion,
  utilDimmFilter,
  utilDimmFilterByNamespace,
  utilDimmFilterByNumaNode,
  utilDimmFilterByRegion,
  utilNamespaceFilter,
  utilNsmode,
  utilRegionFilter,
  utilRegionFilterByDimm,
  utilRegionFilterByNamespace,
} from './filter.js';
import { optString } from './options.js';

const USAGE = 'ndctl list [<options>]';

/** The ndctl release whose messages this follows (fail()'s "ndctl-<VERSION>:" prefix). */
const VERSION = '78';

const OPTIONS: readonly OptionSpec[] = [
  { name: 'bus', short: 'b', long: 'bus', kind: 'string', arg: 'bus-id', help: 'filter by bus' },
  { name: 'region', short: 'r', long: 'region', kind: 'string', arg: 'region-id', help: 'filter by region' },
  { name: 'dimm', short: 'd', long: 'dimm', kind: 'string', arg: 'dimm-id', help: 'filter by dimm' },
  {
    name: 'namespace',
    short: 'n',
    long: 'namespace',
    kind: 'string',
    arg: 'namespace-id',
    help: 'filter by namespace id',
  },
  {
    name: 'mode',
    short: 'm',
    long: 'mode',
    kind: 'string',
    arg: 'namespace-mode',
    help: 'filter by namespace mode',
  },
  {
    name: 'type',
    short: 't',
    long: 'type',
    kind: 'string',
    arg: 'region-type',
    help: 'filter by region-type',
  },
  {
    name: 'numaNode',
    short: 'U',
    long: 'numa-node',
    kind: 'string',
    arg: 'numa node',
    help: 'filter by numa node',
  },
  { name: 'buses', short: 'B', long: 'buses', kind: 'boolean', help: 'include bus info' },
  { name: 'dimms', short: 'D', long: 'dimms', kind: 'boolean', help: 'include dimm info' },
  { name: 'firmware', short: 'F', long: 'firmware', kind: 'boolean', help: 'include firmware info' },
  { name: 'health', short: 'H', long: 'health', kind: 'boolean', help: 'include dimm health' },
  { name: 'regions', short: 'R', long: 'regions', kind: 'boolean', help: 'include region info' },
  {
    name: 'namespaces',
    short: 'N',
    long: 'namespaces',
    kind: 'boolean',
    help: 'include namespace info (default)',
  },
  { name: 'dax', short: 'X', long: 'device-dax', kind: 'boolean', help: 'include device-dax info' },
  {
    name: 'capabilities',
    short: 'C',
    long: 'capabilities',
    kind: 'boolean',
    help: 'include region capability info',
  },
  { name: 'idle', short: 'i', long: 'idle', kind: 'boolean', help: 'include idle devices' },
  {
    name: 'configured',
    short: 'c',
    long: 'configured',
    kind: 'boolean',
    help: 'include configured namespaces, disabled or not',
  },
  { name: 'mediaErrors', short: 'M', long: 'media-errors', kind: 'boolean', help: 'include media errors' },
  { name: 'human', short: 'u', long: 'human', kind: 'boolean', help: 'use human friendly number formats ' },
  { name: 'verbose', short: 'v', long: 'verbose', kind: 'incr', help: 'increase output detail' },
];

/** The `list` switches of list.c. */
interface ListSwitches {
  buses: boolean;
  dimms: boolean;
  regions: boolean;
  namespaces: boolean;
  idle: boolean;
  health: boolean;
  dax: boolean;
  mediaErrors: boolean;
  human: boolean;
  firmware: boolean;
  capabilities: boolean;
  configured: boolean;
  verbose: number;
}

/** struct ndctl_filter_params. */
export interface NdctlFilterParams {
  bus: string | null;
  region: string | null;
  dimm: string | null;
  namespace: string | null;
  mode: string | null;
  type: string | null;
  numaNode: string | null;
}

/** error(): report()'s "  Error: " line; `msg` carries its own newline where the C's format does. */
function error(ctx: ToolContext, msg: string): void {
  ctx.stderr(`  Error: ${msg}\n`);
}

/** util_region_capabilities_to_json(): only when the region has btt, pfn and dax seeds (never on this kernel). */
function regionCapabilitiesToJson(region: NdRegion): JsonValue[] | null {
  const btt = region.bttSeed();
  const pfn = region.pfnSeed();
  const dax = region.daxSeed();
  if (btt === null || pfn === null || dax === null) return null;
  const sizes = (path: string): number[] =>
    (sysfsReadAttr(region.kernel, path) ?? '')
      .split(' ')
      .slice(0, -1)
      .map((w) => /\d+/.exec(w)?.[0])
      .filter((w): w is string => w !== undefined)
      .map(Number);
  return [
    { mode: 'sector', sector_sizes: sizes(`${btt.path}/sector_size`) },
    { mode: 'fsdax', alignments: sizes(`${pfn.path}/supported_alignments`) },
    { mode: 'devdax', alignments: sizes(`${dax.path}/supported_alignments`) },
  ];
}

/** struct list_filter_arg: the arrays and containers being filled as the walk goes. */
interface ListFilterArg {
  jbuses: JsonObject[] | null;
  jbus: JsonObject | null;
  jdimms: JsonObject[] | null;
  jregions: JsonObject[] | null;
  jregion: JsonObject | null;
  jnamespaces: JsonObject[] | null;
  flags: JsonFlags;
}

/** One `ndctl list` run: list.c's static state, held per invocation. */
class Lister {
  readonly ctx: ToolContext;
  readonly list: ListSwitches;
  readonly lfa: ListFilterArg;
  didFail = false;

  constructor(ctx: ToolContext, list: ListSwitches) {
    this.ctx = ctx;
    this.list = list;
    this.lfa = {
      jbuses: null,
      jbus: null,
      jdimms: null,
      jregions: null,
      jregion: null,
      jnamespaces: null,
      flags: {
        idle: list.idle,
        configured: list.configured,
        mediaErrors: list.mediaErrors,
        dax: list.dax,
        daxDevices: list.dax,
        human: list.human,
        verbose: list.verbose > 0,
      },
    };
  }

  fail(func: string, line: number): void {
    this.didFail = true;
    this.ctx.stderr(`ndctl-${VERSION}:${func}:${line}: \n`);
  }

  /** region_to_json() of list.c: util's region object with "mappings" (-D) and "capabilities" (-C). */
  regionToJson(region: NdRegion, dimmIdent: string | null): JsonObject {
    const { list, lfa } = this;
    let jmappings: JsonObject[] | null = null;
    if (list.dimms)
      for (const mapping of region.mappings()) {
        if (!utilDimmFilter(mapping.dimm, dimmIdent)) continue;
        if (!list.configured && !list.idle && !mapping.dimm.isEnabled()) continue;
        jmappings ??= [];
        jmappings.push(mappingToJson(mapping, lfa.flags));
      }
    const jregion = regionToJson(this.ctx.kernel, region, lfa.flags, jmappings);
    if (list.capabilities) {
      const caps = regionCapabilitiesToJson(region);
      if (caps !== null) {
        const pd = jregion.persistence_domain;
        delete jregion.persistence_domain;
        jregion.capabilities = caps;
        jregion.persistence_domain = pd;
      }
    }
    return jregion;
  }

  filterNamespace(ns: NdNamespace): void {
    const { list, lfa } = this;
    const container = lfa.jregion ?? lfa.jbus;
    if (ns.isActive()) {
      // listed
    } else if (list.idle) {
      // listed
    } else if (list.configured && ns.size > 0) {
      // listed
    } else return;
    if (lfa.jnamespaces === null) {
      lfa.jnamespaces = [];
      if (container !== null) container.namespaces = lfa.jnamespaces;
    }
    const jndns = namespaceToJson(this.ctx.kernel, ns, lfa.flags);
    if (jndns === null) {
      this.fail('filter_namespace', 267);
      return;
    }
    lfa.jnamespaces.push(jndns);
  }

  filterRegion(region: NdRegion, dimmIdent: string | null): boolean {
    const { list, lfa } = this;
    if (!list.regions) return true;
    if (!list.configured && !list.idle && !region.isEnabled()) return true;
    if (lfa.jregions === null) {
      lfa.jregions = [];
      if (lfa.jbus !== null) lfa.jbus.regions = lfa.jregions;
    }
    const jregion = this.regionToJson(region, dimmIdent);
    lfa.jregion = jregion;
    lfa.jnamespaces = null;
    lfa.jregions.push(jregion);
    return true;
  }

  filterDimm(dimm: NdDimm): void {
    const { list, lfa } = this;
    if (!list.configured && !list.idle && !dimm.isEnabled()) return;
    if (lfa.jdimms === null) {
      lfa.jdimms = [];
      if (lfa.jbus !== null) lfa.jbus.dimms = lfa.jdimms;
    }
    lfa.jdimms.push(dimmToJson(this.ctx.kernel, dimm, lfa.flags));
  }

  filterBus(bus: NdBus): boolean {
    const { list, lfa } = this;
    if (lfa.jbuses !== null) {
      lfa.jdimms = null;
      lfa.jregion = null;
      lfa.jregions = null;
      lfa.jnamespaces = null;
    }
    if (!list.buses) return true;
    lfa.jbuses ??= [];
    lfa.jbus = busToJson(this.ctx.kernel, bus, lfa.flags);
    lfa.jbuses.push(lfa.jbus);
    return true;
  }

  /** ndctl_filter_walk(): 0, or -EINVAL for a bad -t, -m or -U (after printing why). */
  walk(param: NdctlFilterParams): number {
    const { ctx, list } = this;
    const k = ctx.kernel;
    if (param.type !== null && param.type !== 'pmem' && param.type !== 'blk') {
      error(ctx, `unknown type "${param.type}" must be "pmem" or "blk"\n`);
      return -22;
    }
    const wantMode = param.mode === null ? null : utilNsmode(param.mode);
    if (param.mode !== null && wantMode === null) {
      error(ctx, `invalid mode: '${param.mode}'\n`);
      return -22;
    }
    let numaNode: number | null = null;
    if (param.numaNode !== null && param.numaNode !== 'all') {
      if (!k.sysfs.exists('/sys/devices/system/node')) {
        error(ctx, 'This system does not support NUMA');
        return -22;
      }
      const m = /^\s*([+-]?(?:0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*))$/.exec(param.numaNode);
      if (m === null) {
        error(ctx, `invalid numa_node: '${param.numaNode}'\n`);
        return -22;
      }
      numaNode = Number(m[1]);
    }

    const nctx = new NdctlCtx(k);
    for (const bus of nctx.buses()) {
      if (
        !utilBusFilter(bus, param.bus) ||
        !utilBusFilterByDimm(bus, param.dimm) ||
        !utilBusFilterByRegion(bus, param.region) ||
        !utilBusFilterByNamespace(bus, param.namespace)
      )
        continue;
      if (!this.filterBus(bus)) continue;

      if (list.dimms)
        for (const dimm of bus.dimms()) {
          if (
            !utilDimmFilter(dimm, param.dimm) ||
            !utilDimmFilterByRegion(dimm, param.region) ||
            !utilDimmFilterByNamespace(dimm, param.namespace) ||
            !utilDimmFilterByNumaNode(dimm, numaNode)
          )
            continue;
          this.filterDimm(dimm);
        }

      for (const region of bus.regions()) {
        if (
          !utilRegionFilter(region, param.region) ||
          !utilRegionFilterByDimm(region, param.dimm) ||
          !utilRegionFilterByNamespace(region, param.namespace)
        )
          continue;
        if (numaNode !== null && region.numaNode === null && !list.namespaces) {
          ctx.stderr('This kernel does not provide NUMA node information per-region\n');
          continue;
        }
        if (region.numaNode !== null && numaNode !== null && region.numaNode !== numaNode) continue;
        if (param.type !== null && region.type !== param.type) continue;
        if (!this.filterRegion(region, param.dimm)) continue;

        if (!list.namespaces) continue;
        for (const ns of region.namespaces()) {
          if (!utilNamespaceFilter(ns, param.namespace)) continue;
          if (wantMode !== null && ns.mode() !== wantMode) continue;
          if (numaNode !== null && (ns.numaNode ?? -1) !== numaNode) continue;
          this.filterNamespace(ns);
        }
      }
    }
    return 0;
  }

  /** list_display(). */
  display(): void {
    const { ctx, lfa } = this;
    const { jnamespaces, jregions, jdimms, jbuses } = lfa;
    if (jbuses !== null) displayJsonArray(ctx, jbuses, lfa.flags);
    else if (Number(jdimms !== null) + Number(jregions !== null) + Number(jnamespaces !== null) > 1) {
      const jplatform: JsonObject = {};
      if (jdimms !== null) jplatform.dimms = jdimms;
      if (jregions !== null) jplatform.regions = jregions;
      if (jnamespaces !== null && jregions === null) jplatform.namespaces = jnamespaces;
      printJson(ctx, jplatform);
    } else if (jdimms !== null) displayJsonArray(ctx, jdimms, lfa.flags);
    else if (jregions !== null) displayJsonArray(ctx, jregions, lfa.flags);
    else if (jnamespaces !== null) displayJsonArray(ctx, jnamespaces, lfa.flags);
  }
}

/** cmd_list(): `ndctl list`; exit status 0, 129 for a bad command line, 234 (-EINVAL) for a bad filter. */
export const cmdList: ToolCommand = async (ctx, argv) => {
  const parsed = parseOrUsage(ctx.stderr, USAGE, OPTIONS, argv);
  if (parsed === null) return USAGE_EXIT;
  const { opts, args } = parsed;
  if (args.length > 0) {
    for (const a of args) error(ctx, `unknown parameter "${a}"\n`);
    ctx.stderr(usageText(USAGE, OPTIONS));
    return USAGE_EXIT;
  }
  const str = (v: unknown): string | null => optString(v) ?? null;
  const param: NdctlFilterParams = {
    bus: str(opts.bus),
    region: str(opts.region),
    dimm: str(opts.dimm),
    namespace: str(opts.namespace),
    mode: str(opts.mode),
    type: str(opts.type),
    numaNode: str(opts.numaNode),
  };
  const list: ListSwitches = {
    buses: opts.buses === true,
    dimms: opts.dimms === true,
    regions: opts.regions === true,
    namespaces: opts.namespaces === true,
    idle: opts.idle === true,
    health: opts.health === true,
    dax: opts.dax === true,
    mediaErrors: opts.mediaErrors === true,
    human: opts.human === true,
    firmware: opts.firmware === true,
    capabilities: opts.capabilities === true,
    configured: opts.configured === true,
    verbose: typeof opts.verbose === 'number' ? opts.verbose : 0,
  };
  const numListFlags = () =>
    Number(list.buses) + Number(list.dimms) + Number(list.regions) + Number(list.namespaces);
  if (numListFlags() === 0) {
    list.buses = param.bus !== null;
    list.regions = param.region !== null;
    list.dimms = param.dimm !== null;
    if (list.dax && param.mode === null) param.mode = 'dax';
  }
  if (list.verbose >= 3) {
    list.idle = true;
    list.firmware = true;
    list.health = true;
    list.capabilities = true;
  }
  if (list.verbose >= 2) {
    list.dimms = true;
    list.buses = true;
    list.regions = true;
  }
  if (list.verbose >= 1) {
    list.mediaErrors = true;
    list.namespaces = true;
    list.dax = true;
  }
  if (numListFlags() === 0) list.namespaces = true;

  // libndctl's is_enabled() waits for the bus's probes before reading a driver link.
  await waitProbe(ctx.kernel);
  const lister = new Lister(ctx, list);
  const rc = lister.walk(param);
  if (rc !== 0) return rc & 0xff;
  lister.display();
  return lister.didFail ? -12 & 0xff : 0;
};
