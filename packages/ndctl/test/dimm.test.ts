/**
 * `ndctl init-labels`, `read-labels` and `zero-labels` over nfit_test (ndbus0: nmem0-3 with 128 KiB label areas
 * that start as "label<i>" with no valid index; ndbus1: the label-less nmem4). The label area is reached only
 * through /dev/nmemN ioctls; the firmware's label store is read directly to check what reached the media.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cmdInitLabels, cmdReadLabels, cmdZeroLabels } from '../src/ndctl/dimm.js';
import { cmdCreateNamespace } from '../src/ndctl/namespace.js';
import { bind, read, unbind } from './setup_namespaces.js';
import { bootTools, errOnly, MiB, pretty, type ToolFixture } from './tool_fixture.js';

const LABEL_SIZE = 128 * 1024;

/** The nfit_test.0 label store of DIMM `i` (nmem<i>), as on media. */
function labelStore(f: ToolFixture, i: number): Uint8Array {
  const inst = f.stack.nfitTest.instance('nfit_test.0');
  return inst.firmware.labelStore(inst.platform.dimms[i]!.handle)!.read(0, LABEL_SIZE);
}

/** Disables every region of nfit_test.0 (what `ndctl disable-region -b nfit_test.0 all` does). */
async function idleBus0(f: ToolFixture): Promise<void> {
  for (const r of ['region1', 'region0']) await unbind(f.kernel, r);
}

async function enableBus0(f: ToolFixture): Promise<void> {
  for (const r of ['region0', 'region1']) await bind(f.kernel, 'nd_region', r);
}

const index = (seq: number, nslot = 1020, minor = 1, labelsize = 128) => ({
  signature: 'NAMESPACE_INDEX',
  major: 1,
  minor,
  labelsize,
  seq,
  nslot,
});

const emptyLabel = {
  uuid: '00000000-0000-0000-0000-000000000000',
  name: '',
  slot: 0,
  position: 0,
  nlabel: 0,
  flags: 0,
  isetcookie: 0,
  lbasize: 0,
  dpa: 0,
  rawsize: 0,
};

