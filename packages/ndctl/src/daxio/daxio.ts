/**
 * PMDK's daxio (src/tools/daxio/daxio.c): copies between a device-dax and a file, or between two device-daxes,
 * or zeroes a device-dax, through MAP_SHARED mappings of the devices.
 *
 * Paths under /dev/ name the simulated kernel's nodes, opened by a task of its own; a device-dax among them is
 * found by name in libdaxctl's devices (daxio matches major:minor), and gets its size from
 * /sys/class/dax/daxR.N/size and its alignment from its dax region. Any other path is a host file (ctx.host),
 * relative to ctx.cwd. A device is mapped over ALIGN_UP(size, align) less the aligned-down offset, as daxio does,
 * and copied in 1 MiB chunks through task.load/task.store, each chunk written to a device made durable with
 * ctx.persist() (pmem_persist). A file's I/O uses positioned reads and writes where daxio seeks.
 *
 * Departures: without -i daxio reads standard input, and without -o (and no -z) it writes standard output;
 * daxsim's contexts have no binary-safe standard streams, so both are refused with an error. A missing /dev
 * output is not created as a file. daxio dies of a SIGBUS (a poisoned line read through the mapping, or a device
 * disabled under it): here it prints what happened and exits 128 + the signal number, as a shell reports it.
 * On a terminal a transfer of 8 MiB or more draws a progress bar (progress.ts); daxio has none.
 */
import { resolve } from 'node:path';
import { isSignal, MAP_SHARED, O_RDWR, PROT_READ, PROT_WRITE, type Task } from '@daxsim/kernel';
import type { ToolCommand, ToolContext } from '../context.js';
import { daxctlRegions } from '../lib/libdaxctl.js';
import { libcStrerror } from '../lib/strerror.js';
import { badblocksClearAll } from './badblocks.js';
import { getoptLong, type LongOption } from './getopt.js';
import { utilParseSize } from './parse_size.js';
import { ProgressBar } from './progress.js';

/** SRCVERSION of the PMDK release whose daxio this follows. */
export const DAXIO_VERSION = '2.1.1';

const USAGE_MESSAGE =
  'Usage: daxio [option] ...\n' +
  'Valid options:\n' +
  '   -i, --input=FILE                - input device/file (default stdin)\n' +
  '   -o, --output=FILE               - output device/file (default stdout)\n' +
  '   -k, --skip=BYTES                - skip offset for input (default 0)\n' +
  '   -s, --seek=BYTES                - seek offset for output (default 0)\n' +
  '   -l, --len=BYTES                 - total length to perform the I/O\n' +
  '   -b, --clear-bad-blocks=<yes|no> - clear bad blocks (default: yes)\n' +
  '   -z, --zero                      - zeroing the device\n' +
  '   -h. --help                      - print this help\n' +
  '   -V, --version                   - display version of daxio\n';

const LONG_OPTIONS: readonly LongOption[] = [
  { name: 'input', hasArg: true, val: 'i' },
  { name: 'output', hasArg: true, val: 'o' },
  { name: 'skip', hasArg: true, val: 'k' },
  { name: 'seek', hasArg: true, val: 's' },
  { name: 'len', hasArg: true, val: 'l' },
  { name: 'clear-bad-blocks', hasArg: true, val: 'b' },
  { name: 'zero', hasArg: false, val: 'z' },
  { name: 'help', hasArg: false, val: 'h' },
  { name: 'version', hasArg: false, val: 'V' },
];

/** How much is moved between persist points and progress updates. */
const CHUNK = 1024 * 1024;

/** SIZE_MAX: "no limit" for a length or a size. */
const SIZE_MAX = Number.POSITIVE_INFINITY;

/** Exit statuses. */
const EXIT_SUCCESS = 0;
const EXIT_FAILURE = 1;

