/**
 * ndctl/namespace.c: create-namespace (on a region's idle seed, or -e to reconfigure a namespace in place),
 * destroy-namespace, enable-namespace and disable-namespace, with ndctl's option checks, region walk, defaults,
 * validation messages, rollback of a failed create, counts and exit statuses. Follows ndctl v78.
 */
import { randomUUID } from 'node:crypto';
import { O_RDWR } from '@daxsim/kernel';
import type { ToolContext } from '../context.js';
import { findNamespace, NdctlCtx, type NdNamespace, type NdRegion, NULL_UUID } from '../lib/libndctl.js';
import {
  ND_DEVICE_NAMESPACE_BLK,
  ND_DEVICE_NAMESPACE_IO,
  ND_DEVICE_NAMESPACE_PMEM,
  type NdConfigCtx,
  type NdctlNamespaceMode,
  type NdctlPfnLoc,
  ndConfigNew,
  ndctlClaimEnable,
  ndctlClaimGetAlign,
  ndctlClaimGetSupportedAlignments,
  ndctlClaimHasAlign,
  ndctlClaimSetAlign,
  ndctlClaimSetLocation,
  ndctlClaimSetNamespace,
  ndctlClaimSetUuid,
  ndctlDimmSupportsLabels,
  ndctlGetBlockDevice,
  ndctlNamespaceDelete,
  ndctlNamespaceDisableInvalidate,
  ndctlNamespaceDisableSafe,
  ndctlNamespaceEnable,
  ndctlNamespaceGetAltName,
  ndctlNamespaceGetClaim,
  ndctlNamespaceGetMode,
  ndctlNamespaceGetNumSectorSizes,
  ndctlNamespaceGetResource,
  ndctlNamespaceGetSize,
  ndctlNamespaceGetType,
  ndctlNamespaceIsActive,
  ndctlNamespaceIsConfigurationIdle,
  ndctlNamespaceSetAltName,
  ndctlNamespaceSetEnforceMode,
  ndctlNamespaceSetRawMode,
  ndctlNamespaceSetSize,
  ndctlNamespaceSetUuid,
  ndctlRegionGetBttSeed,
  ndctlRegionGetDaxSeed,
  ndctlRegionGetNamespaceSeed,
  ndctlRegionGetPfnSeed,
  neg,
  SZ_2M,
  SZ_4K,
} from '../lib/namespace_config.js';
import { strerror } from '../lib/strerror.js';
import { namespaceToJson, printJson } from '../util/json.js';
import { type OptionSpec, parseOrUsage, USAGE_EXIT, usageText } from '../util/parse_options.js';
import { parseSize64, SZ_1G, SZ_1K, SZ_1M, SZ_1T } from '../util/size.js';
import { utilNsmode, utilRegions } from './filter.js';
import { BASE_OPTIONS, optString } from './options.js';

const SZ_16M = 16 * SZ_1M;
const PAGE_SIZE = SZ_4K;
/** UINT_MAX: "no sector size" in validate_namespace_options(). */
const UINT_MAX = 0xffffffff;
/** ULLONG_MAX as a JS number: a capacity libndctl could not read. */
const ULLONG_MAX = Number.MAX_SAFE_INTEGER;
/** info_size of zero_info_block(): the first 8K of a namespace (its info block is at 4K). */
const INFO_SIZE = 8192;

type Action = 'enable' | 'disable' | 'create' | 'destroy';
type Mode = NdctlNamespaceMode | 'unknown';

/** struct parameters: the options as parsed, before they are checked against a region. */
interface Parameters {
  bus?: string;
  region?: string;
  map?: string;
  type?: string;
  uuid?: string;
  name?: string;
  size?: string;
  mode?: string;
  reconfig?: string;
  sectorSize?: string;
  align?: string;
  doScan: boolean;
  modeDefault: boolean;
  autolabel: boolean;
  greedy: boolean;
  autorecover: boolean;
}

/** struct parsed_parameters: what setup_namespace() applies. */
interface ParsedParameters {
  loc: NdctlPfnLoc;
  uuid: string;
  name: string;
  mode: Mode;
  size: number;
  sectorSize: number;
  align: number;
  autolabel: boolean;
  autorecover: boolean;
}

const DESTROY_OPTIONS: OptionSpec[] = [
  ...BASE_OPTIONS,
  {
    name: 'force',
    short: 'f',
    long: 'force',
    kind: 'boolean',
    help: 'destroy namespace even if currently active',
  },
];

