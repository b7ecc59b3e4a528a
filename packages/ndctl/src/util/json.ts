/**
 * ndctl's JSON builders (ndctl/json.c, daxctl/json.c and util/json.c of ndctl v7x) and json-c's pretty printer
 * (json_object_to_json_string_ext(JSON_C_TO_STRING_PRETTY)), which is how every ndctl and daxctl listing is
 * printed.
 *
 * A value is built the way the C builds it: keys in insertion order, a key left out where the C skips the
 * json_object_object_add(). Where util/json.c attaches a custom serializer for -u (display_size, display_hex)
 * the builder here stores the value that serializer prints: a number below 5000 KiB, else a string.
 */
import type { Kernel } from '@daxsim/kernel';
import type { ToolContext } from '../context.js';
import { daxctlDevFilter } from '../lib/libdaxctl.js';
import {
  type Badblock,
  type DaxDev,
  type DaxRegion,
  type NdBus,
  type NdDaxRegion,
  type NdDimm,
  type NdMapping,
  type NdNamespace,
  type NdPfnLoc,
  type NdRegion,
  NULL_UUID,
} from '../lib/libndctl.js';
import { displaySize } from './size.js';

/** A JSON value as json-c holds it; bigint for 64-bit values past 2^53 (interleave-set cookies). */
export type JsonValue = null | boolean | number | bigint | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue | undefined;
}

/** The UTIL_JSON_* flags the builders honour. */
export interface JsonFlags {
  /** UTIL_JSON_HUMAN (-u): sizes as "30.00 MiB (31.46 MB)", hex values as "0x..." strings. */
  human?: boolean;
  /** UTIL_JSON_MEDIA_ERRORS (-M): badblocks arrays besides badblock_count. */
  mediaErrors?: boolean;
  /** UTIL_JSON_IDLE (-i): zero-sized dax devices too. */
  idle?: boolean;
  /** UTIL_JSON_CONFIGURED (-c). */
  configured?: boolean;
  /** UTIL_JSON_DAX: the caller knows the dax region's parent: a namespace's "daxregion" replaces "chardev" and the region has no "path". */
  dax?: boolean;
  /** UTIL_JSON_DAX_DEVS: a dax region lists its "devices". */
  daxDevices?: boolean;
  /** UTIL_JSON_VERBOSE (-v): numa_node, target_node, raw_uuid. */
  verbose?: boolean;
}

const U64_MAX = (1n << 64n) - 1n;

/**
 * What display_size() prints for util_json_object_size() under -u: the number itself below 5000 KiB, else
 * displaySize()'s "<x.xx> MiB (<y.yy> MB)" string.
 */
export function displaySizeJson(bytes: number | bigint): number | string {
  return BigInt(bytes) < 5000n * 1024n ? Number(bytes) : displaySize(bytes);
}

/** util_json_object_size(): the size, or with -u what display_size() prints. */
export function jsonSize(size: number, flags: JsonFlags): number | string {
  return flags.human ? displaySizeJson(size) : size;
}

/** util_json_object_hex(): the value, or with -u "%#llx" as a string ("0" for zero, as printf's # gives). */
export function jsonHex(val: number | bigint, flags: JsonFlags): number | bigint | string {
  if (!flags.human) return val;
  return val === 0 || val === 0n ? '0' : `0x${val.toString(16)}`;
}

/** util_bus_to_json(): {provider, dev, scrub_state?}. */
export function busToJson(_k: Kernel, bus: NdBus, _flags: JsonFlags = {}): JsonObject {
  const jbus: JsonObject = { provider: bus.provider, dev: bus.devname };
  const scrub = bus.scrubState();
  if (scrub !== null) jbus.scrub_state = scrub ? 'active' : 'idle';
  return jbus;
}

