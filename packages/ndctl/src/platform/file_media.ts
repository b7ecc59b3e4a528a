/**
 * The platform's non-volatile state in files, for a machine that persists between invocations: each SPA
 * range's media in a sparse file, each DIMM's label area in a file, each platform's injected errors in a JSON
 * file. Every store goes straight to its file (write-through, like a store to persistent memory that is flushed
 * at once), so a process killed at any point leaves at most the one write it was making torn — which is what
 * the label index protocol and the info block checksum are designed to survive.
 */
import {
  closeSync,
  existsSync,
  fstatSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { kerr, type MemoryBacking } from '@daxsim/kernel';
import type { NfitPlatform } from '@daxsim/nvdimm-sim';
import {
  type InjectedError,
  type InjectedErrorStore,
  type LabelStore,
  NfitTestMedia,
} from '@daxsim/test-nvdimm';

/** Opened file descriptors, closed together at shutdown. */
class FdSet {
  readonly #fds: number[] = [];

  open(path: string, size: number): number {
    if (!existsSync(path)) throw kerr('ENOENT', `daxsim platform: missing ${path}`);
    const fd = openSync(path, 'r+');
    this.#fds.push(fd);
    const actual = fstatSync(fd).size;
    if (actual !== size)
      throw kerr('EINVAL', `daxsim platform: ${path} is ${actual} bytes, expected ${size}`);
    return fd;
  }

  closeAll(): void {
    for (const fd of this.#fds.splice(0)) closeSync(fd);
  }
}

function preadFull(fd: number, dst: Uint8Array, off: number): void {
  let done = 0;
  while (done < dst.length) {
    const n = readSync(fd, dst, done, dst.length - done, off + done);
    if (n === 0) {
      dst.fill(0, done);
      return;
    }
    done += n;
  }
}

function pwriteFull(fd: number, src: Uint8Array, off: number): void {
  let done = 0;
  while (done < src.length) done += writeSync(fd, src, done, src.length - done, off + done);
}

/** An SPA range's media in a sparse file of the range's size: reads and writes go to the file at once. */
export class FileBacking implements MemoryBacking {
  readonly #fd: number;
  readonly #size: number;

  constructor(fd: number, size: number) {
    this.#fd = fd;
    this.#size = size;
  }

  read(off: number, dst: Uint8Array): void {
    this.#check(off, dst.length);
    preadFull(this.#fd, dst, off);
  }

  write(off: number, src: Uint8Array): void {
    this.#check(off, src.length);
    pwriteFull(this.#fd, src, off);
  }

  discard(off: number, len: number): void {
    this.#check(off, len);
    const zero = new Uint8Array(Math.min(len, 1 << 20));
    for (let done = 0; done < len; done += zero.length)
      pwriteFull(this.#fd, zero.subarray(0, Math.min(zero.length, len - done)), off + done);
  }

  /** Host memory held: none, the data lives in the file. */
  get allocatedBytes(): number {
    return 0;
  }

  #check(off: number, len: number): void {
    if (off < 0 || off + len > this.#size) throw kerr('EIO', 'daxsim platform: media access out of range');
  }
}

/** A DIMM's label area in a file of the area's size. */
export class FileLabelStore implements LabelStore {
  readonly #fd: number;
  readonly size: number;

  constructor(fd: number, size: number) {
    this.#fd = fd;
    this.size = size;
  }

  read(off: number, len: number): Uint8Array {
    const buf = new Uint8Array(len);
    preadFull(this.#fd, buf, off);
    return buf;
  }

  write(off: number, data: Uint8Array): void {
    pwriteFull(this.#fd, data, off);
  }
}

/** Writes `text` to `path` atomically: a temporary file in the same folder, then rename(2) over the old one. */
export function writeFileAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** Where one platform's files live inside the state folder. */
export function mediaPath(dir: string, platform: string, base: number): string {
  return join(dir, 'media', `${platform}-spa-${base.toString(16)}.img`);
}

export function labelPath(dir: string, platform: string, handle: number): string {
  return join(dir, 'labels', `${platform}-dimm-${handle.toString(16)}.lsa`);
}

export function errorsPath(dir: string, platform: string): string {
  return join(dir, 'errors', `${platform}.json`);
}

/** Parses an injected-error file: a JSON array of {address, length} with non-negative safe integers. */
export function parseErrorsFile(text: string, path: string): InjectedError[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw kerr('EINVAL', `daxsim platform: ${path} is not JSON`);
  }
  const ok = (n: unknown) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
  if (
    !Array.isArray(v) ||
    !v.every((e) => typeof e === 'object' && e !== null && ok(e.address) && ok(e.length))
  )
    throw kerr('EINVAL', `daxsim platform: ${path} is not a list of {address, length}`);
  return v.map((e) => ({ address: e.address, length: e.length }));
}

/**
 * NfitTestMedia over the files of state folder `dir`: label areas, media and error lists come from files the
 * platform's creation made; a missing or wrongly sized file is ENOENT/EINVAL (a broken platform folder).
 */
export class FileMedia extends NfitTestMedia {
  readonly #dir: string;
  readonly #fds = new FdSet();
  readonly #platforms: ReadonlyMap<string, NfitPlatform>;

  constructor(dir: string, platforms: ReadonlyMap<string, NfitPlatform>) {
    super();
    this.#dir = dir;
    this.#platforms = platforms;
  }

  override labelsFor(name: string, platform: NfitPlatform): Map<number, LabelStore> {
    const out = new Map<number, LabelStore>();
    for (const dimm of platform.dimms) {
      if (dimm.labelSize === 0) continue;
      const fd = this.#fds.open(labelPath(this.#dir, name, dimm.handle), dimm.labelSize);
      out.set(dimm.handle, new FileLabelStore(fd, dimm.labelSize));
    }
    return out;
  }

  override backingFor(name: string, base: number): MemoryBacking {
    const spa = this.#platforms.get(name)?.spas.find((s) => s.base === base);
    if (spa === undefined)
      throw kerr('ENOENT', `daxsim platform: no range at 0x${base.toString(16)} in ${name}`);
    return new FileBacking(this.#fds.open(mediaPath(this.#dir, name, base), spa.size), spa.size);
  }

  override errorsFor(name: string): InjectedErrorStore {
    const path = errorsPath(this.#dir, name);
    return {
      load: () => parseErrorsFile(readFileSync(path, 'utf8'), path),
      save: (errors) => writeFileAtomic(path, `${JSON.stringify(errors)}\n`),
    };
  }

  /** Closes every file (at shutdown, after the modules are unloaded). */
  close(): void {
    this.#fds.closeAll();
  }
}