const CREATE_OPTIONS: OptionSpec[] = [
  ...BASE_OPTIONS,
  {
    name: 'reconfig',
    short: 'e',
    long: 'reconfig',
    kind: 'string',
    arg: 'reconfig namespace',
    help: 'reconfigure existing namespace',
  },
  {
    name: 'uuid',
    short: 'u',
    long: 'uuid',
    kind: 'string',
    arg: 'uuid',
    help: 'specify the uuid for the namespace (default: autogenerate)',
  },
  {
    name: 'name',
    short: 'n',
    long: 'name',
    kind: 'string',
    arg: 'name',
    help: 'specify an optional free form name for the namespace',
  },
  {
    name: 'size',
    short: 's',
    long: 'size',
    kind: 'string',
    arg: 'size',
    help: 'specify the namespace size in bytes (default: available capacity)',
  },
  {
    name: 'mode',
    short: 'm',
    long: 'mode',
    kind: 'string',
    arg: 'operation-mode',
    help: "specify a mode for the namespace, 'sector', 'fsdax', 'devdax' or 'raw'",
  },
  {
    name: 'map',
    short: 'M',
    long: 'map',
    kind: 'string',
    arg: 'memmap-location',
    help: "specify 'mem' or 'dev' for the location of the memmap",
  },
  {
    name: 'sectorSize',
    short: 'l',
    long: 'sector-size',
    kind: 'string',
    arg: 'lba-size',
    help: 'specify the logical sector size in bytes',
  },
  {
    name: 'type',
    short: 't',
    long: 'type',
    kind: 'string',
    arg: 'type',
    help: "specify the type of namespace to create 'pmem' or 'blk'",
  },
  {
    name: 'align',
    short: 'a',
    long: 'align',
    kind: 'string',
    arg: 'align',
    help: 'specify the namespace alignment in bytes (default: 2M)',
  },
  {
    name: 'force',
    short: 'f',
    long: 'force',
    kind: 'boolean',
    help: 'reconfigure namespace even if currently active',
  },
  {
    name: 'autolabel',
    short: 'L',
    long: 'autolabel',
    kind: 'boolean',
    help: 'automatically initialize labels',
  },
  {
    name: 'greedy',
    short: 'c',
    long: 'continue',
    kind: 'boolean',
    help: 'continue creating namespaces as long as the filter criteria are met',
  },
  {
    name: 'autorecover',
    short: 'R',
    long: 'autorecover',
    kind: 'boolean',
    help: 'automatically cleanup on failure',
  },
];

/** uuid_parse(): exactly 36 characters, hex with dashes at 8, 13, 18 and 23. */
function uuidValid(s: string): boolean {
  return /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(s);
}

/** The units __parse_size64() reports: the multiplier of the size's suffix. */
function sizeUnits(s: string): number {
  const c = s.trim().slice(-1).toLowerCase();
  return { k: SZ_1K, m: SZ_1M, g: SZ_1G, t: SZ_1T }[c] ?? 1;
}

const isPow2 = (n: number): boolean => n > 0 && Number.isInteger(Math.log2(n));
const plural = (n: number): string => (n === 1 ? '' : 's');

/** run_builtin(): a command's return value masked into an exit status (-ENODEV -> 237). */
export function exitStatus(rc: number): number {
  return rc & 0xff;
}

/**
 * The namespace test of do_xaction_namespace(): "all" selects every namespace with a size or a uuid (not an
 * idle seed), any other name the namespace of that name.
 */
export function xactionSelects(ns: NdNamespace, namespace: string): boolean {
  if (namespace === 'all') return ns.size !== 0 || (ns.uuid !== null && ns.uuid !== NULL_UUID);
  return ns.devname === namespace;
}

/** One run of a namespace command: the statics of namespace.c (verbose, force, param, err_count, cmd_name). */
class NamespaceCommand {
  readonly k;
  readonly nd: NdConfigCtx;
  verbose = false;
  force = false;
  errCount = 0;
  cmdName = 'namespace';
  param: Parameters = {
    doScan: false,
    modeDefault: false,
    autolabel: true,
    greedy: false,
    autorecover: true,
  };

  constructor(readonly ctx: ToolContext) {
    this.k = ctx.kernel;
    this.nd = ndConfigNew(ctx);
  }

  /** error() of util/usage.c: "  Error: <message>" (the message carries ndctl's own trailing newline). */
  error(message: string): void {
    this.ctx.stderr(`  Error: ${message}\n`);
  }

  warning(message: string): void {
    this.ctx.stderr(`  Warning: ${message}\n`);
  }

  /** namespace.c's err(): counted, prefixed with the command name. */
  err(message: string): void {
    this.errCount++;
    this.error(`${this.cmdName}: ${message}`);
  }

  /** namespace.c's debug(): with -v, "<function>:<line of namespace.c v78>: <message>". */
  debug(fn: string, line: number, message: string): void {
    if (this.verbose) this.ctx.stderr(`${fn}:${line}: ${message}`);
  }