/** util_dimm_to_json(): {dev, id?, handle?, phys_id?, state?, flag_*?, security?, security_frozen?}. */
export function dimmToJson(_k: Kernel, dimm: NdDimm, flags: JsonFlags = {}): JsonObject {
  const jdimm: JsonObject = { dev: dimm.devname };
  if (dimm.uniqueId !== null) jdimm.id = dimm.uniqueId;
  if (dimm.handle !== null) jdimm.handle = jsonHex(dimm.handle, flags);
  if (dimm.physId !== null) jdimm.phys_id = jsonHex(dimm.physId, flags);
  if (!dimm.isEnabled()) jdimm.state = 'disabled';
  if (dimm.flags.map) jdimm.flag_failed_map = true;
  if (dimm.flags.save) jdimm.flag_failed_save = true;
  if (dimm.flags.arm) jdimm.flag_failed_arm = true;
  if (dimm.flags.restore) jdimm.flag_failed_restore = true;
  if (dimm.flags.flush) jdimm.flag_failed_flush = true;
  if (dimm.flags.smart) jdimm.flag_smart_event = true;
  const security = dimm.security();
  if (security !== null) jdimm.security = security;
  if (dimm.securityIsFrozen()) jdimm.security_frozen = true;
  return jdimm;
}

/** util_mapping_to_json(): {dimm, offset, length, position?}. */
export function mappingToJson(mapping: NdMapping, flags: JsonFlags = {}): JsonObject {
  const jmapping: JsonObject = {
    dimm: mapping.dimm.devname,
    offset: jsonHex(mapping.offset, flags),
    length: jsonHex(mapping.length, flags),
  };
  if (mapping.position >= 0) jmapping.position = mapping.position;
  return jmapping;
}

/**
 * badblocks_to_jdimms(): the DIMMs (by nmem number) behind [addr, addr+len), probed every 512 bytes until as
 * many as the region's interleave ways are found; null when none can be told.
 */
function badblocksToJdimms(region: NdRegion, addr: number, len: number): JsonValue[] | null {
  const count = region.interleaveWays;
  const end = addr + len;
  const found: NdDimm[] = [];
  for (let a = addr; found.length < count && a < end; a += 512) {
    const dimm = region.bus.dimmByPhysicalAddress(a);
    if (dimm !== null && !found.includes(dimm)) found.push(dimm);
  }
  if (found.length === 0) return null;
  return found.sort((x, y) => x.id - y.id).map((d) => d.devname);
}

/** Result of a badblocks builder: the count ndctl prints by default and the -M array (null when not shown). */
interface BadblocksJson {
  count: number;
  list: JsonObject[] | null;
}

/**
 * util_region_badblocks_to_json(): the region's badblocks as {offset, length, dimms?} in region sectors; the
 * array only with -M, and only when there is at least one.
 */
export function regionBadblocksToJson(region: NdRegion, flags: JsonFlags): BadblocksJson {
  const bbs = region.badblocks();
  let count = 0;
  const list: JsonObject[] = [];
  for (const bb of bbs) {
    count += bb.len;
    if (!flags.mediaErrors) continue;
    const start = region.resource();
    if (start === null) return { count: 0, list: null };
    const jbb: JsonObject = { offset: bb.offset, length: bb.len };
    const jdimms = badblocksToJdimms(region, start + bb.offset * 512, bb.len * 512);
    if (jdimms !== null) jbb.dimms = jdimms;
    list.push(jbb);
  }
  return { count, list: count > 0 && flags.mediaErrors ? list : null };
}

/** util_namespace_badblocks_to_json(): only with -M; the namespace disk's badblocks as {offset, length}. */
function namespaceBadblocksToJson(ns: NdNamespace, flags: JsonFlags): BadblocksJson | null {
  if (!flags.mediaErrors) return null;
  const bbs: Badblock[] = ns.badblocks();
  const count = bbs.reduce((n, bb) => n + bb.len, 0);
  return { count, list: count > 0 ? bbs.map((bb) => ({ offset: bb.offset, length: bb.len })) : null };
}

/**
 * dev_badblocks_to_json(): the region's badblocks that fall inside [devBegin, devBegin+devSize), with offsets
 * and lengths in sectors of the device (a pfn or dax claim's data area), clipped as ndctl clips them.
 */
