/**
 * The `daxsim` command: `daxsim [--state DIR] ndctl|daxctl|daxio ...` boots the persistent platform, runs the
 * tool, and shuts the machine down; `daxsim platform init|show|reset [--topology nfit_test|FILE]` manages the
 * state folder; `daxsim demo` is the guided tour. Each invocation is one boot of the same machine.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Kernel, type KernelError } from '@daxsim/kernel';
import type { ToolContext } from '../context.js';
import { cmdDaxio } from '../daxio/daxio.js';
import { mediaPath } from '../platform/file_media.js';
import { bootMachine, type MachineStreams, nodeHostFiles } from '../platform/machine.js';
import {
  initPlatform,
  loadTopology,
  lockPlatform,
  type PlatformState,
  readPlatform,
  resetPlatform,
  resolveStateDir,
} from '../platform/state.js';
import { parseOrUsage, USAGE_EXIT } from '../util/parse_options.js';
import { daxctlMain, ndctlMain } from './tools.js';

/** What an invocation runs with: its streams, working directory and environment. */
export interface DaxsimIO extends MachineStreams {
  env: NodeJS.ProcessEnv;
  /** Runs `fn` if the process exits before the invocation ends (the bin hooks process 'exit'). */
  atExit?(fn: () => void): () => void;
}

const USAGE = `usage: daxsim [--state DIR] <command> [<args>]

  ndctl <command> [<args>]       ndctl on the platform (list, create-namespace, inject-error, ...)
  daxctl <command> [<args>]      daxctl on the platform (list, enable-device, disable-device)
  daxio [<args>]                 PMDK's daxio: copy between files and /dev/daxR.N
  platform init [--topology T]   create the platform (T: nfit_test, the default, or a JSON description)
  platform show                  describe the platform and its files
  platform reset [--topology T]  start again from blank DIMMs (all namespaces and data are lost)
  demo                           ndctl's device-dax scenario, step by step, on a fresh platform

The platform lives in the state folder: --state DIR, else $DAXSIM_STATE, else ./.daxsim.
`;

/** A context for `--help` and `--version`, which need no platform: an empty kernel. */
function offlineContext(io: DaxsimIO): ToolContext {
  return {
    kernel: new Kernel(),
    stdout: io.stdout,
    stderr: io.stderr,
    isTTY: io.isTTY,
    stdoutIsTTY: io.stdoutIsTTY,
    cwd: io.cwd,
    host: io.host ?? nodeHostFiles,
    persist: () => {},
  };
}

/** The message of a kernel-style error ("EINVAL: ..., op" -> the op part for platform errors). */
function why(e: unknown): string {
  const k = e as Partial<KernelError> & Error;
  return typeof k.syscall === 'string' ? k.syscall : k.message;
}

/** The state of `dir` for a tool run: created (nfit_test) when there is none yet. */
function ensurePlatform(io: DaxsimIO, dir: string): void {
  if (existsSync(join(dir, 'platform.json'))) return;
  if (existsSync(dir) && readdirSync(dir).length > 0) return;
  const t = loadTopology(undefined, io.cwd);
  initPlatform(dir, t.topology, t.platforms);
  io.stderr(`daxsim: created a new ${t.topology} platform in ${dir}\n`);
}

/** Holds the folder's lock for `fn`; EBUSY (another invocation has it) is reported and exits 1. */
async function withLock(io: DaxsimIO, dir: string, fn: () => Promise<number>): Promise<number> {
  let release: () => void;
  try {
    release = lockPlatform(dir);
  } catch (e) {
    io.stderr(`daxsim: ${why(e)}\n`);
    return 1;
  }
  const unhook = io.atExit?.(release);
  try {
    return await fn();
  } finally {
    release();
    unhook?.();
  }
}

/**
 * Boots the platform in `dir` and runs `fn` with a tool context, then shuts down. A broken folder or a failed
 * boot is reported (nothing is changed) and exits 1.
 */
export async function withMachine(
  io: DaxsimIO,
  dir: string,
  fn: (ctx: ToolContext) => Promise<number>,
): Promise<number> {
  try {
    ensurePlatform(io, dir);
  } catch (e) {
    io.stderr(`daxsim: cannot create a platform in ${dir}: ${why(e)}\n`);
    return 1;
  }
  return withLock(io, dir, async () => {
    let state: PlatformState;
    try {
      state = readPlatform(dir);
    } catch (e) {
      io.stderr(
        `daxsim: the platform folder ${dir} is broken: ${why(e)}\ndaxsim: run 'daxsim platform reset' to start again\n`,
      );
      return 1;
    }
    const machine = await bootMachine(state, io);
    try {
      return await fn(machine.ctx);
    } finally {
      await machine.shutdown();
    }
  });
}

