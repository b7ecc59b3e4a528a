/**
 * fs/kernfs and fs/sysfs: the tree of directories, attributes and symlinks under /sys, read and written by
 * path the way userspace does. Attribute show/store callbacks carry the kernel object they belong to.
 */
import { kerr } from '../../errno.js';
import type { Printk } from '../../kernel/printk.js';

/** A sysfs attribute bound to its object: `struct attribute` with its show/store. */
export interface SysfsAttribute {
  name: string;
  /** Permission bits, e.g. 0o444 read-only, 0o644 read-write, 0o200 write-only. */
  mode: number;
  show?: () => string;
  store?: (value: string) => void | Promise<void>;
}

export type SysfsNodeType = 'dir' | 'file' | 'link';

interface DirNode {
  type: 'dir';
  children: Map<string, SysfsNode>;
}
interface FileNode {
  type: 'file';
  attr: SysfsAttribute;
}
interface LinkNode {
  type: 'link';
  target: string;
}
type SysfsNode = DirNode | FileNode | LinkNode;

const MAX_LINK_DEPTH = 40;

function split(path: string): string[] {
  return path.split('/').filter((c) => c !== '' && c !== '.');
}

function parentAndName(path: string): [string, string] {
  const parts = split(path);
  const name = parts.pop();
  if (name === undefined) throw kerr('EEXIST', 'sysfs_create', { path });
  return [`/${parts.join('/')}`, name];
}

/**
 * Relative path from directory `fromDir` to `to`, as kernfs_get_target_path() builds it: up to the common
 * ancestor of `fromDir` and the target's parent, then down to the target ("../../../dax0.1").
 */
function relative(fromDir: string, to: string): string {
  const a = split(fromDir);
  const b = split(to);
  let i = 0;
  while (i < a.length && i < b.length - 1 && a[i] === b[i]) i++;
  return [...Array<string>(a.length - i).fill('..'), ...b.slice(i)].join('/');
}

export class Sysfs {
  readonly #root: DirNode = { type: 'dir', children: new Map() };
  readonly #log: Printk;
  #nodes = 0;

  constructor(log: Printk) {
    this.#log = log;
    this.#root.children.set('sys', { type: 'dir', children: new Map() });
    this.#nodes = 1;
  }

  /** sysfs_create_dir_ns(): a new directory; a duplicate name warns and fails with EEXIST, as in sysfs. */
  createDir(path: string): void {
    this.#insert(path, { type: 'dir', children: new Map() }, 'sysfs_create_dir');
  }

  /** sysfs_create_file(): an attribute file in directory `dir`. */
  createFile(dir: string, attr: SysfsAttribute): void {
    this.#insert(`${dir}/${attr.name}`, { type: 'file', attr }, 'sysfs_create_file');
  }

  /** sysfs_create_link(): a symlink at `path` pointing at the absolute sysfs path `target`. */
  createLink(path: string, target: string): void {
    this.#insert(path, { type: 'link', target }, 'sysfs_create_link');
  }

  /** kernfs_remove_by_name(): removes a node and everything below it; removing nothing is a no-op. */
  remove(path: string): void {
    const [dir, name] = parentAndName(path);
    const parent = this.#lookup(dir, false, 'sysfs_remove');
    if (parent?.type !== 'dir') return;
    const node = parent.children.get(name);
    if (node === undefined) return;
    parent.children.delete(name);
    this.#nodes -= countNodes(node);
  }

  /** read(2) of an attribute: its show() output. */
  read(path: string): string {
    const node = this.#resolve(path, 'read');
    if (node.type === 'dir') throw kerr('EISDIR', 'read', { path });
    const { attr } = node as FileNode;
    if ((attr.mode & 0o444) === 0) throw kerr('EACCES', 'open', { path });
    if (attr.show === undefined) throw kerr('EIO', 'read', { path });
    return attr.show();
  }