/** struct daxio_device. */
interface DaxioDevice {
  path: string | null;
  /** How it is reached: a standard stream, a host file, or a node of the simulated kernel. */
  kind: 'stdio' | 'host' | 'node';
  fd: number;
  size: number;
  isDevdax: boolean;
  /** Device-dax only: the alignment, the mapping, and the offset into it (seek or skip). */
  align: number;
  addr: number;
  maplen: number;
  offset: number;
  /** Device offset of the mapping's start (the aligned-down part of the offset). */
  mapOffset: number;
}

/** struct daxio_context. */
interface DaxioContext {
  len: number;
  zero: boolean;
  clearBadBlocks: boolean;
  src: DaxioDevice;
  dst: DaxioDevice;
}

const newDevice = (): DaxioDevice => ({
  path: null,
  kind: 'stdio',
  fd: -1,
  size: SIZE_MAX,
  isDevdax: false,
  align: SIZE_MAX,
  addr: 0,
  maplen: 0,
  offset: 0,
  mapOffset: 0,
});

const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;
const alignDown = (n: number, a: number): number => Math.floor(n / a) * a;

/** What one run works with: the tool context, the task that opens /dev nodes, and the ERR()/FAIL() printers. */
class Daxio {
  readonly ctx: ToolContext;
  readonly task: Task;

  constructor(ctx: ToolContext) {
    this.ctx = ctx;
    this.task = ctx.kernel.spawn('daxio');
  }

  err(text: string): void {
    this.ctx.stderr(`daxio: ${text}`);
  }

  /** FAIL(): "daxio: <function>:<line in daxio.c>: <call>: <strerror>". */
  fail(where: string, call: string, e: unknown): void {
    this.ctx.stderr(`daxio: ${where}: ${call}: ${libcStrerror(e)}\n`);
  }

  /** parse_args(): the context, or the exit status when daxio stops here. */
  parseArgs(argv: readonly string[], c: DaxioContext): number | null {
    for (const o of getoptLong('daxio', argv, 'i:o:k:s:l:b:zhV', LONG_OPTIONS)) {
      const arg = 'arg' in o ? (o.arg ?? '') : '';
      switch (o.opt) {
        case 'i':
          c.src.path = arg;
          break;
        case 'o':
          c.dst.path = arg;
          break;
        case 'k':
        case 's':
        case 'l': {
          const n = utilParseSize(arg);
          if (n === null) {
            const what = { k: 'input offset', s: 'output offset', l: 'length' }[o.opt];
            this.err(`'${arg}' -- invalid ${what}\n`);
            return EXIT_FAILURE;
          }
          if (o.opt === 'k') c.src.offset = n;
          else if (o.opt === 's') c.dst.offset = n;
          else c.len = n;
          break;
        }
        case 'z':
          c.zero = true;
          break;
        case 'b':
          if (arg === 'no') c.clearBadBlocks = false;
          else if (arg === 'yes') c.clearBadBlocks = true;
          else {
            this.err(`'${arg}' -- invalid argument of the '--clear-bad-blocks' option\n`);
            return EXIT_FAILURE;
          }
          break;
        case 'h':
          this.ctx.stderr(USAGE_MESSAGE);
          return EXIT_SUCCESS;
        case 'V':
          this.ctx.stdout(`${DAXIO_VERSION}\n`);
          return EXIT_SUCCESS;
        default:
          if ('message' in o) this.ctx.stderr(o.message);
          this.ctx.stderr(USAGE_MESSAGE);
          return EXIT_FAILURE;
      }
    }
    return null;
  }

  /** validate_args(). */
  validateArgs(c: DaxioContext): boolean {
    if (c.zero && c.dst.path === null) {
      this.err('zeroing flag specified but no output file provided\n');
      return false;
    }
    if (!c.zero && c.src.path === null && c.dst.path === null) {
      this.err('an input file and/or an output file must be provided\n');
      return false;
    }
    if (c.src.path === null) {
      if (c.src.offset !== 0) {
        this.err('skip offset specified but no input file provided\n');
        return false;
      }
      c.src.path = 'STDIN';
      c.src.fd = 0;
    }
    if (c.dst.path === null) {
      if (c.dst.offset !== 0) {
        this.err('seek offset specified but no output file provided\n');
        return false;
      }
      c.dst.path = 'STDOUT';
      c.dst.fd = 1;
    }
    return true;
  }