  /** set_defaults(): fills in type, mode and map for a create, and checks the option values; 0 or -EINVAL. */
  setDefaults(action: Action): number {
    const p = this.param;
    let rc = 0;
    if (p.type !== undefined) {
      if (p.type !== 'pmem' && p.type !== 'blk') {
        this.error(`invalid type '${p.type}', must be either 'pmem' or 'blk'\n`);
        rc = neg('EINVAL');
      }
    } else if (p.reconfig === undefined && action === 'create') p.type = 'pmem';

    if (p.mode !== undefined) {
      if (utilNsmode(p.mode) === null) {
        this.error(`invalid mode '${p.mode}'\n`);
        rc = neg('EINVAL');
      }
    } else if (p.reconfig === undefined && p.type !== undefined) {
      p.mode = p.type === 'pmem' ? 'fsdax' : 'sector';
      p.modeDefault = true;
    }

    if (p.map !== undefined) {
      if (p.map !== 'mem' && p.map !== 'dev') {
        this.error(`invalid map location '${p.map}'\n`);
        rc = neg('EINVAL');
      }
      if (p.reconfig === undefined && p.mode !== undefined && p.mode !== 'fsdax' && p.mode !== 'devdax') {
        this.error('--map only valid for an devdax mode pmem namespace\n');
        rc = neg('EINVAL');
      }
    } else if (p.reconfig === undefined) p.map = 'dev';

    if (p.type === 'blk' && (p.mode === 'fsdax' || p.mode === 'devdax')) {
      this.error("only 'pmem' namespaces support dax operation\n");
      rc = neg('ENXIO');
    }

    if (p.size !== undefined && parseSize64(p.size) === null) {
      this.error(`failed to parse namespace size '${p.size}'\n`);
      rc = neg('EINVAL');
    }

    if (p.align !== undefined) {
      const align = parseSize64(p.align);
      if (align === null) {
        this.error(`failed to parse namespace alignment '${p.align}'\n`);
        rc = neg('EINVAL');
      } else if (!isPow2(align) || align < PAGE_SIZE) {
        this.error(`align must be a power-of-2 greater than ${PAGE_SIZE}\n`);
        rc = neg('EINVAL');
      }
    }

    if (p.size !== undefined && parseSize64(p.size) === null) {
      this.error(`failed to parse namespace size '${p.size}'\n`);
      rc = neg('EINVAL');
    }

    if (p.uuid !== undefined && !uuidValid(p.uuid)) {
      this.error(`failed to parse uuid: '${p.uuid}'\n`);
      rc = neg('EINVAL');
    }

    if (p.sectorSize !== undefined) {
      if (parseSize64(p.sectorSize) === null) {
        this.error(`invalid sector size: ${p.sectorSize}\n`);
        rc = neg('EINVAL');
      }
    } else if (p.type === 'blk' || utilNsmode(p.mode) === 'sector') p.sectorSize = '4096';
    return rc;
  }

  /**
   * parse_namespace_options(): the options, set_defaults(), and the namespace argument; returns the namespace
   * to act on (for create, the -e namespace or null), or USAGE_EXIT after printing the usage.
   */
  parse(argv: string[], action: Action, specs: readonly OptionSpec[], usage: string): string | null | number {
    const parsed = parseOrUsage(this.ctx.stderr, usage, specs, argv);
    if (parsed === null) return USAGE_EXIT;
    const o = parsed.opts;
    this.verbose = o.verbose === true;
    this.force = o.force === true;
    this.param = {
      bus: optString(o.bus),
      region: optString(o.region),
      map: optString(o.map),
      type: optString(o.type),
      uuid: optString(o.uuid),
      name: optString(o.name),
      size: optString(o.size),
      mode: optString(o.mode),
      reconfig: optString(o.reconfig),
      sectorSize: optString(o.sectorSize),
      align: optString(o.align),
      doScan: argv.length === 0,
      modeDefault: false,
      autolabel: o.autolabel !== false,
      greedy: o.greedy === true,
      autorecover: o.autorecover !== false,
    };
    let rc = this.setDefaults(action);
    const args = parsed.args;
    if (args.length === 0 && action !== 'create') {
      this.error(`specify a namespace to ${action}, or "all"\n`);
      rc = neg('EINVAL');
    }
    for (let i = action === 'create' ? 0 : 1; i < args.length; i++) {
      this.error(`unknown extra parameter "${args[i]}"\n`);
      rc = neg('EINVAL');
    }
    if (rc !== 0) {
      this.ctx.stderr(usageText(usage, specs));
      return USAGE_EXIT;
    }
    return action === 'create' ? (this.param.reconfig ?? null) : args[0]!;
  }

  /** validate_available_capacity(): the default size is what the region has left; -EAGAIN when it lacks room. */
  validateAvailableCapacity(region: NdRegion, p: ParsedParameters): number {
    const available =
      region.nstype === ND_DEVICE_NAMESPACE_IO
        ? region.size
        : (region.maxAvailableExtent() ?? region.availableSize() ?? ULLONG_MAX);
    if (available === 0 || p.size > available) {
      this.debug(
        'validate_available_capacity',
        623,
        `${region.devname}: insufficient capacity size: ${p.size.toString(16)} avail: ${available.toString(16)}\n`,
      );
      return neg('EAGAIN');
    }
    if (p.size === 0) p.size = available;
    return 0;
  }