/** Bytes a file really occupies on disk (its allocated blocks). */
function diskBytes(path: string): number {
  return statSync(path).blocks * 512;
}

/** `daxsim platform show`: the topology and the files behind it, as JSON. */
function showPlatform(io: DaxsimIO, state: PlatformState): void {
  const out = {
    dir: state.dir,
    topology: state.topology,
    platforms: state.platforms.map(({ name, platform }) => ({
      name,
      provider: platform.providerName,
      dimms: platform.dimms.map((d) => ({
        handle: d.handle,
        size: d.size,
        label_size: d.labelSize,
        flags: d.flags,
      })),
      ranges: platform.spas.map((s) => ({
        type: s.type,
        base: `0x${s.base.toString(16)}`,
        size: s.size,
        read_only: s.readOnly === true,
        interleave: s.mappings.map((m) => m.handle),
        media_on_disk: diskBytes(mediaPath(state.dir, name, s.base)),
      })),
    })),
  };
  io.stdout(`${JSON.stringify(out, null, 2)}\n`);
}

async function platformCommand(io: DaxsimIO, dir: string, argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const parsed = parseOrUsage(
    io.stderr,
    'daxsim platform init|show|reset [--topology nfit_test|FILE]',
    [
      {
        name: 'topology',
        short: 't',
        long: 'topology',
        kind: 'string',
        arg: 'nfit_test|FILE',
        help: 'the machine to model',
      },
    ],
    rest,
  );
  if (parsed === null) return USAGE_EXIT;
  if (parsed.args.length > 0 || (sub === 'show' && parsed.opts.topology !== undefined)) {
    io.stderr(`daxsim platform: unexpected argument '${parsed.args[0] ?? '--topology'}'\n`);
    return USAGE_EXIT;
  }
  const topology = () => loadTopology(parsed.opts.topology as string | undefined, io.cwd);
  try {
    if (sub === 'init') {
      const t = topology();
      const state = initPlatform(dir, t.topology, t.platforms);
      io.stderr(`daxsim: created a new ${state.topology} platform in ${dir}\n`);
      return 0;
    }
    if (sub === 'show') {
      showPlatform(io, readPlatform(dir));
      return 0;
    }
    if (sub === 'reset') {
      const t = parsed.opts.topology === undefined ? undefined : topology();
      if (!existsSync(dir)) {
        const fresh = t ?? topology();
        initPlatform(dir, fresh.topology, fresh.platforms);
        io.stderr(`daxsim: created a new ${fresh.topology} platform in ${dir}\n`);
        return 0;
      }
      return withLock(io, dir, async () => {
        const state = resetPlatform(dir, t);
        io.stderr(`daxsim: reset the ${state.topology} platform in ${dir}\n`);
        return 0;
      });
    }
  } catch (e) {
    io.stderr(`daxsim platform ${sub}: ${why(e)}\n`);
    return 1;
  }
  io.stderr(`daxsim platform: unknown subcommand '${sub ?? ''}' (init, show or reset)\n`);
  return USAGE_EXIT;
}

/** main() of the daxsim bin: returns the exit status. */
export async function daxsimMain(argv: string[], io: DaxsimIO): Promise<number> {
  let flag: string | undefined;
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--state' && i + 1 < argv.length) flag = argv[++i];
    else if (a.startsWith('--state=')) flag = a.slice('--state='.length);
    else break;
  }
  const [cmd, ...rest] = argv.slice(i);
  const dir = resolveStateDir(flag, io.env, io.cwd);
  switch (cmd) {
    case 'ndctl':
    case 'daxctl': {
      const main = cmd === 'ndctl' ? ndctlMain : daxctlMain;
      const first = rest[0];
      if (first === undefined || ['--help', '-h', 'help', '--version', 'version'].includes(first))
        return main(offlineContext(io), rest);
      return withMachine(io, dir, (ctx) => main(ctx, rest));
    }
    case 'daxio':
      return withMachine(io, dir, (ctx) => cmdDaxio(ctx, rest));
    case 'platform':
      return platformCommand(io, dir, rest);
    case 'demo': {
      const { runDemo } = await import('../demo.js');
      return runDemo(io, dir, rest);
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      io.stdout(USAGE);
      return cmd === undefined ? 1 : 0;
    case '--version':
      io.stdout('daxsim 0.0.0 (ndctl 78 model)\n');
      return 0;
    default:
      io.stderr(`daxsim: unknown command '${cmd}'\n${USAGE}`);
      return 1;
  }
}