function devBadblocksToJson(
  region: NdRegion,
  devBegin: number,
  devSize: number,
  flags: JsonFlags,
): BadblocksJson {
  const regionBegin = region.resource();
  if (regionBegin === null) return { count: 0, list: null };
  const devEnd = devBegin + devSize - 1;
  let count = 0;
  const list: JsonObject[] = [];
  for (const bb of region.badblocks()) {
    const bbBegin = regionBegin + bb.offset * 512;
    const bbEnd = bbBegin + bb.len * 512 - 1;
    if (bbEnd <= devBegin || bbBegin >= devEnd) continue;
    const begin = Math.max(bbBegin, devBegin);
    const end = Math.min(bbEnd, devEnd);
    const offset = Math.floor((begin - devBegin) / 512);
    const len = Math.floor((end - begin + 1) / 512);
    count += len;
    if (!flags.mediaErrors) continue;
    const jbb: JsonObject = { offset, length: len };
    const jdimms = badblocksToJdimms(region, begin, len * 512);
    if (jdimms !== null) jbb.dimms = jdimms;
    list.push(jbb);
  }
  return { count, list: count > 0 && flags.mediaErrors ? list : null };
}

/**
 * util_namespace_to_json(): {dev, mode, map?, size?, uuid?, raw_uuid?, daxregion?|chardev?, sector_size?,
 * align?, blockdev?, state?, name?, numa_node?, target_node?, badblock_count?, badblocks?}. The mode is read
 * from the namespace's mode attribute; size, uuid, align and map come from the claim device where there is one.
 * Null where ndctl fails the namespace (a "dax" mode namespace whose claim device cannot be found).
 */
export function namespaceToJson(_k: Kernel, ns: NdNamespace, flags: JsonFlags = {}): JsonObject | null {
  const jndns: JsonObject = { dev: ns.devname };
  const btt = ns.btt();
  const dax = ns.dax();
  const pfn = ns.pfn();
  const mode = ns.mode();
  let size: number | null = null;
  let loc: NdPfnLoc = 'none';
  switch (mode) {
    case 'fsdax':
      if (pfn !== null) {
        size = pfn.size;
        loc = pfn.loc;
      } else {
        size = ns.size;
        loc = 'mem';
      }
      jndns.mode = 'fsdax';
      break;
    case 'devdax':
      if (dax === null) return null;
      size = dax.size;
      loc = dax.loc;
      jndns.mode = 'devdax';
      break;
    case 'sector':
      if (btt === null) return null;
      size = btt.size;
      jndns.mode = 'sector';
      break;
    case 'raw':
      size = ns.size;
      jndns.mode = 'raw';
      break;
  }
  if (mode !== 'sector' && mode !== 'raw') jndns.map = loc;
  if (size !== null) jndns.size = jsonSize(size, flags);

  const rawUuid = () => {
    if (flags.verbose && ns.uuid !== null && ns.uuid !== NULL_UUID) jndns.raw_uuid = ns.uuid;
  };
  let bdev = '';
  let align = 0;
  if (btt !== null) {
    jndns.uuid = btt.uuid;
    rawUuid();
    bdev = btt.blockDevice();
  } else if (pfn !== null) {
    align = pfn.align;
    jndns.uuid = pfn.uuid;
    rawUuid();
    bdev = pfn.blockDevice();
  } else if (dax !== null) {
    align = dax.align;
    jndns.uuid = dax.uuid;
    rawUuid();
    const region = dax.daxRegion();
    if (flags.dax) {
      const jregion = daxRegionJson(region, null, flags);
      if (jregion !== null) jndns.daxregion = jregion;
    } else {
      const first = region.devices[0];
      if (first !== undefined) jndns.chardev = first.name;
    }
  } else if (ns.uuid !== null) {
    jndns.uuid = ns.uuid;
    bdev = ns.blockDevice();
  } else {
    bdev = ns.blockDevice();
  }

  let sectorSize: number | null = null;
  if (btt !== null) sectorSize = btt.sectorSize;
  else if (dax === null) sectorSize = ns.sectorSize === null || ns.sectorSize === 0 ? 512 : ns.sectorSize;
  if (sectorSize !== null) jndns.sector_size = sectorSize;
  if (align) jndns.align = align;
  if (bdev !== '') jndns.blockdev = bdev;
  if (!ns.isActive()) jndns.state = 'disabled';
  if (ns.altName !== null && ns.altName !== '') jndns.name = ns.altName;
  if (ns.numaNode !== null && ns.numaNode >= 0 && flags.verbose) jndns.numa_node = ns.numaNode;
  if (ns.targetNode !== null && ns.targetNode >= 0 && flags.verbose) jndns.target_node = ns.targetNode;

  let bb: BadblocksJson | null = null;
  if (pfn !== null) {
    if (pfn.resource === null) bb = namespaceBadblocksToJson(ns, flags);
    else if (pfn.size !== null) bb = devBadblocksToJson(ns.region, pfn.resource, pfn.size, flags);
  } else if (dax !== null) {
    if (dax.resource !== null && dax.size !== null)
      bb = devBadblocksToJson(ns.region, dax.resource, dax.size, flags);
  } else if (btt !== null) {
    if (ns.resource !== null) bb = devBadblocksToJson(ns.region, ns.resource, ns.size, {});
  } else {
    bb = regionBadblocksToJson(ns.region, flags);
    if (bb.list === null) {
      const nsbb = namespaceBadblocksToJson(ns, flags);
      if (nsbb !== null) bb = nsbb;
    }
  }
  if (bb?.count) jndns.badblock_count = bb.count;
  if (flags.mediaErrors && bb?.list) jndns.badblocks = bb.list;
  return jndns;
}