  /**
   * validate_namespace_options(): the parameters for creating on `region` (ns null) or reconfiguring `ns`,
   * with defaults taken from the region's seeds or from the namespace itself; a negative errno on failure
   * (-EAGAIN: try the next region).
   */
  validateNamespaceOptions(region: NdRegion, ns: string | null): { rc: number; p: ParsedParameters } {
    const k = this.k;
    const param = this.param;
    const regionName = region.devname;
    const p: ParsedParameters = {
      loc: 'none',
      uuid: '',
      name: '',
      mode: 'fsdax',
      size: 0,
      sectorSize: 0,
      align: 0,
      autolabel: false,
      autorecover: false,
    };
    const fail = (rc: number) => ({ rc, p });
    let units = 1;
    let defaultSize = false;

    if (!region.isEnabled()) {
      this.debug('validate_namespace_options', 663, `${regionName}: disabled, skipping...\n`);
      return fail(neg('EAGAIN'));
    }

    if (param.size !== undefined) {
      p.size = parseSize64(param.size) ?? 0;
      units = sizeUnits(param.size);
    } else if (ns !== null) p.size = ndctlNamespaceGetSize(k, ns);
    else defaultSize = true;

    if (ns === null) {
      const rc = this.validateAvailableCapacity(region, p);
      if (rc !== 0) return fail(rc);
    }

    if (region.nstype === ND_DEVICE_NAMESPACE_IO && p.size !== region.size) {
      this.error('Legacy / label-less namespaces do not support sub-dividing a region\n');
      this.error('Retry without -s/--size=\n');
      return fail(neg('EINVAL'));
    }

    p.uuid = param.uuid !== undefined ? param.uuid.toLowerCase() : randomUUID();

    if (param.name !== undefined) p.name = param.name;
    else if (ns !== null) p.name = ndctlNamespaceGetAltName(k, ns);
    if (Buffer.byteLength(p.name) >= 64) {
      this.err('validate_namespace_options: alt name overflow\n');
      return fail(neg('EINVAL'));
    }

    if (param.mode !== undefined) {
      p.mode = utilNsmode(param.mode) ?? 'unknown';
      if (region.type !== 'pmem' && (p.mode === 'fsdax' || p.mode === 'devdax')) {
        this.err(`blk ${regionName} does not support ${p.mode} mode\n`);
        return fail(neg('EAGAIN'));
      }
    } else if (ns !== null) p.mode = ndctlNamespaceGetMode(k, ns) ?? 'unknown';

    let pfn: string | null = null;
    let dax: string | null = null;
    if (p.mode === 'fsdax') {
      pfn = ndctlRegionGetPfnSeed(k, regionName);
      if (pfn === null && param.modeDefault) {
        this.err(`${regionName} fsdax mode not available\n`);
        p.mode = 'raw';
      }
    } else if (p.mode === 'devdax') {
      dax = ndctlRegionGetDaxSeed(k, regionName);
      if (dax === null) {
        this.error('Kernel does not support devdax mode\n');
        return fail(neg('ENODEV'));
      }
    }

    if (param.align !== undefined) {
      let alignments: number[];
      if (p.mode === 'fsdax') {
        if (pfn === null) {
          this.error('Kernel does not support setting an alignment in fsdax mode\n');
          return fail(neg('EINVAL'));
        }
        alignments = ndctlClaimGetSupportedAlignments(k, pfn);
      } else if (p.mode === 'devdax') {
        alignments = ndctlClaimGetSupportedAlignments(k, dax!);
      } else {
        this.error(`${p.mode} mode does not support setting an alignment\n`);
        return fail(neg('ENXIO'));
      }
      p.align = parseSize64(param.align) ?? 0;
      if (!alignments.includes(p.align)) {
        this.error(`unsupported align: ${param.align}\n`);
        return fail(neg('ENXIO'));
      }
    } else {
      if (ns !== null && p.mode === (ndctlNamespaceGetMode(k, ns) ?? 'unknown')) {
        const nsPfn = ndctlNamespaceGetClaim(k, ns, 'pfn');
        const nsDax = ndctlNamespaceGetClaim(k, ns, 'dax');
        if (nsPfn !== null) p.align = ndctlClaimGetAlign(k, nsPfn);
        else if (nsDax !== null) p.align = ndctlClaimGetAlign(k, nsDax);
        else p.align = PAGE_SIZE;
      } else if (p.mode === 'fsdax') {
        p.align = pfn !== null && ndctlClaimHasAlign(k, pfn) ? ndctlClaimGetAlign(k, pfn) : SZ_2M;
      } else if (p.mode === 'devdax') {
        p.align = ndctlClaimGetAlign(k, dax!);
      } else p.align = PAGE_SIZE;

      const resource = region.resource();
      if (resource !== null && p.align > 0 && resource % p.align !== 0) {
        this.debug('validate_namespace_options', 834, `${regionName}: falling back to a page alignment\n`);
        p.align = PAGE_SIZE;
      }
    }

    const regionAlign = region.align;
    if (regionAlign !== null && regionAlign > 0 && p.size % regionAlign !== 0) {
      this.err(
        `${regionName}: align setting is 0x${regionAlign.toString(16)} size 0x${p.size.toString(16)} is misaligned\n`,
      );
      return fail(neg('EINVAL'));
    }

    const ways = region.interleaveWays;
    if (p.align === 0 || p.size % (p.align * ways) !== 0) {
      const suffix = { [SZ_1K]: 'K', [SZ_1M]: 'M', [SZ_1G]: 'G', [SZ_1T]: 'T' }[units] ?? '';
      const sizeAlign = Math.max(units, p.align) * ways;
      const suggest = ((Math.floor(p.size / sizeAlign) + 1) * sizeAlign) / units;
      this.err(
        `'--size=' must align to interleave-width: ${ways} and alignment: ${p.align}\n` +
          `did you intend --size=${suggest}${suffix}?\n`,
      );
      return fail(neg('EINVAL'));
    }

    if (p.size < SZ_16M && p.mode !== 'raw') {
      if (defaultSize) {
        this.debug(
          'validate_namespace_options',
          885,
          `${regionName}: insufficient capacity for mode: ${p.mode}\n`,
        );
        return fail(neg('EAGAIN'));
      }
      this.error(`'--size=' must be >= 16MiB for '${p.mode}' mode\n`);
      return fail(neg('EINVAL'));
    }

    if (param.sectorSize !== undefined) {
      p.sectorSize = parseSize64(param.sectorSize) ?? 0;
      const btt = ndctlRegionGetBttSeed(k, regionName);
      if (p.mode === 'sector') {
        if (btt === null) {
          this.err(`${regionName}: does not support 'sector' mode\n`);
          return fail(neg('EINVAL'));
        }
      } else {
        const seed = ns ?? ndctlRegionGetNamespaceSeed(k, regionName);
        if (seed === null) {
          this.err(`${regionName}: failed to get seed\n`);
          return fail(neg('ENXIO'));
        }
        if (ndctlNamespaceGetNumSectorSizes(k, seed) === 0) {
          this.err(`${regionName}: does not support namespace sector_size ${p.sectorSize}\n`);
          return fail(neg('EINVAL'));
        }
      }
    } else if (ns !== null) {
      p.sectorSize = 0;
    } else {
      const seed = ndctlRegionGetNamespaceSeed(k, regionName);
      if (seed === null) {
        this.err(`${regionName}: failed to get seed\n`);
        return fail(neg('ENXIO'));
      }
      p.sectorSize = ndctlNamespaceGetNumSectorSizes(k, seed) === 0 ? UINT_MAX : 512;
    }

    if (param.map !== undefined) {
      p.loc = param.map === 'mem' ? 'ram' : 'pmem';
      if (ns !== null && p.mode !== 'fsdax' && p.mode !== 'devdax') {
        this.err(`${ns}: --map= only valid for fsdax mode namespace\n`);
        return fail(neg('EINVAL'));
      }
    } else if (p.mode === 'fsdax' || p.mode === 'devdax') p.loc = 'pmem';

    if (pfn === null && this.doSetupPfn(ns, p)) {
      this.error(`operation failed, ${regionName} cannot support requested mode\n`);
      return fail(neg('EINVAL'));
    }

    p.autolabel = param.autolabel;
    p.autorecover = param.autorecover;
    return { rc: 0, p };
  }