  /** setup_device(): opens the file or device; a device-dax is checked, cleared of bad blocks, and mapped. */
  setupDevice(dev: DaxioDevice, isDst: boolean, clearBadBlocks: boolean): boolean {
    if (dev.kind === 'stdio' && dev.fd !== -1) {
      // daxio streams standard input/output here; daxsim's contexts have no binary-safe streams
      this.err(
        isDst
          ? 'writing to standard output is not supported by daxsim, give an output file with -o\n'
          : 'reading from standard input is not supported by daxsim, give an input file with -i\n',
      );
      return false;
    }
    const path = dev.path!;
    if (path.startsWith('/dev/')) {
      dev.kind = 'node';
      try {
        dev.fd = this.task.open(path, O_RDWR);
      } catch (e) {
        this.err(`failed to open '${path}': ${libcStrerror(e)}\n`);
        return false;
      }
      dev.size = SIZE_MAX;
      this.findDevDax(dev, path.slice('/dev/'.length));
    } else {
      dev.kind = 'host';
      const host = this.ctx.host;
      const at = resolve(this.ctx.cwd, path);
      try {
        dev.fd = host.open(at, 'r+');
      } catch (e) {
        if ((e as { code?: unknown }).code === 'ENOENT' && isDst) {
          dev.size = SIZE_MAX;
          try {
            dev.fd = host.open(at, 'w');
          } catch (e2) {
            this.fail('setup_device:336', 'open', e2);
            return false;
          }
          return true;
        }
        this.err(`failed to open '${path}': ${libcStrerror(e)}\n`);
        return false;
      }
      const size = host.size(dev.fd);
      dev.size = size === null || isDst ? SIZE_MAX : size;
    }
    if (!dev.isDevdax) return true;

    if (isDst && clearBadBlocks && !badblocksClearAll(this.ctx, this.task, path.slice('/dev/'.length))) {
      this.err(
        `failed to clear bad blocks on "${path}"\n` +
          '       Probably you have not enough permissions to do that.\n' +
          '       You can choose one of three options now:\n' +
          "       1) run 'daxio' with 'sudo' or as 'root',\n" +
          '       2) turn off clearing bad blocks using\n' +
          "          the '-b/--clear-bad-blocks=no' option or\n" +
          '       3) change permissions of some resource files -\n' +
          '          - for details see the description of the CHECK_BAD_BLOCKS\n' +
          '          compat feature in the pmempool-feature(1) man page.\n',
      );
      return false;
    }
    if (dev.align === SIZE_MAX) {
      this.err(`cannot determine device alignment for "${path}"\n`);
      return false;
    }
    if (dev.offset > dev.size) {
      this.err(`'${dev.offset}' -- offset beyond device size (${dev.size})\n`);
      return false;
    }
    const offset = alignDown(dev.offset, dev.align);
    dev.maplen = alignUp(dev.size, dev.align) - offset;
    dev.offset -= offset;
    dev.mapOffset = offset;
    try {
      dev.addr = this.task.mmap(0, dev.maplen, isDst ? PROT_WRITE : PROT_READ, MAP_SHARED, dev.fd, offset);
    } catch (e) {
      dev.addr = 0;
      this.fail('setup_device:415', 'mmap', e);
      return false;
    }
    return true;
  }

  /** find_dev_dax(): marks `dev` a device-dax when libdaxctl has one named `name`, with its size and align. */
  findDevDax(dev: DaxioDevice, name: string): void {
    for (const region of daxctlRegions(this.ctx.kernel))
      for (const d of region.devices)
        if (d.name === name) {
          dev.isDevdax = true;
          dev.size = d.size;
          dev.align = region.align;
          return;
        }
  }