/**
 * The region attributes of ndctl list's region_to_json() (list.c): {dev, size, align?, available_size,
 * max_available_extent?, type, numa_node?, target_node?, iset_id?, state?, badblock_count?, badblocks?,
 * persistence_domain}. list.c inserts "mappings" (with -D) before "state"; pass them as `mappings` to get the
 * same key order. This kernel has no persistence_domain attribute, which ndctl prints as "unknown".
 */
export function regionToJson(
  _k: Kernel,
  region: NdRegion,
  flags: JsonFlags = {},
  mappings: JsonObject[] | null = null,
): JsonObject {
  const jregion: JsonObject = { dev: region.devname, size: jsonSize(region.size, flags) };
  if (region.align !== null) jregion.align = jsonSize(region.align, flags);
  const available = region.availableSize();
  // A failed read is ULLONG_MAX, which json-c's int64 holds as -1 and display_size() reads back unsigned.
  if (available !== null) jregion.available_size = jsonSize(available, flags);
  else jregion.available_size = flags.human ? displaySizeJson(U64_MAX) : -1;
  const extent = region.maxAvailableExtent();
  if (extent !== null) jregion.max_available_extent = jsonSize(extent, flags);
  jregion.type = region.type;
  if (region.numaNode !== null && region.numaNode >= 0 && flags.verbose) jregion.numa_node = region.numaNode;
  if (region.targetNode !== null && region.targetNode >= 0 && flags.verbose)
    jregion.target_node = region.targetNode;
  if (region.cookie !== null) jregion.iset_id = jsonHex(region.cookie, flags);
  if (mappings !== null) jregion.mappings = mappings;
  if (!region.isEnabled()) jregion.state = 'disabled';
  const bb = regionBadblocksToJson(region, flags);
  if (bb.count) jregion.badblock_count = bb.count;
  if (flags.mediaErrors && bb.list !== null) jregion.badblocks = bb.list;
  jregion.persistence_domain = region.persistenceDomain;
  return jregion;
}

/** util_daxctl_dev_to_json(): {chardev, size, target_node?, align?, mode, state?}. */
export function daxDevToJson(_k: Kernel, dev: DaxDev, flags: JsonFlags = {}): JsonObject {
  return daxDevJson(dev, flags);
}

function daxDevJson(dev: DaxDev, flags: JsonFlags): JsonObject {
  const jdev: JsonObject = { chardev: dev.name, size: jsonSize(dev.size, flags) };
  if (dev.targetNode !== null && dev.targetNode >= 0) jdev.target_node = dev.targetNode;
  if (dev.align !== null && dev.align > 0) jdev.align = jsonSize(dev.align, flags);
  jdev.mode = dev.mode ?? 'devdax';
  if (!dev.enabled) jdev.state = 'disabled';
  return jdev;
}