  /** do_setup_pfn(): fsdax needs a pfn device unless the namespace is already fsdax with its memmap in RAM. */
  doSetupPfn(ns: string | null, p: ParsedParameters): boolean {
    if (p.mode !== 'fsdax') return false;
    return ns === null || ndctlNamespaceGetMode(this.k, ns) !== 'fsdax' || p.loc === 'pmem';
  }

  /** check_dax_align(): the namespace must start 16M-aligned unless forced; -EINVAL. */
  checkDaxAlign(ns: string): number {
    const resource = ndctlNamespaceGetResource(this.k, ns);
    if (resource === null) {
      this.warning(`${ns} unable to validate alignment\n`);
      return 0;
    }
    if (resource % SZ_16M === 0 || this.force) return 0;
    this.error(`${ns} misaligned to 16M, adjust region alignment and retry\n`);
    return neg('EINVAL');
  }

  /** The `try()` macro: runs a setter; on failure reports "<dev>: <op> failed: <strerror>" and returns its rc. */
  async tryOp(dev: string, op: string, run: () => Promise<number>): Promise<number> {
    const rc = await run();
    if (rc !== 0) this.err(`${dev}: ${op} failed: ${strerror(Math.abs(rc))}\n`);
    return rc;
  }

  /**
   * setup_namespace(): uuid, name and size on a labelled namespace, then the claim device the mode needs
   * (pfn for fsdax, dax for devdax) configured, linked and enabled — or the namespace enabled raw; prints the
   * namespace's JSON on success. A claim that fails to enable is unlinked again (autorecover).
   */
  async setupNamespace(region: NdRegion, ns: string, p: ParsedParameters): Promise<number> {
    const k = this.k;
    const nd = this.nd;
    let rc: number;
    if (ndctlNamespaceGetType(k, ns) !== ND_DEVICE_NAMESPACE_IO) {
      rc = await this.tryOp(ns, 'set_uuid', () => ndctlNamespaceSetUuid(nd, ns, p.uuid));
      if (rc) return rc;
      rc = await this.tryOp(ns, 'set_alt_name', () => ndctlNamespaceSetAltName(nd, ns, p.name));
      if (rc) return rc;
      rc = await this.tryOp(ns, 'set_size', () => ndctlNamespaceSetSize(nd, ns, p.size));
      if (rc) return rc;
    }

    if (p.sectorSize !== 0 && p.sectorSize < UINT_MAX) {
      if (ndctlNamespaceGetNumSectorSizes(k, ns) === 0 && p.mode !== 'sector' && p.sectorSize !== 512) {
        this.error(`${ns}: sector_size: ${p.sectorSize} not supported\n`);
        return neg('EINVAL');
      }
    }

    const uuid = randomUUID();
    if (p.mode !== 'unknown') await ndctlNamespaceSetEnforceMode(nd, ns, p.mode);

    if (this.doSetupPfn(ns, p) || p.mode === 'devdax') {
      const claim =
        p.mode === 'devdax'
          ? ndctlRegionGetDaxSeed(k, region.devname)
          : ndctlRegionGetPfnSeed(k, region.devname);
      if (claim === null) return neg('ENXIO');
      rc = this.checkDaxAlign(ns);
      if (rc) return rc;
      rc = await this.tryOp(claim, 'set_uuid', () => ndctlClaimSetUuid(nd, claim, uuid));
      if (rc) return rc;
      rc = await this.tryOp(claim, 'set_location', () => ndctlClaimSetLocation(nd, claim, p.loc));
      if (rc) return rc;
      if (p.mode === 'devdax' || ndctlClaimHasAlign(k, claim)) {
        rc = await this.tryOp(claim, 'set_align', () => ndctlClaimSetAlign(nd, claim, p.align));
        if (rc) return rc;
      }
      rc = await this.tryOp(claim, 'set_namespace', () => ndctlClaimSetNamespace(nd, claim, ns));
      if (rc) return rc;
      rc = await ndctlClaimEnable(nd, claim);
      if (rc && p.autorecover) await ndctlClaimSetNamespace(nd, claim, null);
    } else if (p.mode === 'sector') {
      // ndctl_region_get_btt_seed() is NULL: this kernel has no BTT.
      return neg('ENXIO');
    } else rc = await ndctlNamespaceEnable(nd, ns);

    if (rc) this.error(`${ns}: failed to enable\n`);
    else {
      const fresh = findNamespace(new NdctlCtx(k), ns);
      const json =
        fresh === null
          ? null
          : namespaceToJson(k, fresh, { daxDevices: true, human: this.ctx.stdoutIsTTY === true });
      if (json !== null) printJson(this.ctx, json);
    }
    return rc;
  }

