/**
 * `daxsim demo`: ndctl's device-dax test (test/device-dax.c in ndctl) as a user would run it with the tools,
 * one invocation per step so that every step boots the platform again from its files. An fsdax namespace is
 * created and salted data written through its block device; the namespace is reconfigured to devdax and the
 * data read back through /dev/daxR.N with daxio and a shared mapping; then, with the device still mapped, it
 * is reset to raw and the next access gets SIGBUS. The platform is left for the user to explore.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAP_PRIVATE, MAP_SHARED, O_RDWR, PROT_READ, PROT_WRITE } from '@daxsim/kernel';
import { type DaxsimIO, withMachine } from './cli/daxsim.js';
import { daxctlMain, ndctlMain } from './cli/tools.js';
import type { ToolContext } from './context.js';
import { cmdDaxio } from './daxio/daxio.js';
import { initPlatform, loadTopology, lockPlatform, resetPlatform } from './platform/state.js';

const MiB = 1024 * 1024;
/** How much salted data the demo writes and verifies. */
const DATA = 4 * MiB;
const SALT = 0x5a17_d00d;

/** The salted pattern at byte offset `off`: each 32-bit word holds its offset XOR the salt. */
function salted(off: number, len: number): Uint8Array {
  const buf = new Uint8Array(len);
  const view = new DataView(buf.buffer);
  for (let i = 0; i < len; i += 4) view.setUint32(i, ((off + i) ^ SALT) >>> 0, true);
  return buf;
}

function firstMismatch(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : Math.min(a.length, b.length);
}

class DemoFailure extends Error {}