/** util_daxctl_region_to_json() of a region whose dax_region group may be absent (a namespace's claim). */
function daxRegionJson(region: NdDaxRegion, ident: string | null, flags: JsonFlags): JsonObject | null {
  const jregion: JsonObject = {};
  if (!flags.dax) {
    if (!region.path.startsWith('/sys/devices')) return null;
    jregion.path = region.path.slice('/sys/devices'.length);
  }
  jregion.id = region.id;
  if (region.size !== null) jregion.size = jsonSize(region.size, flags);
  if (region.availableSize) jregion.available_size = jsonSize(region.availableSize, flags);
  if (region.align !== null) jregion.align = region.align;
  if (!flags.daxDevices) return jregion;
  const jdevs: JsonObject[] = [];
  for (const dev of region.devices) {
    if (!daxctlDevFilter(dev, ident)) continue;
    if (!flags.idle && !flags.configured && !dev.size) continue;
    jdevs.push(daxDevJson(dev, flags));
  }
  if (jdevs.length > 0) jregion.devices = jdevs;
  return jregion;
}

/**
 * util_daxctl_region_to_json(): {path? (without "/sys/devices"; left out under flags.dax), id, size,
 * available_size? (when non-zero), align, devices? (flags.daxDevices: those `ident` selects, zero-sized ones
 * only with idle/configured)}. Null where the path is not below /sys/devices.
 */
export function daxRegionToJson(
  _k: Kernel,
  region: DaxRegion,
  ident: string | null = null,
  flags: JsonFlags = {},
): JsonObject | null {
  return daxRegionJson(region, ident, flags);
}

/** json-c's json_escape_str(): '"', '\\', '/' and control characters escaped; everything else as is. */
function escapeString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    switch (ch) {
      case '"':
        out += '\\"';
        break;
      case '\\':
        out += '\\\\';
        break;
      case '/':
        out += '\\/';
        break;
      case '\b':
        out += '\\b';
        break;
      case '\n':
        out += '\\n';
        break;
      case '\r':
        out += '\\r';
        break;
      case '\t':
        out += '\\t';
        break;
      case '\f':
        out += '\\f';
        break;
      default:
        out += c < 0x20 ? `\\u00${c.toString(16).padStart(2, '0')}` : ch;
    }
  }
  return `${out}"`;
}

function serialize(v: JsonValue, level: number, out: string[]): void {
  if (v === null) {
    out.push('null');
    return;
  }
  switch (typeof v) {
    case 'boolean':
      out.push(v ? 'true' : 'false');
      return;
    case 'bigint':
      out.push(v.toString());
      return;
    case 'number':
      out.push(Number.isInteger(v) ? v.toFixed(0) : String(v));
      return;
    case 'string':
      out.push(escapeString(v));
      return;
  }
  const pad = (n: number) => '  '.repeat(n);
  if (Array.isArray(v)) {
    out.push('[\n');
    v.forEach((e, i) => {
      if (i > 0) out.push(',\n');
      out.push(pad(level + 1));
      serialize(e, level + 1, out);
    });
    if (v.length > 0) out.push('\n');
    out.push(`${pad(level)}]`);
    return;
  }
  out.push('{\n');
  let first = true;
  for (const [key, val] of Object.entries(v)) {
    if (val === undefined) continue;
    if (!first) out.push(',\n');
    first = false;
    out.push(`${pad(level + 1)}${escapeString(key)}:`);
    serialize(val, level + 1, out);
  }
  if (!first) out.push('\n');
  out.push(`${pad(level)}}`);
}

/**
 * json_object_to_json_string_ext(value, JSON_C_TO_STRING_PRETTY): two-space indents, a newline after every
 * "[", "{" and ",", no space after ":", "/" escaped as "\/"; an empty array is "[\n]".
 */
export function jsonToString(value: JsonValue): string {
  const out: string[] = [];
  serialize(value, 0, out);
  return out.join('');
}

/** printf("%s\n", json_object_to_json_string_ext(value, JSON_C_TO_STRING_PRETTY)) to standard output. */
export function printJson(ctx: ToolContext, value: JsonValue): void {
  ctx.stdout(`${jsonToString(value)}\n`);
}

/**
 * util_display_json_array(): the array, or with -u a lone element by itself; an empty array warns
 * "no matching devices found" on standard error and prints "[\n]".
 */
export function displayJsonArray(ctx: ToolContext, array: JsonValue[], flags: JsonFlags): void {
  if (array.length > 1 || !flags.human) {
    if (array.length === 0) ctx.stderr('  Warning: no matching devices found\n\n');
    printJson(ctx, array);
  } else if (array.length === 1) printJson(ctx, array[0]!);
}
