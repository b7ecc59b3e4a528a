/**
 * ndctl/filter.c: the util_*_filter() matchers every ndctl command selects buses, regions, DIMMs and namespaces
 * with, util_nsmode(), and the bus-then-region walk the namespace and region commands share.
 */
import type { NdBus, NdctlCtx, NdDimm, NdNamespace, NdNamespaceMode, NdRegion } from '../lib/libndctl.js';

/** An ident as the commands pass it: null or undefined (no option given) selects everything. */
type Ident = string | null | undefined;

/** strtoul(word, &end, 0) accepted only when it consumes the whole word, else null (ULONG_MAX in the C). */
function wholeNumber(word: string): number | null {
  const m = /^\s*\+?(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(word);
  if (m === null) return null;
  const d = m[1]!;
  if (/^0[xX]/.test(d)) return Number.parseInt(d.slice(2), 16);
  return d.length > 1 && d[0] === '0' ? Number.parseInt(d, 8) : Number(d);
}

/**
 * The loop shared by util_bus_filter(), util_region_filter() and util_dimm_filter(): `ident` split on spaces;
 * "all" matches; the first word parsed as a number (the C parses `ident`, whose first space strtok_r() has
 * cut) matches the id, else each word is compared with the names.
 */
function identMatches(ident: Ident, id: number, names: readonly string[]): boolean {
  if (ident === null || ident === undefined) return true;
  const words = ident.split(' ').filter((w) => w !== '');
  if (words.length === 0) return false;
  const num = wholeNumber(words[0]!);
  for (const w of words) {
    if (w === 'all') return true;
    if (num !== null && num === id) return true;
    if (num === null && names.includes(w)) return true;
  }
  return false;
}

/** util_bus_filter(): "all", the bus id, its provider or its device name. */
export function utilBusFilter(bus: NdBus, ident: Ident): boolean {
  return identMatches(ident, bus.id, [bus.provider, bus.devname]);
}

/** util_region_filter(): "all", the region id or "regionN". */
export function utilRegionFilter(region: NdRegion, ident: Ident): boolean {
  return identMatches(ident, region.id, [region.devname]);
}

/** util_dimm_filter(): "all", the dimm id or "nmemN". */
export function utilDimmFilter(dimm: NdDimm, ident: Ident): boolean {
  return identMatches(ident, dimm.id, [dimm.devname]);
}

/** util_namespace_filter(): "all", "namespaceX.Y" or "X.Y", any of the space-separated words. */
export function utilNamespaceFilter(ns: NdNamespace, ident: Ident): boolean {
  if (ident === null || ident === undefined) return true;
  for (const w of ident.split(' ').filter((x) => x !== '')) {
    if (w === 'all' || w === ns.devname) return true;
    const m = /^\s*([+-]?\d+)\.\s*([+-]?\d+)/.exec(w);
    if (m !== null && Number(m[1]) === ns.region.id && Number(m[2]) === ns.id) return true;
  }
  return false;
}

const isAll = (ident: Ident) => ident === null || ident === undefined || ident === 'all';

/** util_bus_filter_by_dimm(). */
export function utilBusFilterByDimm(bus: NdBus, ident: Ident): boolean {
  return isAll(ident) || bus.dimms().some((d) => utilDimmFilter(d, ident));
}

/** util_bus_filter_by_region(). */
export function utilBusFilterByRegion(bus: NdBus, ident: Ident): boolean {
  return isAll(ident) || bus.regions().some((r) => utilRegionFilter(r, ident));
}

/** util_bus_filter_by_namespace(). */
export function utilBusFilterByNamespace(bus: NdBus, ident: Ident): boolean {
  return isAll(ident) || bus.regions().some((r) => r.namespaces().some((n) => utilNamespaceFilter(n, ident)));
}

/** util_region_filter_by_dimm(). */
export function utilRegionFilterByDimm(region: NdRegion, ident: Ident): boolean {
  return isAll(ident) || region.dimms().some((d) => utilDimmFilter(d, ident));
}

/** util_region_filter_by_namespace(). */
export function utilRegionFilterByNamespace(region: NdRegion, ident: Ident): boolean {
  return isAll(ident) || region.namespaces().some((n) => utilNamespaceFilter(n, ident));
}

/** util_dimm_filter_by_region(): the DIMM backs a region the ident selects. */
export function utilDimmFilterByRegion(dimm: NdDimm, ident: Ident): boolean {
  return (
    isAll(ident) || dimm.bus.regions().some((r) => utilRegionFilter(r, ident) && r.dimms().includes(dimm))
  );
}

/** util_dimm_filter_by_namespace(): the DIMM backs the region of a namespace the ident selects. */
export function utilDimmFilterByNamespace(dimm: NdDimm, ident: Ident): boolean {
  if (isAll(ident)) return true;
  return dimm.bus
    .regions()
    .some((r) => r.namespaces().some((n) => utilNamespaceFilter(n, ident)) && r.dimms().includes(dimm));
}

/** util_dimm_filter_by_numa_node(): null (NUMA_NO_NODE) matches every DIMM. */
export function utilDimmFilterByNumaNode(dimm: NdDimm, node: number | null): boolean {
  if (node === null) return true;
  return dimm.bus.regions().some((r) => r.dimms().includes(dimm) && r.numaNode === node);
}

/**
 * util_nsmode(): case-insensitive, with the legacy names "memory", "safe" and "dax"; null
 * (NDCTL_NS_MODE_UNKNOWN) for anything else or no mode.
 */
export function utilNsmode(mode: string | null | undefined): Exclude<NdNamespaceMode, 'unknown'> | null {
  switch (mode?.toLowerCase()) {
    case 'memory':
    case 'fsdax':
      return 'fsdax';
    case 'sector':
    case 'safe':
      return 'sector';
    case 'dax':
    case 'devdax':
      return 'devdax';
    case 'raw':
      return 'raw';
    default:
      return null;
  }
}

/**
 * The ndctl_bus_foreach() + util_bus_filter() + ndctl_region_foreach() + util_region_filter() loops of the
 * namespace and region commands: each region, in libndctl order, of the buses `bus` selects, that `region`
 * selects.
 */
export function* utilRegions(lib: NdctlCtx, bus: Ident, region: Ident): Generator<NdRegion> {
  for (const b of lib.buses()) {
    if (!utilBusFilter(b, bus)) continue;
    for (const r of b.regions()) if (utilRegionFilter(r, region)) yield r;
  }
}