  /** region_get_namespace(): the region's namespace 0 when configuration-idle, else its namespace seed. */
  regionGetNamespace(region: NdRegion): string | null {
    const k = this.k;
    for (const ns of region.namespaces())
      if (ns.id === 0 && k.sysfs.exists(ns.path) && ndctlNamespaceIsConfigurationIdle(k, ns.devname))
        return ns.devname;
    return ndctlRegionGetNamespaceSeed(k, region.devname);
  }

  /**
   * namespace_create(): validates against the region, takes its idle namespace and sets it up; on failure
   * (autorecover) the namespace's capacity and uuid are released again. -EAGAIN when the region cannot host
   * the namespace.
   */
  async namespaceCreate(region: NdRegion): Promise<number> {
    const { rc: vrc, p } = this.validateNamespaceOptions(region, null);
    if (vrc) return vrc;
    const devname = region.devname;
    if (region.readOnly) {
      this.debug('namespace_create', 1023, `${devname}: read-only, ineligible for namespace creation\n`);
      return neg('EAGAIN');
    }
    const ns = this.regionGetNamespace(region);
    if (ns === null || !ndctlNamespaceIsConfigurationIdle(this.k, ns)) {
      this.debug(
        'namespace_create',
        1030,
        `${devname}: no ${ns !== null ? 'idle' : 'available'} namespace seed\n`,
      );
      return neg('EAGAIN');
    }
    const rc = await this.setupNamespace(region, ns, p);
    if (rc && p.autorecover) {
      await ndctlNamespaceSetEnforceMode(this.nd, ns, 'raw');
      await ndctlNamespaceDelete(this.nd, ns);
    }
    return rc;
  }

