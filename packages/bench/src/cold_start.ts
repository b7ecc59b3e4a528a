/**
 * `daxsim ndctl list` from a cold start: a new node process that loads the built tools, boots the default
 * platform from its state folder (modprobe, label and info-block probes), lists and shuts down. The platform
 * has an fsdax and a devdax namespace. The baseline, in the same run, is a node process that does nothing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, type Rounds } from './harness.js';
import type { Row } from './table.js';

/** Set by issue 5 (ndctl): under 400 ms wall from a cold start. */
const TARGET = { of: 'value', cmp: '<', limit: 400, source: 'issue 5' } as const;

/** Runs of each command: the full bench's. */
export const COLD_START_DEFAULTS: Rounds = { rounds: 15, warmup: 3 };

/** The built `daxsim` bin of @daxsim/ndctl (`turbo run bench` builds it first). */
function daxsimBin(): string {
  const pkg = fileURLToPath(import.meta.resolve('@daxsim/ndctl/package.json'));
  const bin = join(dirname(pkg), 'dist', 'bin', 'daxsim.js');
  if (!existsSync(bin)) throw new Error(`${bin} is missing: build @daxsim/ndctl first`);
  return bin;
}

/** Wall milliseconds of one `node ...args` run; throws unless it exits 0. */
function wall(args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
  return ms;
}

/** Rows for `ndctl list` and `ndctl list -BDRNXiu`, each beside `node -e ""`. */
export function coldStart(o: Rounds = COLD_START_DEFAULTS): Row[] {
  const bin = daxsimBin();
  const dir = mkdtempSync(join(tmpdir(), 'daxsim-bench-'));
  try {
    const daxsim = (...args: string[]) => [bin, '--state', join(dir, 'state'), ...args];
    wall(daxsim('platform', 'init'));
    wall(daxsim('ndctl', 'create-namespace', '-r', 'region1', '-m', 'devdax', '-a', '4K', '-s', '16M'));
    wall(daxsim('ndctl', 'create-namespace', '-r', 'region0', '-m', 'fsdax', '-a', '4K', '-s', '16M'));
    const commands = {
      node: ['-e', ''],
      list: daxsim('ndctl', 'list'),
      listAll: daxsim('ndctl', 'list', '-BDRNXiu'),
    };
    const samples = { node: [] as number[], list: [] as number[], listAll: [] as number[] };
    // Interleaved, so that a busy moment of the machine falls on all three alike.
    for (let i = 0; i < o.warmup + o.rounds; i++) {
      for (const k of ['node', 'list', 'listAll'] as const) {
        const ms = wall(commands[k]);
        if (i >= o.warmup) samples[k].push(ms);
      }
    }
    const baseline = { value: median(samples.node), unit: 'ms', label: 'node -e ""' } as const;
    return [
      {
        key: 'cold_start.list',
        measure: '`daxsim ndctl list`, cold start',
        value: { value: median(samples.list), unit: 'ms' },
        baseline,
        target: TARGET,
      },
      {
        key: 'cold_start.list_all',
        measure: '`daxsim ndctl list -BDRNXiu`, cold start',
        value: { value: median(samples.listAll), unit: 'ms' },
        baseline,
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
