/**
 * ndctl/dimm.c (ndctl v78): the label commands — `init-labels`, `read-labels` and `zero-labels` — over the
 * DIMMs named (nmemN... or all, optionally on one bus), through the DIMMs' config-data ioctls on /dev/nmemN.
 * Messages, JSON (read-labels -j) and exit statuses follow dimm_action() and its actions.
 *
 * Departures: read-labels writes binary label data only to a file (-o): standard output carries text here, so
 * without -o it needs -j. With -s/-O the extent [offset, offset+size) is read or zeroed (the C library's
 * iteration ignores the offset; this does what the options describe). -v is accepted; libndctl's debug log is
 * not printed.
 */
import { resolve } from 'node:path';
import { errnoValue } from '@daxsim/kernel';
import { ND_NAMESPACE_INDEX_OFFSETS, ND_NAMESPACE_LABEL_OFFSETS, NSINDEX_SIG_LEN } from '@daxsim/nvdimm-sim';
import type { ToolContext } from '../context.js';
import {
  type NdctlNamespaceVersion,
  type NvdimmData,
  ndctlDimmInitLabels,
  ndctlDimmIsActive,
  ndctlDimmReadLabelExtent,
  ndctlDimmReadLabelIndex,
  ndctlDimmRevalidate,
  ndctlDimmSizeofNamespaceIndex,
  ndctlDimmSizeofNamespaceLabel,
  ndctlDimmValidateLabels,
  ndctlDimmZeroLabelExtent,
} from '../lib/dimm.js';
import { ndctlCmdCfgReadGetData, ndctlCmdCfgReadGetSize } from '../lib/ioctl.js';
import { NdctlCtx, type NdDimm } from '../lib/libndctl.js';
import { type NdConfigCtx, ndConfigNew, neg } from '../lib/namespace_config.js';
import { strerror } from '../lib/strerror.js';
import {
  displaySizeJson,
  type JsonFlags,
  type JsonObject,
  type JsonValue,
  jsonHex,
  jsonToString,
} from '../util/json.js';
import { type OptionSpec, parseOrUsage, USAGE_EXIT, usageText } from '../util/parse_options.js';
import { parseUinteger } from './bus.js';
import { utilBusFilter, utilDimmFilter } from './filter.js';
import { optString } from './options.js';

const IX = ND_NAMESPACE_INDEX_OFFSETS;
const LB = ND_NAMESPACE_LABEL_OFFSETS;
/** sizeof(struct namespace_index) in ndctl (free[] excluded). */
const SIZEOF_NAMESPACE_INDEX = 72;

const BASE_OPTIONS: OptionSpec[] = [
  {
    name: 'bus',
    short: 'b',
    long: 'bus',
    kind: 'string',
    arg: 'bus-id',
    help: '<nmem> must be on a bus with an id/provider of <bus-id>',
  },
  { name: 'verbose', short: 'v', long: 'verbose', kind: 'boolean', help: 'turn on debug' },
];
const LABEL_OPTIONS: OptionSpec[] = [
  {
    name: 'size',
    short: 's',
    long: 'size',
    kind: 'string',
    arg: 'n',
    help: 'number of label bytes to operate',
  },
  {
    name: 'offset',
    short: 'O',
    long: 'offset',
    kind: 'string',
    arg: 'n',
    help: 'offset into the label area to start operation',
  },
];
const READ_OPTIONS: OptionSpec[] = [
  {
    name: 'output',
    short: 'o',
    long: 'output',
    kind: 'string',
    arg: 'output-file',
    help: 'filename to write label area contents',
  },
  { name: 'json', short: 'j', long: 'json', kind: 'boolean', help: 'parse label data into json' },
  {
    name: 'human',
    short: 'u',
    long: 'human',
    kind: 'boolean',
    help: 'use human friendly number formats (implies --json)',
  },
  { name: 'index', short: 'I', long: 'index', kind: 'boolean', help: 'limit read to the index block area' },
];
const INIT_OPTIONS: OptionSpec[] = [
  {
    name: 'force',
    short: 'f',
    long: 'force',
    kind: 'boolean',
    help: 'force initialization even if existing index-block present',
  },
  {
    name: 'labelVersion',
    short: 'V',
    long: 'label-version',
    kind: 'string',
    arg: 'version-number',
    help: 'namespace label specification version (default: 1.1)',
  },
];