  /**
   * zero_info_block(): binds the namespace raw (force_raw) and zeroes its first 8K through its block device,
   * unless already zero. 0 when zeroed, 1 when skipped, a negative errno on a failed write.
   */
  async zeroInfoBlock(ns: string): Promise<number> {
    const k = this.k;
    const nd = this.nd;
    let rc: number;
    await ndctlNamespaceSetRawMode(nd, ns, true);
    rc = await ndctlNamespaceEnable(nd, ns);
    if (rc < 0) {
      this.err(`${ns} failed to enable for zeroing, continuing\n`);
      rc = 1;
    } else {
      const path = `/dev/${ndctlGetBlockDevice(k, ns)}`;
      const t = k.spawn('ndctl');
      try {
        let fd: number | null = null;
        try {
          fd = t.open(path, O_RDWR);
        } catch {
          this.err(`${ns}: failed to open ${path} to zero info block\n`);
        }
        if (fd !== null) {
          const zero = new Uint8Array(INFO_SIZE);
          const readBuf = new Uint8Array(INFO_SIZE);
          let n: number;
          try {
            n = t.pread(fd, readBuf, 0);
          } catch {
            n = -1;
          }
          if (n < INFO_SIZE) this.err(`${ns}: failed to read info block, continuing\n`);
          if (readBuf.every((b) => b === 0)) rc = 1;
          else {
            try {
              n = t.pwrite(fd, zero, 0);
            } catch {
              n = -1;
            }
            if (n < INFO_SIZE) {
              this.err(`${ns}: failed to zero info block ${path}\n`);
              rc = neg('ENXIO');
            } else rc = 0;
          }
          t.close(fd);
        }
      } finally {
        t.exit();
        k.reapTask(t);
      }
    }
    await ndctlNamespaceSetRawMode(nd, ns, false);
    await ndctlNamespaceDisableInvalidate(nd, ns);
    return rc;
  }

  /**
   * namespace_prep_reconfig(): refuses a read-only region (-ENXIO) and, without --force, an active namespace
   * (-EBUSY); disables the namespace (claim first) and zeroes its info block. 2 for a labelled namespace (its
   * capacity can be released), else 0 when an info block was zeroed and 1 when there was none.
   */
  async namespacePrepReconfig(region: NdRegion, ns: string): Promise<number> {
    const k = this.k;
    if (region.readOnly) {
      this.error(`${ns}: read-only, re-configuration disabled\n`);
      return neg('ENXIO');
    }
    if (ndctlNamespaceIsActive(k, ns) && !this.force) {
      this.error(`${ns} is active, specify --force for re-configuration\n`);
      return neg('EBUSY');
    }
    let rc = await ndctlNamespaceDisableSafe(this.nd, ns);
    if (rc) return rc;
    await ndctlNamespaceSetEnforceMode(this.nd, ns, 'raw');
    rc = await this.zeroInfoBlock(ns);
    if (rc < 0) return rc;
    const didZero = rc === 0;
    const t = ndctlNamespaceGetType(k, ns);
    if (t === ND_DEVICE_NAMESPACE_PMEM || t === ND_DEVICE_NAMESPACE_BLK) return 2;
    return didZero ? 0 : 1;
  }

  /** namespace_destroy(): prep_reconfig, then a labelled namespace's capacity is released (size 0). */
  async namespaceDestroy(region: NdRegion, ns: string): Promise<number> {
    let rc = await this.namespacePrepReconfig(region, ns);
    if (rc < 0) return rc;
    if (rc === 2) {
      rc = await ndctlNamespaceDelete(this.nd, ns);
      if (rc) this.debug('namespace_destroy', 1176, `${ns}: failed to reclaim\n`);
    }
    return rc;
  }

  /**
   * enable_labels(): ndctl initializes labels on a label-less region whose DIMMs all support the label
   * commands. -ENODEV when they do not (nfit_test.1), and the namespace stays label-less.
   */
  enableLabels(region: NdRegion): number {
    if (region.numMappings === 0) return neg('ENODEV');
    const dimms = region.dimms();
    const capable = dimms.filter((d) => ndctlDimmSupportsLabels(this.k, d.devname)).length;
    if (capable !== region.numMappings) return neg('ENODEV');
    return neg('ENODEV');
  }

  /**
   * namespace_reconfig(): validates the new configuration against the namespace (keeping its size and name,
   * with a fresh uuid unless -u), tears its old personality down, and sets it up again.
   */
  async namespaceReconfig(region: NdRegion, ns: string): Promise<number> {
    const { rc: vrc, p } = this.validateNamespaceOptions(region, ns);
    if (vrc) return vrc;
    let rc = await this.namespacePrepReconfig(region, ns);
    if (rc < 0) return rc;
    let target: string | null = ns;
    if (region.nstype === ND_DEVICE_NAMESPACE_IO && p.autolabel) {
      rc = this.enableLabels(region);
      if (rc !== neg('ENODEV')) target = this.regionGetNamespace(region);
      if (target === null || (rc !== neg('ENODEV') && !ndctlNamespaceIsConfigurationIdle(this.k, target))) {
        this.debug(
          'namespace_reconfig',
          1292,
          `${region.devname}: no ${target !== null ? 'idle' : 'available'} namespace seed\n`,
        );
        return neg('ENODEV');
      }
    }
    return this.setupNamespace(region, target, p);
  }