/** Runs the demo against state folder `dir`; returns the exit status. */
export async function runDemo(io: DaxsimIO, dir: string, argv: string[]): Promise<number> {
  if (argv.length > 0) {
    io.stderr(`daxsim demo: unexpected argument '${argv[0]}'\n`);
    return 129;
  }
  const say = (t: string) => io.stdout(`${t}\n`);
  const shell = (t: string) => say(`\n$ daxsim ${t}`);
  const fail = (t: string): never => {
    throw new DemoFailure(t);
  };
  /** One invocation of a tool: boots, runs, shuts down; its output goes to the demo's. */
  const tool = async (
    main: (ctx: ToolContext, argv: string[]) => Promise<number>,
    line: string,
    capture = false,
  ) => {
    shell(line);
    const argv = line.split(' ').slice(1);
    let out = '';
    const status = await withMachine(
      {
        ...io,
        stdout: (t) => {
          if (capture) out += t;
          else io.stdout(t);
        },
      },
      dir,
      (ctx) => main(ctx, argv),
    );
    if (capture) io.stdout(out);
    if (status !== 0) fail(`'daxsim ${line}' exited ${status}`);
    return out;
  };
  /** A program of the user's own on the platform (one boot), shown as a comment. */
  const program = async (what: string, fn: (ctx: ToolContext) => Promise<void>) => {
    say(`\n# ${what}`);
    const status = await withMachine(io, dir, async (ctx) => {
      await fn(ctx);
      return 0;
    });
    if (status !== 0) fail(`${what}: the platform did not boot`);
  };

  try {
    say("# daxsim demo: ndctl's device-dax scenario on a persistent nfit_test platform");
    if (existsSync(join(dir, 'platform.json'))) {
      shell('platform reset --topology nfit_test');
      const release = lockPlatform(dir);
      try {
        resetPlatform(dir, loadTopology('nfit_test', io.cwd));
      } finally {
        release();
      }
    } else {
      shell('platform init');
      const t = loadTopology(undefined, io.cwd);
      initPlatform(dir, t.topology, t.platforms);
    }
    say(`(a fresh nfit_test platform in ${dir}: blank label areas, zeroed media)`);

    const regions = JSON.parse(await tool(ndctlMain, 'ndctl list -R -b nfit_test.0', true)) as {
      dev: string;
      available_size: number;
    }[];
    const region = [...regions].sort((a, b) => b.available_size - a.available_size)[0]?.dev;
    if (region === undefined) fail('nfit_test.0 has no regions');

    const fsdax = JSON.parse(
      await tool(ndctlMain, `ndctl create-namespace -r ${region} -m fsdax -a 2M -s 32M -n demo`, true),
    ) as { dev: string; blockdev: string };

    await program(
      `a program writes ${DATA / MiB} MiB of salted data to /dev/${fsdax.blockdev}`,
      async (ctx) => {
        const t = ctx.kernel.spawn('salt');
        try {
          const fd = t.open(`/dev/${fsdax.blockdev}`, O_RDWR);
          t.pwrite(fd, salted(0, DATA), 0);
          t.close(fd);
        } finally {
          t.exit();
          ctx.kernel.reapTask(t);
        }
      },
    );

    const devdax = JSON.parse(
      await tool(ndctlMain, `ndctl create-namespace -f -e ${fsdax.dev} -m devdax -a 2M`, true),
    ) as { dev: string; chardev: string };
    await tool(daxctlMain, `daxctl list -R -D -r ${devdax.chardev.replace(/^dax(\d+)\..*$/, '$1')}`);

    const dumpDir = join(dir, 'demo');
    mkdirSync(dumpDir, { recursive: true });
    const dump = join(dumpDir, 'dax.bin');
    await tool(cmdDaxio, `daxio -i /dev/${devdax.chardev} -o ${dump} -l ${DATA}`);
    const at = firstMismatch(new Uint8Array(readFileSync(dump)), salted(0, DATA));
    if (at >= 0) fail(`${dump} differs from the salted data at byte ${at}`);
    say(`(${dump} holds the data the fsdax namespace was given: verified)`);

    await program(
      `a program maps /dev/${devdax.chardev}, verifies it, and resets the namespace to raw under the mapping`,
      async (ctx) => {
        const k = ctx.kernel;
        const t = k.spawn('device-dax');
        try {
          const fd = t.open(`/dev/${devdax.chardev}`, O_RDWR);
          try {
            t.mmap(0, DATA, PROT_READ, MAP_PRIVATE, fd, 0);
            fail('mmap(MAP_PRIVATE) of a device-dax succeeded');
          } catch (e) {
            if (e instanceof DemoFailure) throw e;
            say(`mmap(MAP_PRIVATE) -> ${(e as Error).message} (device-dax only maps shared)`);
          }
          const addr = t.mmap(0, DATA, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
          const bad = firstMismatch(t.load(addr, DATA), salted(0, DATA));
          if (bad >= 0) fail(`the mapping differs from the salted data at byte ${bad}`);
          const f = k.faultEvents.snapshot();
          say(
            `mmap(MAP_SHARED) at 0x${addr.toString(16)}: ${DATA / MiB} MiB verified (faults: pte ${f.pte.nopage}, pmd ${f.pmd.nopage}, pud ${f.pud.nopage})`,
          );
          shell(
            `ndctl create-namespace -f -e ${devdax.dev} -m raw   (same boot, ${devdax.chardev} still mapped)`,
          );
          const status = await ndctlMain(ctx, ['create-namespace', '-f', '-e', devdax.dev, '-m', 'raw']);
          if (status !== 0) fail(`reconfigure to raw exited ${status}`);
          try {
            t.store(addr, new Uint8Array([0xff]));
            fail('a store to the torn-down device-dax mapping went through');
          } catch (e) {
            if (e instanceof DemoFailure) throw e;
            const sig = e as { signal?: string; si_code?: number; addr?: number };
            if (sig.signal !== 'SIGBUS') throw e;
            say(`\n# the program's next store -> ${(e as Error).message}`);
          }
        } finally {
          t.exit();
          k.reapTask(t);
        }
      },
    );

    await tool(ndctlMain, `ndctl list -N -r ${region}`);
    say(`\n# done. The platform stays in ${dir}; explore it with, for example:`);
    say('#   daxsim ndctl list -RNu          daxsim ndctl create-namespace -m devdax');
    say('#   daxsim daxctl list -RD          daxsim ndctl inject-error <ns> -B 8 -n 1');
    say('#   daxsim platform show            daxsim platform reset');
    return 0;
  } catch (e) {
    if (!(e instanceof DemoFailure)) throw e;
    io.stderr(`daxsim demo: FAILED: ${e.message}\n`);
    return 1;
  }
}