const readOptions = [...BASE_OPTIONS, ...LABEL_OPTIONS, ...READ_OPTIONS];
const zeroOptions = [...BASE_OPTIONS, ...LABEL_OPTIONS];
const initOptions = [...BASE_OPTIONS, ...INIT_OPTIONS];

interface Params {
  bus?: string;
  outfile?: string;
  labelversion: string;
  len: number;
  offset: number;
  human: boolean;
  force: boolean;
  index: boolean;
  json: boolean;
}

/** Where read-labels output goes: standard output (text), or a host file. */
interface Output {
  text(s: string): void;
  bytes(b: Uint8Array): boolean;
  close(): void;
  isStdout: boolean;
}

/** struct action_context. */
interface ActionContext {
  nd: NdConfigCtx;
  stderr: (text: string) => void;
  params: Params;
  version: NdctlNamespaceVersion;
  jdimms: JsonValue[] | null;
  out: Output | null;
}

type Action = (dimm: NdDimm, actx: ActionContext) => Promise<number>;

/** uuid_unparse(). */
function uuidString(b: Uint8Array): string {
  const h = Buffer.from(b).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** A C string in `b` (up to the first NUL). */
function cString(b: Uint8Array, decode: (x: Uint8Array) => string): string {
  const nul = b.indexOf(0);
  return decode(nul < 0 ? b : b.subarray(0, nul));
}

/** A little-endian u64 as json-c prints it: a number, or a bigint past 2^53. */
function u64(v: DataView, off: number): number | bigint {
  const x = v.getBigUint64(off, true);
  return x <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(x) : x;
}

/** util_json_object_size() of a u64. */
function jsonSize64(x: number | bigint, flags: JsonFlags): number | bigint | string {
  return flags.human ? displaySizeJson(x) : x;
}

/** dump_index_json(): both index block headers; null where the area is too small or nothing could be read. */
function dumpIndexJson(
  actx: ActionContext,
  dimm: NdDimm,
  ndd: NvdimmData,
  size: number,
): JsonObject[] | null {
  const nsindexSize = ndctlDimmSizeofNamespaceIndex(actx.nd, dimm, ndd);
  if (nsindexSize === 0) return null;
  const out: JsonObject[] = [];
  for (let offset = 0; offset < nsindexSize * 2; offset += nsindexSize) {
    if (Math.min(SIZEOF_NAMESPACE_INDEX, size - offset) < SIZEOF_NAMESPACE_INDEX) break;
    const b = ndctlCmdCfgReadGetData(ndd.read, SIZEOF_NAMESPACE_INDEX, offset);
    if (typeof b === 'number') break;
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    out.push({
      signature: cString(b.subarray(IX.sig, IX.sig + NSINDEX_SIG_LEN - 1), (x) => String.fromCharCode(...x)),
      major: v.getUint16(IX.major, true),
      minor: v.getUint16(IX.minor, true),
      labelsize: (1 << (7 + b[IX.labelsize]!)) | 0,
      seq: v.getUint32(IX.seq, true) | 0,
      nslot: v.getUint32(IX.nslot, true) | 0,
    });
  }
  return out.length > 0 ? out : null;
}

/** dump_label_json(): every label slot whose recorded slot number is its own; null when there is none. */
function dumpLabelJson(
  actx: ActionContext,
  dimm: NdDimm,
  ndd: NvdimmData,
  size: number,
  flags: JsonFlags,
): JsonObject[] | null {
  const nsindexSize = ndctlDimmSizeofNamespaceIndex(actx.nd, dimm, ndd);
  if (nsindexSize === 0) return null;
  const labelSize = ndctlDimmSizeofNamespaceLabel(ndd);
  const out: JsonObject[] = [];
  for (let offset = nsindexSize * 2, slot = 0; offset < size; offset += labelSize, slot++) {
    if (Math.min(labelSize, size - offset) < labelSize) break;
    const b = ndctlCmdCfgReadGetData(ndd.read, labelSize, offset);
    if (typeof b === 'number') break;
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    if (v.getUint32(LB.slot, true) !== slot) continue;
    const jlabel: JsonObject = {
      uuid: uuidString(b.subarray(LB.uuid, LB.uuid + 16)),
      name: cString(b.subarray(LB.name, LB.name + 63), (x) => new TextDecoder().decode(x)),
      slot: v.getUint32(LB.slot, true) | 0,
      position: v.getUint16(LB.position, true),
      nlabel: v.getUint16(LB.nlabel, true),
      flags: jsonHex(v.getUint32(LB.flags, true), flags),
      isetcookie: jsonHex(v.getBigUint64(LB.isetcookie, true), flags),
      lbasize: u64(v, LB.lbasize),
      dpa: jsonHex(u64(v, LB.dpa), flags),
      rawsize: jsonSize64(u64(v, LB.rawsize), flags),
    };
    if (labelSize >= 256) {
      jlabel.type_guid = uuidString(b.subarray(128, 144));
      jlabel.abstraction_guid = uuidString(b.subarray(144, 160));
    }
    out.push(jlabel);
  }
  return out.length > 0 ? out : null;
}

/** dump_json(): {dev, index, label}; null (the caller's -ENOMEM) when a part is missing. */
function dumpJson(actx: ActionContext, dimm: NdDimm, ndd: NvdimmData, size: number): JsonObject | null {
  const jindex = dumpIndexJson(actx, dimm, ndd, size);
  if (jindex === null) return null;
  const jdimm: JsonObject = { dev: dimm.devname, index: jindex };
  if (actx.params.index) return jdimm;
  const jlabel = dumpLabelJson(actx, dimm, ndd, size, { human: actx.params.human });
  if (jlabel === null) return null;
  jdimm.label = jlabel;
  return jdimm;
}

/** action_read(): the label area (or its index blocks) as JSON, or as bytes to the output file. */
async function actionRead(dimm: NdDimm, actx: ActionContext): Promise<number> {
  const p = actx.params;
  const ndd = p.index
    ? await ndctlDimmReadLabelIndex(actx.nd, dimm)
    : await ndctlDimmReadLabelExtent(actx.nd, dimm, p.len, p.offset);
  if (ndd === null) return neg('EINVAL');
  const size = ndctlCmdCfgReadGetSize(ndd.read);
  if (actx.jdimms !== null) {
    const jdimm = dumpJson(actx, dimm, ndd, size);
    if (jdimm === null) return neg('ENOMEM');
    actx.jdimms.push(jdimm);
    return 0;
  }
  const start = p.index ? 0 : p.offset;
  const data = ndctlCmdCfgReadGetData(ndd.read, size, start);
  if (typeof data === 'number') return data;
  return actx.out?.bytes(data) ? 0 : neg('ENXIO');
}

/** action_zero(). */
async function actionZero(dimm: NdDimm, actx: ActionContext): Promise<number> {
  if (ndctlDimmIsActive(dimm) === 1) return regionsActive(actx, dimm);
  return ndctlDimmZeroLabelExtent(actx.nd, dimm, actx.params.len, actx.params.offset);
}

function regionsActive(actx: ActionContext, dimm: NdDimm): number {
  actx.stderr(`${dimm.devname}: regions active, abort label write\n`);
  return neg('EBUSY');
}

/** __action_init(): a fresh pair of index blocks, unless the DIMM is in use or already labelled (without -f). */
async function actionInit(dimm: NdDimm, actx: ActionContext): Promise<number> {
  const ndd = await ndctlDimmReadLabelIndex(actx.nd, dimm);
  if (ndd === null) return neg('ENXIO');
  if (ndctlDimmIsActive(dimm) === 1) return regionsActive(actx, dimm);
  let rc = ndctlDimmValidateLabels(actx.nd, dimm, ndd);
  if (rc >= 0 && !actx.params.force) {
    actx.stderr(`${dimm.devname}: error: labels already initialized\n`);
    return neg('EBUSY');
  }
  rc = ndctlDimmInitLabels(actx.nd, dimm, ndd, actx.version);
  if (rc < 0) return rc;
  rc = await ndctlDimmRevalidate(actx.nd, dimm);
  return Math.min(rc, 0);
}

/** A host file opened for writing, relative to the tool's working directory; the error text on failure. */
function openOutput(ctx: ToolContext, path: string): Output | { errno: number } {
  let fd: number;
  try {
    fd = ctx.host.open(resolve(ctx.cwd, path), 'w');
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    let errno = 5;
    try {
      if (typeof code === 'string') errno = errnoValue(code as Parameters<typeof errnoValue>[0]);
    } catch {
      /* an errno the kernel model does not name: EIO */
    }
    ctx.stderr(`failed to open: ${path}: (${strerror(errno)})\n`);
    return { errno };
  }
  return {
    isStdout: false,
    text: (s) => {
      ctx.host.write(fd, new TextEncoder().encode(s), null);
    },
    bytes: (b) => {
      for (let off = 0; off < b.length; off += 4096) {
        const chunk = b.subarray(off, off + 4096);
        if (ctx.host.write(fd, chunk, null) !== chunk.length) return false;
      }
      return true;
    },
    close: () => ctx.host.close(fd),
  };
}

const LABEL_VERSIONS: Record<string, NdctlNamespaceVersion> = {
  '1.1': '1.1',
  'v1.1': '1.1',
  '1.2': '1.2',
  'v1.2': '1.2',
};

/**
 * dimm_action(): parses the command line, runs `action` on every DIMM each argument names (on the -b bus) and
 * prints the JSON read-labels collected. The number of DIMMs the action succeeded on, else the first failure
 * (0 when nothing was attempted); USAGE_EXIT as a string-free marker when usage was printed.
 */
async function dimmAction(
  ctx: ToolContext,
  argv: string[],
  action: Action,
  specs: OptionSpec[],
  usage: string,
): Promise<number | 'usage'> {
  const parsed = parseOrUsage(ctx.stderr, usage, specs, argv);
  if (parsed === null) return 'usage';
  const showUsage = (): 'usage' => {
    ctx.stderr(usageText(usage, specs));
    return 'usage';
  };
  const o = parsed.opts;
  const uint = (name: 'size' | 'offset'): number | null => {
    const v = optString(o[name]);
    return v === undefined ? 0 : parseUinteger(ctx, v, specs.find((s) => s.name === name)!, argv);
  };
  const len = uint('size');
  const offset = uint('offset');
  if (len === null || offset === null) return showUsage();
  const params: Params = {
    bus: optString(o.bus),
    outfile: optString(o.output),
    labelversion: optString(o.labelVersion) ?? '1.1',
    len,
    offset,
    human: o.human === true,
    force: o.force === true,
    index: o.index === true,
    json: o.json === true,
  };
  let args = parsed.args;
  if (args.length === 0) return showUsage();
  let bad = 0;
  for (const a of args) {
    if (a === 'all') {
      args = ['all'];
      bad = 0;
      break;
    }
    if (!/^nmem\d/.test(a)) {
      ctx.stderr(`'${a}' is not a valid dimm name\n`);
      bad++;
    }
  }
  if (bad === args.length) return showUsage();
  const json = params.json || params.human;
  if (action === actionRead && json && (params.len || params.offset)) {
    ctx.stderr('--size and --offset are incompatible with --json\n');
    return showUsage();
  }
  if (params.index && params.len) {
    ctx.stderr('pick either --size, or --index, not both\n');
    return showUsage();
  }
  const actx: ActionContext = {
    nd: ndConfigNew(ctx),
    stderr: ctx.stderr,
    params,
    version: '1.1',
    jdimms: json ? [] : null,
    out: null,
  };
  if (params.outfile !== undefined) {
    const out = openOutput(ctx, params.outfile);
    if ('errno' in out) return -out.errno;
    actx.out = out;
  } else if (action === actionRead && !json) {
    ctx.stderr(
      'read-labels: binary label data needs --output=<file> (standard output carries text); or use --json\n',
    );
    return neg('EINVAL');
  } else actx.out = { isStdout: true, text: ctx.stdout, bytes: () => false, close: () => {} };
  try {
    const version = LABEL_VERSIONS[params.labelversion];
    if (version === undefined) {
      ctx.stderr(`'${params.labelversion}' is not a valid label version\n`);
      return neg('EINVAL');
    }
    actx.version = version;
    let count = 0;
    let err = 0;
    const nctx = new NdctlCtx(ctx.kernel);
    for (const ident of args) {
      if (ident !== 'all' && !/^nmem\d/.test(ident)) continue;
      for (const bus of nctx.buses()) {
        if (!utilBusFilter(bus, params.bus)) continue;
        for (const dimm of bus.dimms()) {
          if (!utilDimmFilter(dimm, ident)) continue;
          const rc = await action(dimm, actx);
          if (rc === 0) count++;
          else if (err === 0) err = rc;
        }
      }
    }
    if (actx.jdimms !== null && actx.jdimms.length > 0) {
      const human = actx.out.isStdout && ctx.isTTY;
      const value = actx.jdimms.length > 1 || !human ? actx.jdimms : actx.jdimms[0]!;
      actx.out.text(`${jsonToString(value)}\n`);
    }
    return count > 0 ? count : err;
  } finally {
    actx.out.close();
  }
}

/** The cmd_*_labels() tail: "<verb> N nmem[s]" on standard error; 0 unless the action failed everywhere. */
async function labelCommand(
  ctx: ToolContext,
  argv: string[],
  action: Action,
  specs: OptionSpec[],
  usage: string,
  verb: string,
): Promise<number> {
  const count = await dimmAction(ctx, argv, action, specs, usage);
  if (count === 'usage') return USAGE_EXIT;
  ctx.stderr(`${verb} ${Math.max(count, 0)} nmem${count > 1 ? 's' : ''}\n`);
  return count >= 0 ? 0 : 1;
}

/**
 * cmd_init_labels(): `ndctl init-labels <nmem>... | all [-f] [-V 1.1|1.2] [-b bus]`: writes a fresh, empty pair of
 * index blocks on each DIMM whose regions are all disabled and that has no valid index yet (or with -f), then
 * has the kernel re-read the area. Prints "initialized N nmem(s)".
 */
export function cmdInitLabels(ctx: ToolContext, argv: string[]): Promise<number> {
  return labelCommand(
    ctx,
    argv,
    actionInit,
    initOptions,
    'ndctl init-labels <nmem0> [<nmem1>..<nmemN>] [<options>]',
    'initialized',
  );
}

/**
 * cmd_read_labels(): `ndctl read-labels <nmem>... | all [-j [-u]] [-I] [-o file] [-s size -O offset]`: the label
 * area as JSON (index blocks and labels, as dimm.c dumps them) or as bytes to a file. Prints "read N nmem(s)".
 */
export function cmdReadLabels(ctx: ToolContext, argv: string[]): Promise<number> {
  return labelCommand(
    ctx,
    argv,
    actionRead,
    readOptions,
    'ndctl read-labels <nmem0> [<nmem1>..<nmemN>] [-o <filename>]',
    'read',
  );
}

/**
 * cmd_zero_labels(): `ndctl zero-labels <nmem>... | all [-s size -O offset]`: zeroes the label area of each DIMM
 * whose regions are all disabled, then has the kernel re-read it. Prints "zeroed N nmem(s)".
 */
export function cmdZeroLabels(ctx: ToolContext, argv: string[]): Promise<number> {
  return labelCommand(
    ctx,
    argv,
    actionZero,
    zeroOptions,
    'ndctl zero-labels <nmem0> [<nmem1>..<nmemN>] [<options>]',
    'zeroed',
  );
}