  /**
   * do_xaction_namespace(): walks buses and regions (filtered by -b, -r and the type) and applies `action` to
   * the named namespace, to "all", or — create without -e — to the first region that can host a new one (every
   * fitting region with -c). Returns the rc and how many namespaces were processed.
   */
  async doXaction(namespace: string | null, action: Action): Promise<{ rc: number; processed: number }> {
    const param = this.param;
    let rc = neg('ENXIO');
    let savedRc = 0;
    let processed = 0;
    const finish = (r: number) => ({ rc: savedRc !== 0 ? savedRc : r, processed });

    if (namespace === null && action !== 'create') return finish(rc);
    if (namespace === 'all') rc = 0;
    this.cmdName = `${action} namespace`;

    for (const region of utilRegions(new NdctlCtx(this.k), param.bus, param.region)) {
      if (param.type !== undefined && param.type !== region.type) continue;

      if (action === 'create' && namespace === null) {
        rc = await this.namespaceCreate(region);
        if (rc === neg('EAGAIN')) continue;
        if (rc === 0) {
          processed++;
          if (param.greedy) continue;
        } else if (param.greedy && this.force) {
          savedRc = rc;
          continue;
        }
        return finish(rc);
      }

      for (const ndns of [...region.namespaces()]) {
        if (!xactionSelects(ndns, namespace!)) continue;
        const name = ndns.devname;
        switch (action) {
          case 'disable':
            rc = await ndctlNamespaceDisableSafe(this.nd, name);
            if (rc === 0) processed++;
            break;
          case 'enable':
            rc = await ndctlNamespaceEnable(this.nd, name);
            if (rc >= 0) {
              processed++;
              rc = 0;
            }
            break;
          case 'destroy':
            rc = await this.namespaceDestroy(region, name);
            if (rc === 0) processed++;
            if (rc > 0) rc = 0;
            break;
          case 'create':
            rc = await this.namespaceReconfig(region, name);
            if (rc === 0) processed = 1;
            return { rc, processed };
        }
      }
    }

    if (action === 'create' && rc === neg('EAGAIN')) rc = param.greedy && processed > 0 ? 0 : neg('ENOSPC');
    return finish(rc);
  }
}

/**
 * cmd_create_namespace(): `ndctl create-namespace [<options>]`. Prints the new (or -e reconfigured)
 * namespace's JSON; on failure "failed to create namespace: <strerror>" (exit status from -ENODEV) unless a
 * counted error was printed already. With no options at all, a failed pmem attempt is retried as blk.
 */
export async function cmdCreateNamespace(ctx: ToolContext, argv: string[]): Promise<number> {
  const c = new NamespaceCommand(ctx);
  const namespace = c.parse(argv, 'create', CREATE_OPTIONS, 'ndctl create-namespace [<options>]');
  if (typeof namespace === 'number') return namespace;
  let { rc, processed: created } = await c.doXaction(namespace, 'create');
  if (rc < 0 && created < 1 && c.param.doScan) {
    c.param = {
      type: 'blk',
      doScan: false,
      modeDefault: false,
      autolabel: false,
      greedy: false,
      autorecover: false,
    };
    c.setDefaults('create');
    ({ rc, processed: created } = await c.doXaction(null, 'create'));
  }
  if (c.param.greedy) ctx.stderr(`created ${created} namespace${plural(created)}\n`);
  if ((rc < 0 || (namespace === null && created < 1)) && c.errCount === 0) {
    ctx.stderr(`failed to ${namespace !== null ? 'reconfigure' : 'create'} namespace: ${strerror(-rc)}\n`);
    if (namespace === null) rc = neg('ENODEV');
  }
  return exitStatus(rc);
}

/** The enable/disable/destroy commands: the action over the named namespace or "all", then the count. */
async function xableNamespace(
  ctx: ToolContext,
  argv: string[],
  action: Exclude<Action, 'create'>,
  specs: readonly OptionSpec[],
): Promise<number> {
  const c = new NamespaceCommand(ctx);
  const namespace = c.parse(argv, action, specs, `ndctl ${action}-namespace <namespace> [<options>]`);
  if (typeof namespace === 'number') return namespace;
  const { rc, processed } = await c.doXaction(namespace, action);
  const [verb, past] = {
    enable: ['enabling', 'enabled'],
    disable: ['disabling', 'disabled'],
    destroy: ['destroying', 'destroyed'],
  }[action];
  if (rc < 0 && c.errCount === 0) ctx.stderr(`error ${verb} namespaces: ${strerror(-rc)}\n`);
  ctx.stderr(`${past} ${processed} namespace${plural(processed)}\n`);
  return exitStatus(rc);
}

/**
 * cmd_destroy_namespace(): `ndctl destroy-namespace <namespace>|all [-r region] [-f]`: zeroes each claim's
 * info block and releases the namespace's capacity; an active namespace needs --force.
 */
export function cmdDestroyNamespace(ctx: ToolContext, argv: string[]): Promise<number> {
  return xableNamespace(ctx, argv, 'destroy', DESTROY_OPTIONS);
}

/** cmd_enable_namespace(): binds each named namespace (or the claim device its info block describes). */
export function cmdEnableNamespace(ctx: ToolContext, argv: string[]): Promise<number> {
  return xableNamespace(ctx, argv, 'enable', BASE_OPTIONS);
}

/** cmd_disable_namespace(): ndctl_namespace_disable_safe() on each named namespace (claim device first). */
export function cmdDisableNamespace(ctx: ToolContext, argv: string[]): Promise<number> {
  return xableNamespace(ctx, argv, 'disable', BASE_OPTIONS);
}