describe('ndctl read-labels', () => {
  it('dumps both index blocks and every self-consistent label slot (-j), as found at boot', async () => {
    await using f = await bootTools();
    const r = await f.run(cmdReadLabels, '-j', 'nmem0');
    expect(r).toEqual({
      status: 0,
      out: pretty([
        {
          dev: 'nmem0',
          index: [
            { signature: 'label0', major: 0, minor: 0, labelsize: 128, seq: 0, nslot: 0 },
            { signature: '', major: 0, minor: 0, labelsize: 128, seq: 0, nslot: 0 },
          ],
          label: [emptyLabel],
        },
      ]),
      err: 'read 1 nmem\n',
    });
  });

  it('writes the raw label area to a file with -o, the index blocks only with -I, an extent with -s/-O', async () => {
    await using f = await bootTools();
    const dir = mkdtempSync(join(tmpdir(), 'daxsim-labels-'));
    try {
      const run = (...a: string[]) => f.run(cmdReadLabels, ...a);
      expect(await run('-o', join(dir, 'all.bin'), 'nmem1')).toEqual(errOnly('read 1 nmem\n'));
      expect(new Uint8Array(readFileSync(join(dir, 'all.bin')))).toEqual(labelStore(f, 1));
      expect((await run('-I', '-o', join(dir, 'idx.bin'), 'nmem1')).status).toBe(0);
      expect(new Uint8Array(readFileSync(join(dir, 'idx.bin')))).toEqual(labelStore(f, 1).slice(0, 512));
      expect((await run('-s', '16', '-O', '2', '-o', join(dir, 'ext.bin'), 'nmem1')).status).toBe(0);
      expect(new TextDecoder().decode(readFileSync(join(dir, 'ext.bin')))).toBe(
        'bel1\0\0\0\0\0\0\0\0\0\0\0\0',
      );
      const bad = await run('-o', join(dir, 'no', 'such', 'dir', 'x'), 'nmem0');
      expect(bad).toEqual(
        errOnly(
          `failed to open: ${join(dir, 'no', 'such', 'dir', 'x')}: (No such file or directory)\nread 0 nmem\n`,
          1,
        ),
      );
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('needs -o or -j: standard output carries text', async () => {
    await using f = await bootTools();
    expect(await f.run(cmdReadLabels, 'nmem0')).toEqual(
      errOnly(
        'read-labels: binary label data needs --output=<file> (standard output carries text); or use --json\nread 0 nmem\n',
        1,
      ),
    );
  });

  it('fails a DIMM without label commands, and counts only the DIMMs read', async () => {
    await using f = await bootTools();
    expect(await f.run(cmdReadLabels, '-j', '-b', 'nfit_test.1', 'all')).toEqual(errOnly('read 0 nmem\n', 1));
    const r = await f.run(cmdReadLabels, '-j', '-I', 'nmem4', 'nmem2', 'nmem3');
    expect(r.status).toBe(0);
    expect(r.err).toBe('read 2 nmems\n');
    expect((JSON.parse(r.out) as Array<{ dev: string }>).map((d) => d.dev)).toEqual(['nmem2', 'nmem3']);
  });

  it('prints usage (129) for no DIMM, only bad names, or conflicting options', async () => {
    await using f = await bootTools();
    const usage = (await f.run(cmdReadLabels)).err;
    expect(usage).toContain('usage: ndctl read-labels <nmem0> [<nmem1>..<nmemN>] [-o <filename>]');
    expect(await f.run(cmdReadLabels, 'dimm0')).toEqual(
      errOnly(`'dimm0' is not a valid dimm name\n${usage}`, 129),
    );
    expect(await f.run(cmdReadLabels, '-j', '-s', '16', 'nmem0')).toEqual(
      errOnly(`--size and --offset are incompatible with --json\n${usage}`, 129),
    );
    expect(await f.run(cmdReadLabels, '-I', '-s', '16', 'nmem0')).toEqual(
      errOnly(`pick either --size, or --index, not both\n${usage}`, 129),
    );
    expect(await f.run(cmdReadLabels, '-s', 'x', 'nmem0')).toEqual(
      errOnly(`  Error: switch \`s' expects a numerical value\n${usage}`, 129),
    );
  });
});

describe('ndctl init-labels', () => {
  it('refuses DIMMs whose regions are active, in libndctl order, and exits 1 when none was written', async () => {
    await using f = await bootTools();
    const before = labelStore(f, 0);
    expect(await f.run(cmdInitLabels, 'all')).toEqual(
      errOnly(
        'nmem3: regions active, abort label write\nnmem2: regions active, abort label write\n' +
          'nmem1: regions active, abort label write\nnmem0: regions active, abort label write\ninitialized 0 nmem\n',
        1,
      ),
    );
    expect(labelStore(f, 0)).toEqual(before);
  });

  it('writes a fresh v1.1 index pair the kernel then uses for namespace labels', async () => {
    await using f = await bootTools();
    const k = f.kernel;
    await idleBus0(f);
    expect(await f.run(cmdInitLabels, 'all')).toEqual(errOnly('initialized 4 nmems\n'));
    const media = labelStore(f, 0);
    expect(new TextDecoder().decode(media.subarray(0, 15))).toBe('NAMESPACE_INDEX');
    // every one of the 1020 slots free, the bitmap rounded up to 1024 bits, the rest of the block as it was
    expect(media.subarray(72, 72 + 128).every((b) => b === 0xff)).toBe(true);
    const dump = async (dimm: string) => JSON.parse((await f.run(cmdReadLabels, '-j', dimm)).out)[0];
    expect(await dump('nmem0')).toEqual({ dev: 'nmem0', index: [index(3), index(2)], label: [emptyLabel] });
    // the DIMM driver re-read the area: the regions come up and the kernel writes its labels into our index
    await enableBus0(f);
    const uuid = '11111111-2222-4333-8444-555555555555';
    await f.json(cmdCreateNamespace, '-r', 'region0', '-m', 'raw', '-s', '16M', '-u', uuid);
    const cookie = BigInt(read(k, 'region0', 'set_cookie'));
    await idleBus0(f);
    const text = (await f.run(cmdReadLabels, '-j', 'nmem1')).out;
    expect(text).toContain(`"isetcookie":${cookie}`);
    const nmem1 = JSON.parse(text)[0];
    expect(nmem1.index).toEqual([index(3), index(1)]);
    expect(nmem1.label).toEqual([
      {
        uuid,
        name: '',
        slot: 0,
        position: 1,
        nlabel: 2,
        flags: 0,
        isetcookie: JSON.parse(cookie.toString()),
        lbasize: 0,
        dpa: 0,
        rawsize: 8 * MiB,
      },
    ]);
  });

  it('keeps initialized labels unless forced, and -f starts over', async () => {
    await using f = await bootTools();
    const k = f.kernel;
    await f.json(cmdCreateNamespace, '-r', 'region0', '-m', 'raw', '-s', '16M');
    await idleBus0(f);
    expect(await f.run(cmdInitLabels, 'nmem0')).toEqual(
      errOnly('nmem0: error: labels already initialized\ninitialized 0 nmem\n', 1),
    );
    expect(await f.run(cmdInitLabels, '-f', 'nmem0', 'nmem1')).toEqual(errOnly('initialized 2 nmems\n'));
    await enableBus0(f);
    expect(k.sysfs.readdir('/sys/bus/nd/devices').filter((d) => d.startsWith('namespace0.'))).toEqual([
      'namespace0.0',
    ]);
    expect(read(k, 'namespace0.0', 'size')).toBe('0');
  });

  it('writes v1.2 index blocks with -V 1.2 (256-byte labels), and rejects unknown versions', async () => {
    await using f = await bootTools();
    await idleBus0(f);
    expect(await f.run(cmdInitLabels, '-V', '2.0', 'nmem2')).toEqual(
      errOnly("'2.0' is not a valid label version\ninitialized 0 nmem\n", 1),
    );
    expect(await f.run(cmdInitLabels, '--label-version=v1.2', 'nmem2')).toEqual(
      errOnly('initialized 1 nmem\n'),
    );
    const dump = JSON.parse((await f.run(cmdReadLabels, '-j', '-u', 'nmem2')).out)[0];
    expect(dump.index).toEqual([index(3, 510, 2, 256), index(2, 510, 2, 256)]);
    expect(dump.label).toEqual([
      {
        ...emptyLabel,
        flags: '0',
        isetcookie: '0',
        dpa: '0',
        type_guid: '00000000-0000-0000-0000-000000000000',
        abstraction_guid: '00000000-0000-0000-0000-000000000000',
      },
    ]);
  });
});

describe('ndctl zero-labels', () => {
  it('zeroes idle DIMMs only; the kernel then sees no labels', async () => {
    await using f = await bootTools();
    const k = f.kernel;
    await f.json(cmdCreateNamespace, '-r', 'region0', '-m', 'raw', '-s', '16M');
    expect(await f.run(cmdZeroLabels, 'nmem1', 'nmem0')).toEqual(
      errOnly(
        'nmem1: regions active, abort label write\nnmem0: regions active, abort label write\nzeroed 0 nmem\n',
        1,
      ),
    );
    await idleBus0(f);
    expect(await f.run(cmdZeroLabels, 'nmem1', 'nmem0')).toEqual(errOnly('zeroed 2 nmems\n'));
    expect(labelStore(f, 0).every((b) => b === 0)).toBe(true);
    expect(labelStore(f, 1).every((b) => b === 0)).toBe(true);
    expect(labelStore(f, 2).subarray(0, 6)).toEqual(new TextEncoder().encode('label2'));
    await enableBus0(f);
    expect(read(k, 'namespace0.0', 'size')).toBe('0');
  });

  it('zeroes just an extent with -s/-O', async () => {
    await using f = await bootTools();
    await idleBus0(f);
    expect(await f.run(cmdZeroLabels, '-s', '3', '-O', '1', 'nmem3')).toEqual(errOnly('zeroed 1 nmem\n'));
    expect(new TextDecoder().decode(labelStore(f, 3).subarray(0, 6))).toBe('l\0\0\0l3');
  });
});
