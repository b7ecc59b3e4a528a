/**
 * daxio over devdax namespaces made by create-namespace and host files in a scratch folder: round trips with
 * -s/-k/-l, zeroing, device to device, bad-block clearing, the errors and messages of PMDK's daxio, a SIGBUS on a
 * poisoned line, and the progress bar on a terminal only.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAP_SHARED, O_RDWR, PROT_READ, PROT_WRITE } from '@daxsim/kernel';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ToolContext } from '../src/context.js';
import { cmdDaxio, DAXIO_VERSION } from '../src/daxio/daxio.js';
import { getoptLong } from '../src/daxio/getopt.js';
import { utilParseSize } from '../src/daxio/parse_size.js';
import { formatBytes, PROGRESS_THRESHOLD, ProgressBar } from '../src/daxio/progress.js';
import { createDevdax, injectMediaError, read } from './setup_namespaces.js';
import { bootTools, errOnly, KiB, MiB, type ToolFixture } from './tool_fixture.js';

const DEV0_SIZE = 14 * MiB;

/** A fixture whose host files live in a scratch folder (the daxio cwd), with dax0.0 (4K) and dax1.0 (2M). */
async function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'daxio-test-'));
  const f = await bootTools({ cwd: dir });
  const a = await createDevdax(f, 'region0', '-s', '16M', '-a', '4K');
  const b = await createDevdax(f, 'region1', '-s', '32M', '-a', '2M');
  return {
    f,
    dir,
    a,
    b,
    path: (name: string) => join(dir, name),
    async [Symbol.asyncDispose]() {
      try {
        await f[Symbol.asyncDispose]();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** `len` bytes, byte i = (i * 7 + seed) & 0xff. */
function pattern(len: number, seed = 1): Uint8Array {
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = (i * 7 + seed) & 0xff;
  return b;
}

/** Reads `len` bytes at `offset` of /dev/<chardev> through a shared mapping of a task of its own. */
function devRead(f: ToolFixture, chardev: string, offset: number, len: number): Uint8Array {
  const t = f.kernel.spawn('check');
  try {
    const fd = t.open(`/dev/${chardev}`, O_RDWR);
    const base = Math.floor(offset / (2 * MiB)) * 2 * MiB;
    const span = Math.ceil((offset + len - base) / (2 * MiB)) * 2 * MiB;
    const addr = t.mmap(0, span, PROT_READ, MAP_SHARED, fd, base);
    return t.load(addr + offset - base, len);
  } finally {
    t.exit();
  }
}

/** Writes `data` at `offset` of /dev/<chardev> through a shared mapping. */
function devWrite(f: ToolFixture, chardev: string, offset: number, data: Uint8Array): void {
  const t = f.kernel.spawn('fill');
  try {
    const fd = t.open(`/dev/${chardev}`, O_RDWR);
    const base = Math.floor(offset / (2 * MiB)) * 2 * MiB;
    const span = Math.ceil((offset + data.length - base) / (2 * MiB)) * 2 * MiB;
    const addr = t.mmap(0, span, PROT_READ | PROT_WRITE, MAP_SHARED, fd, base);
    t.store(addr + offset - base, data);
  } finally {
    t.exit();
  }
}

/** Index of the first byte where a and b differ (or the shorter length), -1 when equal: fast for big buffers. */
function firstDiff(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  const cmp = Buffer.from(a.buffer, a.byteOffset, n).compare(Buffer.from(b.buffer, b.byteOffset, n));
  if (cmp !== 0) for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

const copied = (n: number, to: string) => `daxio: copied ${n} bytes to device "${to}"\n`;

describe('daxio copies', () => {
  it('host file -> device -> host file, the length defaulting to what the device holds', async () => {
    await using s = await setup();
    const { f } = s;
    const data = pattern(64 * KiB);
    writeFileSync(s.path('in.bin'), data);
    expect(await f.run(cmdDaxio, '-i', 'in.bin', '-o', '/dev/dax0.0')).toEqual(
      errOnly(`daxio: requested size ${DEV0_SIZE} larger than source\n${copied(64 * KiB, '/dev/dax0.0')}`),
    );
    expect(firstDiff(devRead(f, 'dax0.0', 0, 64 * KiB), data)).toBe(-1);
    expect(await f.run(cmdDaxio, '--input=/dev/dax0.0', '--output', 'out.bin', '--len=64K')).toEqual(
      errOnly(copied(64 * KiB, 'out.bin')),
    );
    expect(firstDiff(new Uint8Array(readFileSync(s.path('out.bin'))), data)).toBe(-1);
    // a length past the device is cut to the device, as adjust_io_len() does
    expect(await f.run(cmdDaxio, '-i', '/dev/dax0.0', '-o', s.path('all.bin'), '-l', '1G')).toEqual(
      errOnly(copied(DEV0_SIZE, s.path('all.bin'))),
    );
    const all = readFileSync(s.path('all.bin'));
    expect(all.length).toBe(DEV0_SIZE);
    expect(firstDiff(all.subarray(0, 64 * KiB), data)).toBe(-1);
  });

  it('-k skips into the input, -s seeks into the output, -l bounds the length', async () => {
    await using s = await setup();
    const { f } = s;
    const data = pattern(8 * KiB, 3);
    writeFileSync(s.path('in.bin'), data);
    expect(
      (await f.run(cmdDaxio, '-i', 'in.bin', '-o', '/dev/dax1.0', '-k', '1024', '-s', '3M', '-l', '2048'))
        .err,
    ).toBe(copied(2048, '/dev/dax1.0'));
    expect(
      firstDiff(
        devRead(f, 'dax1.0', 3 * MiB - 16, 2048 + 32),
        new Uint8Array([...new Uint8Array(16), ...data.subarray(1024, 3072), ...new Uint8Array(16)]),
      ),
    ).toBe(-1);
    // skip past the start of the input: what is left of the file is copied
    expect((await f.run(cmdDaxio, '-i', 'in.bin', '-o', '/dev/dax1.0', '-k', '6K', '-s', '100')).err).toBe(
      `daxio: requested size ${30 * MiB - 100} larger than source\n${copied(2048, '/dev/dax1.0')}`,
    );
    expect(firstDiff(devRead(f, 'dax1.0', 100, 2048), data.subarray(6 * KiB))).toBe(-1);

    // into a new file at an offset (a hole before it), then into an existing file, which is not truncated
    expect(
      (
        await f.run(
          cmdDaxio,
          '-i',
          '/dev/dax1.0',
          '-k',
          '3145728',
          '-o',
          'new.bin',
          '-s',
          '100',
          '-l',
          '2048',
        )
      ).err,
    ).toBe(copied(2048, 'new.bin'));
    expect(
      firstDiff(
        new Uint8Array(readFileSync(s.path('new.bin'))),
        new Uint8Array([...new Uint8Array(100), ...data.subarray(1024, 3072)]),
      ),
    ).toBe(-1);
    writeFileSync(s.path('old.bin'), pattern(4096, 9));
    expect(
      (await f.run(cmdDaxio, '-i', '/dev/dax1.0', '-k', '3M', '-o', 'old.bin', '-s', '1K', '-l', '1K')).err,
    ).toBe(copied(1024, 'old.bin'));
    const old = pattern(4096, 9);
    old.set(data.subarray(1024, 2048), 1024);
    expect(firstDiff(new Uint8Array(readFileSync(s.path('old.bin'))), old)).toBe(-1);
  });

  it('-z zeroes the device from the seek offset, over -l or to the end', async () => {
    await using s = await setup();
    const { f } = s;
    devWrite(f, 'dax0.0', 0, pattern(16 * KiB, 5));
    expect(await f.run(cmdDaxio, '-z', '-o', '/dev/dax0.0', '-s', '3072', '-l', '128')).toEqual(
      errOnly(copied(128, '/dev/dax0.0')),
    );
    const expected = pattern(16 * KiB, 5);
    expected.fill(0, 3072, 3200);
    expect(firstDiff(devRead(f, 'dax0.0', 0, 16 * KiB), expected)).toBe(-1);
    // -i is ignored when zeroing
    expect((await f.run(cmdDaxio, '--zero', '-i', 'nothing-here', '-o', '/dev/dax0.0', '-s', '8K')).err).toBe(
      copied(DEV0_SIZE - 8 * KiB, '/dev/dax0.0'),
    );
    expected.fill(0, 8 * KiB);
    expect(firstDiff(devRead(f, 'dax0.0', 0, 16 * KiB), expected)).toBe(-1);
  });

  it('copies device to device, and within one device as memmove does', async () => {
    await using s = await setup();
    const { f } = s;
    const data = pattern(3 * MiB, 11);
    devWrite(f, 'dax0.0', 0, data);
    expect(
      (await f.run(cmdDaxio, '-i', '/dev/dax0.0', '-o', '/dev/dax1.0', '-s', '2M', '-l', '3M')).err,
    ).toBe(copied(3 * MiB, '/dev/dax1.0'));
    expect(firstDiff(devRead(f, 'dax1.0', 2 * MiB, 3 * MiB), data)).toBe(-1);
    // overlapping, destination above the source: the source is read before it is overwritten
    expect(
      (await f.run(cmdDaxio, '-i', '/dev/dax0.0', '-o', '/dev/dax0.0', '-s', '1M', '-l', '3M')).err,
    ).toBe(copied(3 * MiB, '/dev/dax0.0'));
    expect(firstDiff(devRead(f, 'dax0.0', 1 * MiB, 3 * MiB), data)).toBe(-1);
    // and below it
    expect(
      (await f.run(cmdDaxio, '-i', '/dev/dax0.0', '-k', '1M', '-o', '/dev/dax0.0', '-l', '3M')).err,
    ).toBe(copied(3 * MiB, '/dev/dax0.0'));
    expect(firstDiff(devRead(f, 'dax0.0', 0, 3 * MiB), data)).toBe(-1);
  });

  it('reads and writes other /dev nodes of the simulated kernel (a pmem block device) as files', async () => {
    await using s = await setup();
    const { f } = s;
    const t = f.kernel.spawn('dd');
    const fd = t.open('/dev/pmem2', O_RDWR);
    const data = pattern(16 * KiB, 13);
    t.pwrite(fd, data, 0);
    expect((await f.run(cmdDaxio, '-i', '/dev/pmem2', '-k', '4K', '-o', '/dev/dax0.0', '-l', '8K')).err).toBe(
      copied(8 * KiB, '/dev/dax0.0'),
    );
    expect(firstDiff(devRead(f, 'dax0.0', 0, 8 * KiB), data.subarray(4 * KiB, 12 * KiB))).toBe(-1);
    expect((await f.run(cmdDaxio, '-i', '/dev/dax0.0', '-o', '/dev/pmem2', '-s', '1M', '-l', '4K')).err).toBe(
      copied(4 * KiB, '/dev/pmem2'),
    );
    const back = new Uint8Array(4 * KiB);
    t.pread(fd, back, 1 * MiB);
    t.exit();
    expect(firstDiff(back, data.subarray(4 * KiB, 8 * KiB))).toBe(-1);
  });

  it('makes each written chunk durable with ctx.persist()', async () => {
    await using s = await setup();
    const { f } = s;
    let persists = 0;
    const ctx: ToolContext = {
      ...f.ctx,
      persist: () => {
        persists++;
      },
    };
    expect(await cmdDaxio(ctx, ['-z', '-o', '/dev/dax0.0'])).toBe(0);
    expect(persists).toBe(14);
    persists = 0;
    writeFileSync(s.path('in.bin'), pattern(2 * MiB + 1));
    expect(await cmdDaxio(ctx, ['-i', 'in.bin', '-o', '/dev/dax0.0'])).toBe(0);
    expect(persists).toBe(3);
  });
});

describe('daxio errors', () => {
  it('reports bad command lines as daxio does', async () => {
    await using s = await setup();
    const { f } = s;
    writeFileSync(s.path('in.bin'), pattern(16));
    const fail = (err: string) => ({ status: 1, out: '', err });
    expect(await f.run(cmdDaxio)).toEqual(
      fail('daxio: an input file and/or an output file must be provided\n'),
    );
    expect(await f.run(cmdDaxio, '-z')).toEqual(
      fail('daxio: zeroing flag specified but no output file provided\n'),
    );
    expect(await f.run(cmdDaxio, '-o', '/dev/dax0.0', '-k', '1')).toEqual(
      fail('daxio: skip offset specified but no input file provided\n'),
    );
    expect(await f.run(cmdDaxio, '-i', '/dev/dax0.0', '-s', '1')).toEqual(
      fail('daxio: seek offset specified but no output file provided\n'),
    );
    expect(await f.run(cmdDaxio, '-i', 'in.bin', '-o', '/dev/dax0.0', '-l', '12X')).toEqual(
      fail("daxio: '12X' -- invalid length\n"),
    );
    expect(await f.run(cmdDaxio, '-k', '0x10')).toEqual(fail("daxio: '0x10' -- invalid input offset\n"));
    expect(await f.run(cmdDaxio, '-s', 'k')).toEqual(fail("daxio: 'k' -- invalid output offset\n"));
    expect(await f.run(cmdDaxio, '-b', 'maybe')).toEqual(
      fail("daxio: 'maybe' -- invalid argument of the '--clear-bad-blocks' option\n"),
    );
  });

  it('prints its usage for -h (exit 0) and after a getopt error (exit 1), its version for -V', async () => {
    await using s = await setup();
    const { f } = s;
    const help = await f.run(cmdDaxio, '-h');
    expect(help.status).toBe(0);
    expect(help.out).toBe('');
    expect(help.err.startsWith('Usage: daxio [option] ...\nValid options:\n   -i, --input=FILE ')).toBe(true);
    expect(help.err.split('\n')).toHaveLength(12);
    expect(await f.run(cmdDaxio, '--version')).toEqual({ status: 0, out: `${DAXIO_VERSION}\n`, err: '' });
    expect(await f.run(cmdDaxio, '--frob')).toEqual(
      errOnly(`daxio: unrecognized option '--frob'\n${help.err}`, 1),
    );
    expect(await f.run(cmdDaxio, '-x')).toEqual(errOnly(`daxio: invalid option -- 'x'\n${help.err}`, 1));
    expect(await f.run(cmdDaxio, '-o')).toEqual(
      errOnly(`daxio: option requires an argument -- 'o'\n${help.err}`, 1),
    );
    expect(await f.run(cmdDaxio, '--s', '1')).toEqual(
      errOnly(`daxio: option '--s' is ambiguous; possibilities: '--skip' '--seek'\n${help.err}`, 1),
    );
  });

  it('refuses what it cannot open, offsets past the device, and two plain files', async () => {
    await using s = await setup();
    const { f } = s;
    writeFileSync(s.path('in.bin'), pattern(16));
    const fail = (err: string) => ({ status: 1, out: '', err });
    expect(await f.run(cmdDaxio, '-i', 'nope.bin', '-o', '/dev/dax0.0')).toEqual(
      fail("daxio: failed to open 'nope.bin': No such file or directory\n"),
    );
    expect(await f.run(cmdDaxio, '-i', 'in.bin', '-o', '/dev/dax7.0')).toEqual(
      fail("daxio: failed to open '/dev/dax7.0': No such file or directory\n"),
    );
    expect(await f.run(cmdDaxio, '-i', 'in.bin', '-o', '/dev/dax0.0', '-s', '20M')).toEqual(
      fail(`daxio: '${20 * MiB}' -- offset beyond device size (${DEV0_SIZE})\n`),
    );
    expect(await f.run(cmdDaxio, '-i', '/dev/dax0.0', '-k', `${DEV0_SIZE + 1}`, '-o', 'x.bin')).toEqual(
      fail(`daxio: '${DEV0_SIZE + 1}' -- offset beyond device size (${DEV0_SIZE})\n`),
    );
    // at the very end: daxio maps nothing, and mmap(2) of length 0 is EINVAL
    expect(await f.run(cmdDaxio, '-i', '/dev/dax0.0', '-k', `${DEV0_SIZE}`, '-o', 'x.bin')).toEqual(
      fail('daxio: setup_device:415: mmap: Invalid argument\n'),
    );
    expect(await f.run(cmdDaxio, '-i', 'in.bin', '-o', 'copy.bin')).toEqual(
      fail('daxio: neither input nor output is device dax\n'),
    );
    expect(readFileSync(s.path('copy.bin')).length).toBe(0);
  });

  it('refuses standard input and output, which daxsim cannot stream', async () => {
    await using s = await setup();
    const { f } = s;
    expect(await f.run(cmdDaxio, '-o', '/dev/dax0.0')).toEqual(
      errOnly(
        'daxio: reading from standard input is not supported by daxsim, give an input file with -i\n',
        1,
      ),
    );
    expect(await f.run(cmdDaxio, '-i', '/dev/dax0.0', '-l', '4096')).toEqual(
      errOnly(
        'daxio: writing to standard output is not supported by daxsim, give an output file with -o\n',
        1,
      ),
    );
  });
});

describe('daxio and media errors', () => {
  it('a poisoned line in the input ends daxio with a SIGBUS report, exit 135', async () => {
    await using s = await setup();
    const { f, a } = s;
    const k = f.kernel;
    const bad = Number(read(k, a.claim, 'resource')) + 8 * KiB;
    await injectMediaError(k, f.stack, 'nfit_test.0', a.region, bad, 512);
    expect(read(k, a.region, 'badblocks')).not.toBe('');
    const r = await f.run(cmdDaxio, '-i', '/dev/dax0.0', '-o', 'out.bin', '-l', '64K');
    expect(r).toEqual(
      errOnly('daxio: killed by SIGBUS (BUS_MCEERR_AR) reading "/dev/dax0.0" at offset 8192\n', 135),
    );
    // the input is not cleared (-b is about the output), and the task is gone (the fixture checks for leaks)
    expect(read(k, a.region, 'badblocks')).not.toBe('');
  });

  it('clears the bad blocks of its output unless -b no', async () => {
    await using s = await setup();
    const { f, a } = s;
    const k = f.kernel;
    const regionStart = Number(read(k, a.region, 'resource'));
    const bad = Number(read(k, a.claim, 'resource')) + 8 * KiB;
    await injectMediaError(k, f.stack, 'nfit_test.0', a.region, bad, 512);
    expect(read(k, a.region, 'badblocks')).toBe(`${(bad - regionStart) / 512} 1`);
    writeFileSync(s.path('in.bin'), pattern(16 * KiB));
    expect((await f.run(cmdDaxio, '-i', 'in.bin', '-o', '/dev/dax0.0', '-l', '4K', '-b', 'no')).status).toBe(
      0,
    );
    expect(read(k, a.region, 'badblocks')).toBe(`${(bad - regionStart) / 512} 1`);
    expect(await f.run(cmdDaxio, '-i', 'in.bin', '-o', '/dev/dax0.0', '-l', '4K')).toEqual(
      errOnly(copied(4096, '/dev/dax0.0')),
    );
    expect(read(k, a.region, 'badblocks')).toBe('');
    expect(firstDiff(devRead(f, 'dax0.0', 8 * KiB, 16), new Uint8Array(16))).toBe(-1);
  });
});

/** The fixture's context on a terminal, its standard error collected apart. */
function onTerminal(f: ToolFixture): { ctx: ToolContext; err: () => string } {
  let err = '';
  const ctx: ToolContext = {
    ...f.ctx,
    isTTY: true,
    stderr: (t) => {
      err += t;
    },
  };
  return { ctx, err: () => err };
}

describe('daxio progress bar', () => {
  it('draws on a terminal for a large transfer, ending the line before the summary', async () => {
    await using s = await setup();
    const { f } = s;
    const tty = onTerminal(f);
    expect(await cmdDaxio(tty.ctx, ['-z', '-o', '/dev/dax0.0'])).toBe(0);
    const [bar, summary, rest] = tty.err().split('\n');
    expect(summary).toBe(copied(DEV0_SIZE, '/dev/dax0.0').trimEnd());
    expect(rest).toBe('');
    const frames = bar!.split('\r').slice(1);
    expect(frames).toHaveLength(14);
    expect(frames[0]).toMatch(/^ {2}7% 1\.00 MiB \/ 14\.00 MiB \((.+\/s|-)\)$/);
    expect(frames[13]).toMatch(/^100% 14\.00 MiB \/ 14\.00 MiB \((.+\/s|-)\)$/);
  });

  it('stays silent when not a terminal, and for transfers under the threshold', async () => {
    await using s = await setup();
    const { f } = s;
    expect((await f.run(cmdDaxio, '-z', '-o', '/dev/dax0.0')).err).toBe(copied(DEV0_SIZE, '/dev/dax0.0'));
    const tty = onTerminal(f);
    expect(await cmdDaxio(tty.ctx, ['-z', '-o', '/dev/dax0.0', '-l', `${PROGRESS_THRESHOLD - 1}`])).toBe(0);
    expect(tty.err()).toBe(copied(PROGRESS_THRESHOLD - 1, '/dev/dax0.0'));
  });

  it('redraws only when the percentage changes, padding over a longer previous line', () => {
    let out = '';
    let now = 0;
    const bar = new ProgressBar(
      (t) => {
        out += t;
      },
      100 * MiB,
      () => now,
    );
    now = 1000;
    bar.update(1023 * KiB);
    bar.update(1023 * KiB + 1);
    now = 50_000;
    bar.update(50 * MiB);
    bar.finish();
    const first = '  0% 1023.00 KiB / 100.00 MiB (1023.00 KiB/s)';
    const second = ' 50% 50.00 MiB / 100.00 MiB (1.00 MiB/s)';
    expect(out).toBe(
      `\r${first}\r${second}${' '.repeat(first.length - second.length)}` +
        '\r100% 100.00 MiB / 100.00 MiB (2.00 MiB/s)\n',
    );
    expect([formatBytes(0), formatBytes(1023), formatBytes(1536), formatBytes(3 * 1024 * MiB)]).toEqual([
      '0 B',
      '1023 B',
      '1.50 KiB',
      '3.00 GiB',
    ]);
  });
});

describe('daxio helpers', () => {
  it("util_parse_size() takes decimal counts with PMDK's case-sensitive units", () => {
    const cases: [string, number | null][] = [
      ['4096', 4096],
      ['4K', 4096],
      ['4KiB', 4096],
      ['4kB', 4000],
      [' 2 M', 2 * MiB],
      ['1G', 1024 * MiB],
      ['3MB', 3_000_000],
      ['16B', 16],
      ['4k', null],
      ['4KB', null],
      ['0x10', null],
      ['', null],
      ['K', null],
      ['1toString', null],
      ['-1', 2 ** 64],
    ];
    expect(cases.map(([s]) => utilParseSize(s))).toEqual(cases.map(([, v]) => v));
    fc.assert(
      fc.property(
        fc.nat(2 ** 40),
        fc.constantFrom(['', 1], ['K', KiB], ['M', MiB], ['kB', 1000]),
        (n, [u, m]) => {
          expect(utilParseSize(`${n}${u}`)).toBe(n * (m as number));
        },
      ),
    );
  });

  it('getopt_long() skips operands, takes bundles, attached values and unique abbreviations', () => {
    const longs = [
      { name: 'input', hasArg: true, val: 'i' },
      { name: 'zero', hasArg: false, val: 'z' },
    ];
    expect([
      ...getoptLong('daxio', ['x', '-zifile', '--inp', 'a', '--zero=1', '--', '-z'], 'i:z', longs),
    ]).toEqual([
      { opt: 'z' },
      { opt: 'i', arg: 'file' },
      { opt: 'i', arg: 'a' },
      { opt: '?', message: "daxio: option '--zero' doesn't allow an argument\n" },
    ]);
    expect([...getoptLong('daxio', ['--input'], 'i:z', longs)]).toEqual([
      { opt: '?', message: "daxio: option '--input' requires an argument\n" },
    ]);
  });
});
