/**
 * `daxsim ndctl list` from a cold start: a new node process that loads the tools, boots the default platform
 * from its state folder (modprobe, label and info-block probes), lists, and shuts down. The baseline, measured
 * in the same run, is a node process that does nothing. Median of 15 runs after 3 warm-ups; the target is
 * 400 ms wall. Run: npx -y pnpm@10.34.9 --filter @daxsim/ndctl bench (after a build).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = join(import.meta.dirname, '..', 'dist', 'bin', 'daxsim.js');
const ROUNDS = 15;
const WARMUP = 3;

function wall(args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
  const t = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
  return t;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function measure(args: string[]): number {
  for (let i = 0; i < WARMUP; i++) wall(args);
  return median(Array.from({ length: ROUNDS }, () => wall(args)));
}

const dir = mkdtempSync(join(tmpdir(), 'daxsim-bench-'));
try {
  const state = join(dir, 'state');
  wall([BIN, '--state', state, 'platform', 'init']);
  wall([
    BIN,
    '--state',
    state,
    'ndctl',
    'create-namespace',
    '-r',
    'region1',
    '-m',
    'devdax',
    '-a',
    '4K',
    '-s',
    '16M',
  ]);
  wall([
    BIN,
    '--state',
    state,
    'ndctl',
    'create-namespace',
    '-r',
    'region0',
    '-m',
    'fsdax',
    '-a',
    '4K',
    '-s',
    '16M',
  ]);
  const baseline = measure(['-e', '']);
  const list = measure([BIN, '--state', state, 'ndctl', 'list']);
  const listAll = measure([BIN, '--state', state, 'ndctl', 'list', '-BDRNXiu']);
  const rows = [
    ['node -e "" (baseline)', baseline],
    ['daxsim ndctl list', list],
    ['daxsim ndctl list -BDRNXiu', listAll],
  ] as const;
  console.log('| command | median wall (ms) | vs baseline |\n|---|---|---|');
  for (const [name, ms] of rows)
    console.log(`| ${name} | ${ms.toFixed(1)} | ${(ms / baseline).toFixed(2)}x |`);
  console.log(`\ntarget: daxsim ndctl list under 400 ms cold: ${list < 400 ? 'met' : 'MISSED'}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