  /** adjust_io_len(): the length defaults to, and is capped at, what the mapped device(s) hold past the offset. */
  adjustIoLen(c: DaxioContext): void {
    let max = SIZE_MAX;
    if (c.src.isDevdax) max = c.src.maplen - c.src.offset;
    if (c.dst.isDevdax) max = Math.min(max, c.dst.maplen - c.dst.offset);
    if (c.len !== SIZE_MAX && c.len <= max) return;
    c.len = max;
  }

  /** Reads up to buf.length bytes of a file or node at `pos` (null: its file position). */
  readFrom(dev: DaxioDevice, buf: Uint8Array, pos: number | null): number {
    if (dev.kind === 'host') return this.ctx.host.read(dev.fd, buf, pos);
    return pos === null ? this.task.read(dev.fd, buf) : this.task.pread(dev.fd, buf, pos);
  }

  /** Writes buf to a file or node at `pos` (null: its file position); returns the count written. */
  writeTo(dev: DaxioDevice, buf: Uint8Array, pos: number | null): number {
    if (dev.kind === 'host') return this.ctx.host.write(dev.fd, buf, pos);
    return pos === null ? this.task.write(dev.fd, buf) : this.task.pwrite(dev.fd, buf, pos);
  }

  /**
   * do_io(): zero, or copy device to device, device to file, or file to device; prints what was copied.
   * Returns the exit status; a signal raised by an access through a mapping ends it as the signal would.
   */
  doIo(c: DaxioContext): number {
    const { src, dst } = c;
    const bar = Number.isFinite(c.len) ? ProgressBar.forTransfer(this.ctx, c.len) : null;
    let cnt = 0;
    try {
      if (c.zero) {
        if (dst.offset > dst.maplen) {
          this.err('output offset larger than device size');
          return EXIT_FAILURE;
        }
        if (dst.offset + c.len > dst.maplen) {
          this.err('output offset beyond device size');
          return EXIT_FAILURE;
        }
        const zeros = new Uint8Array(Math.min(CHUNK, c.len));
        while (cnt < c.len) {
          const n = Math.min(CHUNK, c.len - cnt);
          this.task.store(dst.addr + dst.offset + cnt, n === zeros.length ? zeros : zeros.subarray(0, n));
          this.ctx.persist();
          cnt += n;
          bar?.update(cnt);
        }
      } else if (src.isDevdax && dst.isDevdax) {
        cnt = this.copyDevices(c, bar);
      } else if (src.isDevdax) {
        const pos0 = dst.offset !== 0 ? dst.offset : null;
        while (cnt < c.len) {
          const data = this.task.load(src.addr + src.offset + cnt, Math.min(CHUNK, c.len - cnt));
          let done = 0;
          while (done < data.length) {
            let w: number;
            try {
              w = this.writeTo(dst, data.subarray(done), pos0 === null ? null : pos0 + cnt + done);
            } catch (e) {
              this.fail('do_io:528', 'write', e);
              this.err('failed to perform I/O\n');
              return EXIT_FAILURE;
            }
            done += w;
          }
          cnt += data.length;
          bar?.update(cnt);
        }
      } else {
        const pos0 = src.offset !== 0 ? src.offset : null;
        const buf = new Uint8Array(Math.min(CHUNK, c.len));
        while (cnt < c.len) {
          const want = Math.min(CHUNK, c.len - cnt);
          let r: number;
          try {
            r = this.readFrom(
              src,
              want === buf.length ? buf : buf.subarray(0, want),
              pos0 === null ? null : pos0 + cnt,
            );
          } catch (e) {
            this.fail('do_io:547', 'read', e);
            this.err('failed to perform I/O\n');
            return EXIT_FAILURE;
          }
          if (r === 0) break;
          this.task.store(dst.addr + dst.offset + cnt, buf.subarray(0, r));
          this.ctx.persist();
          cnt += r;
          bar?.update(cnt);
        }
        if (cnt !== c.len) this.err(`requested size ${c.len} larger than source\n`);
      }
    } catch (e) {
      if (!isSignal(e)) throw e;
      bar?.finish(cnt);
      const [dev, verb] = this.inMapping(src, e.addr) ? [src, 'reading'] : [dst, 'writing'];
      const offset = dev.mapOffset + (e.addr - dev.addr);
      const code = e.si_code === 4 ? 'BUS_MCEERR_AR' : e.si_code === 2 ? 'BUS_ADRERR' : String(e.si_code);
      this.ctx.stderr(`daxio: killed by ${e.signal} (${code}) ${verb} "${dev.path}" at offset ${offset}\n`);
      return 128 + e.signo;
    }
    bar?.finish(cnt);
    this.err(`copied ${cnt} bytes to device "${dst.path}"\n`);
    return EXIT_SUCCESS;
  }

