/**
 * Drives the built `daxsim` bin as a child process, as a user's script would, over a state folder of its own.
 * The bin is dist/bin/daxsim.js: turbo builds it (and the packages it imports) before this package's tests.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const BIN = join(import.meta.dirname, '..', 'dist', 'bin', 'daxsim.js');

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** A scratch folder (holding the state folder `state/` and any host files) removed at dispose. */
export function scratch(): { dir: string; state: string } & Disposable {
  if (!existsSync(BIN))
    throw new Error(`${BIN} is missing: build the package first (turbo does it for test)`);
  const dir = mkdtempSync(join(tmpdir(), 'daxsim-cli-'));
  return {
    dir,
    state: join(dir, 'state'),
    [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A command line's words (no quoting: for lines whose words hold no spaces). */
export const sh = (line: string): string[] => line.split(' ');

/** Runs `daxsim --state <state> ...args` in `cwd` and waits for it. */
export function daxsim(state: string, cwd: string, ...args: string[]): RunResult {
  const r = spawnSync(process.execPath, [BIN, '--state', state, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, DAXSIM_STATE: '' },
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Runs a command that must succeed and print JSON; returns the parsed output. */
export function daxsimJson(state: string, cwd: string, ...args: string[]): unknown {
  const r = daxsim(state, cwd, ...args);
  if (r.status !== 0) throw new Error(`daxsim ${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** Starts `daxsim ...args` without waiting (to kill it mid-command). */
export function daxsimSpawn(state: string, cwd: string, ...args: string[]): ChildProcess {
  return spawn(process.execPath, [BIN, '--state', state, ...args], { cwd, stdio: 'ignore' });
}

/** A digest of every file in the state folder but the lock: equal digests mean the platform is unchanged. */
export function snapshot(state: string): string {
  const h = createHash('sha256');
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (name === 'lock') continue;
      if (statSync(p).isDirectory()) walk(p);
      else h.update(name).update(readFileSync(p));
    }
  };
  walk(state);
  return h.digest('hex');
}