  /** write(2) to an attribute: its store(), whose errno reaches the writer. */
  async write(path: string, value: string): Promise<void> {
    const node = this.#resolve(path, 'write');
    if (node.type === 'dir') throw kerr('EISDIR', 'open', { path });
    const { attr } = node as FileNode;
    if ((attr.mode & 0o222) === 0 || attr.store === undefined) throw kerr('EACCES', 'open', { path });
    await attr.store(value);
  }

  /** readdir(3): the names in a directory, sorted. */
  readdir(path: string): string[] {
    const node = this.#resolve(path, 'scandir');
    if (node.type !== 'dir') throw kerr('ENOTDIR', 'scandir', { path });
    return [...node.children.keys()].sort();
  }

  /** readlink(2): the link's target relative to the link's directory, as sysfs shows it. */
  readlink(path: string): string {
    const node = this.#lookup(path, false, 'readlink');
    if (node === undefined) throw kerr('ENOENT', 'readlink', { path });
    if (node.type !== 'link') throw kerr('EINVAL', 'readlink', { path });
    return relative(parentAndName(path)[0], node.target);
  }

  /** realpath(3): the absolute path with every symlink resolved. */
  realpath(path: string): string {
    return this.#walk(path, true, 'realpath').path;
  }

  /** lstat(2)-like: the node's type without following a final symlink, or undefined when absent. */
  typeOf(path: string): SysfsNodeType | undefined {
    return this.#lookup(path, false, 'lstat')?.type;
  }

  exists(path: string): boolean {
    try {
      this.#walk(path, true, 'stat');
      return true;
    } catch {
      return false;
    }
  }

  /** Number of nodes in the tree, for leak checks. */
  get nodeCount(): number {
    return this.#nodes;
  }

  #insert(path: string, node: SysfsNode, syscall: string): void {
    const [dir, name] = parentAndName(path);
    const parent = this.#lookup(dir, true, syscall);
    if (parent === undefined) throw kerr('ENOENT', syscall, { path: dir });
    if (parent.type !== 'dir') throw kerr('ENOTDIR', syscall, { path: dir });
    if (parent.children.has(name)) {
      this.#log.warn(
        true,
        `fs/sysfs/dir.c:sysfs_warn_dup`,
        `sysfs: cannot create duplicate filename '${path}'`,
      );
      throw kerr('EEXIST', syscall, { path });
    }
    parent.children.set(name, node);
    this.#nodes += countNodes(node);
  }

  #resolve(path: string, syscall: string): SysfsNode {
    return this.#walk(path, true, syscall).node;
  }

  #lookup(path: string, follow: boolean, syscall: string): SysfsNode | undefined {
    try {
      return this.#walk(path, follow, syscall).node;
    } catch {
      return undefined;
    }
  }

  #walk(path: string, followLast: boolean, syscall: string, depth = 0): { node: SysfsNode; path: string } {
    if (depth > MAX_LINK_DEPTH) throw kerr('ENOENT', syscall, { path });
    let node: SysfsNode = this.#root;
    const done: string[] = [];
    const parts = split(path);
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      if (part === '..') {
        done.pop();
        node = this.#walk(`/${done.join('/')}`, true, syscall, depth + 1).node;
        continue;
      }
      if (node.type !== 'dir') throw kerr('ENOTDIR', syscall, { path });
      const next = node.children.get(part);
      if (next === undefined) throw kerr('ENOENT', syscall, { path });
      if (next.type === 'link' && (followLast || i < parts.length - 1)) {
        const target = this.#walk(next.target, true, syscall, depth + 1);
        node = target.node;
        done.splice(0, done.length, ...split(target.path));
        continue;
      }
      node = next;
      done.push(part);
    }
    return { node, path: `/${done.join('/')}` };
  }
}

function countNodes(node: SysfsNode): number {
  if (node.type !== 'dir') return 1;
  let n = 1;
  for (const child of node.children.values()) n += countNodes(child);
  return n;
}
