/**
 * The state folder a persistent platform lives in (default ./.daxsim; `--state DIR` or DAXSIM_STATE override):
 *
 *   platform.json          what the machine is: {"daxsim": 1, "topology": name, "platforms": [{name, platform}]}
 *   media/<p>-spa-<base>.img   each SPA range's media, a sparse file of the range's size
 *   labels/<p>-dimm-<h>.lsa    each labelled DIMM's label area
 *   errors/<p>.json        each platform's injected media errors
 *   lock                   the pid of the invocation using the platform
 *
 * A new folder is built beside its final name and renamed into place, so it appears whole or not at all;
 * platform.json is replaced atomically. A folder whose files do not match platform.json is broken: commands
 * refuse it (changing nothing) and `daxsim platform reset` rebuilds it.
 */
import {
  closeSync,
  existsSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { kerr } from '@daxsim/kernel';
import type { NfitTestPlatformSpec } from '@daxsim/test-nvdimm';
import { errorsPath, labelPath, mediaPath, parseErrorsFile, writeFileAtomic } from './file_media.js';
import { DEFAULT_TOPOLOGY, defaultTopology, parseTopology, validatePlatforms } from './topology.js';

/** The environment variable naming the state folder. */
export const DAXSIM_STATE_ENV = 'DAXSIM_STATE';
export const DEFAULT_STATE_DIR = '.daxsim';
const FORMAT = 1;

/** A state folder's description, read from its platform.json. */
export interface PlatformState {
  dir: string;
  topology: string;
  platforms: NfitTestPlatformSpec[];
}

/** The state folder: the flag, else $DAXSIM_STATE, else ./.daxsim, resolved against `cwd`. */
export function resolveStateDir(flag: string | undefined, env: NodeJS.ProcessEnv, cwd: string): string {
  const dir = flag ?? (env[DAXSIM_STATE_ENV] || undefined) ?? DEFAULT_STATE_DIR;
  return resolve(cwd, dir);
}

/**
 * The platforms of a topology argument: "nfit_test" (or none) for nfit_test's, else the path of a JSON
 * description. EINVAL for a bad description, ENOENT for a missing file.
 */
export function loadTopology(
  arg: string | undefined,
  cwd: string,
): { topology: string; platforms: NfitTestPlatformSpec[] } {
  if (arg === undefined || arg === DEFAULT_TOPOLOGY)
    return { topology: DEFAULT_TOPOLOGY, platforms: defaultTopology() };
  const path = resolve(cwd, arg);
  if (!existsSync(path)) throw kerr('ENOENT', `topology file ${arg} does not exist`);
  const platforms = validatePlatforms(parseTopology(readFileSync(path, 'utf8')));
  return { topology: basename(path), platforms };
}

/** Writes every file of a fresh platform into `dir` (which exists and is empty). */
function populate(dir: string, topology: string, platforms: NfitTestPlatformSpec[]): void {
  for (const sub of ['media', 'labels', 'errors']) mkdirSync(join(dir, sub), { recursive: true });
  for (const { name, platform } of platforms) {
    platform.dimms.forEach((dimm, i) => {
      if (dimm.labelSize === 0) return;
      const fd = openSync(labelPath(dir, name, dimm.handle), 'w');
      try {
        ftruncateSync(fd, dimm.labelSize);
        writeSync(fd, new TextEncoder().encode(`label${i}\0`).subarray(0, dimm.labelSize), 0, undefined, 0);
      } finally {
        closeSync(fd);
      }
    });
    for (const spa of platform.spas) {
      const fd = openSync(mediaPath(dir, name, spa.base), 'w');
      try {
        ftruncateSync(fd, spa.size);
      } finally {
        closeSync(fd);
      }
    }
    writeFileSync(errorsPath(dir, name), '[]\n');
  }
  writeFileAtomic(
    join(dir, 'platform.json'),
    `${JSON.stringify({ daxsim: FORMAT, topology, platforms }, null, 2)}\n`,
  );
}

/**
 * `daxsim platform init`: creates the folder with a fresh platform of `topology`. EEXIST when a platform is
 * there already. The folder appears whole or not at all.
 */
export function initPlatform(
  dir: string,
  topology: string,
  platforms: NfitTestPlatformSpec[],
): PlatformState {
  if (existsSync(join(dir, 'platform.json'))) throw kerr('EEXIST', `a platform already exists in ${dir}`);
  mkdirSync(dirname(dir), { recursive: true });
  const tmp = `${dir}.creating-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  try {
    populate(tmp, topology, platforms);
    if (existsSync(dir)) {
      if (readdirSync(dir).length > 0) throw kerr('EEXIST', `${dir} exists and is not a platform folder`);
      rmdirSync(dir);
    }
    renameSync(tmp, dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return { dir, topology, platforms };
}

/**
 * `daxsim platform reset`: a fresh platform in place (all labels, data and errors gone), of `topology` or of the
 * folder's own when none is given (nfit_test if platform.json is unreadable). Call with the lock held.
 */
export function resetPlatform(
  dir: string,
  next?: { topology: string; platforms: NfitTestPlatformSpec[] },
): PlatformState {
  let t = next;
  if (t === undefined) {
    try {
      const cur = readPlatform(dir, { checkFiles: false });
      t = { topology: cur.topology, platforms: cur.platforms };
    } catch {
      t = { topology: DEFAULT_TOPOLOGY, platforms: defaultTopology() };
    }
  }
  for (const sub of ['media', 'labels', 'errors']) rmSync(join(dir, sub), { recursive: true, force: true });
  rmSync(join(dir, 'platform.json'), { force: true });
  populate(dir, t.topology, t.platforms);
  return { dir, ...t };
}

/**
 * Reads and checks a state folder: ENOENT when there is no platform; EINVAL (naming the problem) when
 * platform.json is malformed or, with checkFiles, a media, label or error file is missing or the wrong size.
 */
export function readPlatform(dir: string, o: { checkFiles?: boolean } = {}): PlatformState {
  const path = join(dir, 'platform.json');
  if (!existsSync(path)) throw kerr('ENOENT', `no platform in ${dir}`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw kerr('EINVAL', `${path} is not JSON`);
  }
  const r = raw as { daxsim?: unknown; topology?: unknown; platforms?: unknown };
  if (typeof raw !== 'object' || raw === null || r.daxsim !== FORMAT || typeof r.topology !== 'string')
    throw kerr('EINVAL', `${path} is not a daxsim platform (format ${FORMAT})`);
  let platforms: NfitTestPlatformSpec[];
  try {
    platforms = validatePlatforms(r.platforms);
  } catch (e) {
    throw kerr('EINVAL', `${path}: ${(e as Error).message}`);
  }
  if (o.checkFiles ?? true) checkFiles(dir, platforms);
  return { dir, topology: r.topology, platforms };
}

function checkFile(path: string, size: number): void {
  if (!existsSync(path)) throw kerr('EINVAL', `${path} is missing`);
  const actual = statSync(path).size;
  if (actual !== size) throw kerr('EINVAL', `${path} is ${actual} bytes, not ${size}`);
}

function checkFiles(dir: string, platforms: NfitTestPlatformSpec[]): void {
  for (const { name, platform } of platforms) {
    for (const d of platform.dimms)
      if (d.labelSize > 0) checkFile(labelPath(dir, name, d.handle), d.labelSize);
    for (const s of platform.spas) checkFile(mediaPath(dir, name, s.base), s.size);
    const errs = errorsPath(dir, name);
    if (!existsSync(errs)) throw kerr('EINVAL', `${errs} is missing`);
    parseErrorsFile(readFileSync(errs, 'utf8'), errs);
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the folder's lock (an O_EXCL lock file holding our pid); a lock left by a process that is gone is
 * taken over. EBUSY while a live process holds it. Returns the release function.
 */
export function lockPlatform(dir: string): () => void {
  const path = join(dir, 'lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      let held = true;
      return () => {
        if (!held) return;
        held = false;
        try {
          unlinkSync(path);
        } catch {}
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const buf = new Uint8Array(32);
      let owner = Number.NaN;
      try {
        const fd = openSync(path, 'r');
        const n = readSync(fd, buf, 0, buf.length, 0);
        closeSync(fd);
        owner = Number.parseInt(new TextDecoder().decode(buf.subarray(0, n)), 10);
      } catch {}
      if (Number.isInteger(owner) && owner !== process.pid && pidAlive(owner))
        throw kerr('EBUSY', `platform ${dir} is in use by pid ${owner}`);
      rmSync(path, { force: true });
    }
  }
  throw kerr('EBUSY', `platform ${dir} is locked`);
}