  inMapping(dev: DaxioDevice, addr: number): boolean {
    return dev.addr !== 0 && addr >= dev.addr && addr < dev.addr + dev.maplen;
  }

  /**
   * pmem_memcpy_persist() between two mappings, chunk by chunk; overlapping ranges of one device are copied
   * from the end when the destination lies above the source, as memmove does.
   */
  copyDevices(c: DaxioContext, bar: ProgressBar | null): number {
    const { src, dst } = c;
    const from = src.mapOffset + src.offset;
    const to = dst.mapOffset + dst.offset;
    const backward = src.path === dst.path && to > from && to < from + c.len;
    let cnt = 0;
    while (cnt < c.len) {
      const n = Math.min(CHUNK, c.len - cnt);
      const at = backward ? c.len - cnt - n : cnt;
      this.task.store(dst.addr + dst.offset + at, this.task.load(src.addr + src.offset + at, n));
      this.ctx.persist();
      cnt += n;
      bar?.update(cnt);
    }
    return cnt;
  }

  /** cleanup_device(): unmaps and closes. */
  cleanupDevice(dev: DaxioDevice): void {
    if (dev.addr !== 0) this.task.munmap(dev.addr, dev.maplen);
    dev.addr = 0;
    if (dev.fd === -1 || dev.kind === 'stdio') return;
    try {
      if (dev.kind === 'host') this.ctx.host.close(dev.fd);
      else this.task.close(dev.fd);
    } catch {
      // (void) close(dev->fd)
    }
    dev.fd = -1;
  }

  /** main() after parse_args(). */
  run(c: DaxioContext): number {
    if (!this.validateArgs(c)) return EXIT_FAILURE;
    try {
      if (!c.zero && !this.setupDevice(c.src, false, c.clearBadBlocks)) return EXIT_FAILURE;
      if (!this.setupDevice(c.dst, true, c.clearBadBlocks)) return EXIT_FAILURE;
      if (!c.src.isDevdax && !c.dst.isDevdax) {
        this.err('neither input nor output is device dax\n');
        return EXIT_FAILURE;
      }
      this.adjustIoLen(c);
      return this.doIo(c);
    } finally {
      this.cleanupDevice(c.dst);
      if (!c.zero) this.cleanupDevice(c.src);
    }
  }

  /** Ends the task (its exit unmaps and closes whatever is left). */
  exit(): void {
    this.task.exit();
    this.ctx.kernel.reapTask(this.task);
  }
}

/** daxio's main(): `daxio -i <input> -o <output> [-k skip] [-s seek] [-l len] [-z] [-b yes|no]`. */
export const cmdDaxio: ToolCommand = async (ctx, argv) => {
  const daxio = new Daxio(ctx);
  try {
    const c: DaxioContext = {
      len: SIZE_MAX,
      zero: false,
      clearBadBlocks: true,
      src: newDevice(),
      dst: newDevice(),
    };
    const stop = daxio.parseArgs(argv, c);
    if (stop !== null) return stop;
    return daxio.run(c);
  } finally {
    daxio.exit();
  }
};
