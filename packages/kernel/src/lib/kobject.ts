/**
 * lib/kobject.c: the reference-counted object behind every directory under /sys. kobject_add creates the
 * directory under the parent's and pins the parent; the last put deletes a directory still present, then
 * calls the release function.
 */
import { kerr } from '../errno.js';
import type { Sysfs } from '../fs/sysfs/kernfs.js';
import type { Printk } from '../kernel/printk.js';
import { Kref } from './kref.js';

/** kobj_type.release: frees the object embedding the kobject once the last reference is gone. */
export type KobjectRelease = (kobj: Kobject) => void;

/** struct kobject. */
export class Kobject {
  name: string;
  /** The kobject whose directory holds this one's while it is added; null otherwise. */
  parent: Kobject | null = null;
  #kref: Kref | null = null;
  #log: Printk | null = null;
  #release: KobjectRelease | null = null;
  #sysfs: Sysfs | null = null;
  #path: string | null = null;

  constructor(name = '') {
    this.name = name;
  }

  /** The /sys path of this kobject's directory while it is added, else null. */
  get sysfsPath(): string | null {
    return this.#path;
  }

  /** kobj->state_in_sysfs. */
  get stateInSysfs(): boolean {
    return this.#path !== null;
  }

  /** kobj->state_initialized. */
  get stateInitialized(): boolean {
    return this.#kref !== null;
  }

  /** The reference count; EINVAL before init(). */
  get kref(): Kref {
    return this.#initialized('kobject_get');
  }

  /** kobject_set_name(): '/' cannot appear in a sysfs name and becomes '!'. */
  setName(name: string): void {
    this.name = name.replaceAll('/', '!');
  }

  /** kobject_init(): one reference, owned by the caller; initializing twice warns and changes nothing. */
  init(log: Printk, release: KobjectRelease | null = null): this {
    if (this.#kref !== null) {
      log.warn(
        true,
        'lib/kobject.c:kobject_init',
        `kobject (${this.name}): tried to init an initialized object, something is seriously wrong.`,
      );
      return this;
    }
    this.#log = log;
    this.#kref = new Kref(log);
    this.#release = release;
    return this;
  }

  /** kobject_get(). */
  get(): this {
    this.#initialized('kobject_get').get();
    return this;
  }

  /** kobject_put(): the last put deletes the directory if still added ("auto cleanup") and releases. */
  put(): void {
    this.#initialized('kobject_put').put(() => this.#cleanup());
  }

  /**
   * kobject_add(kobj, parent, NULL): creates /sys/.../<parent>/<name> (or /sys/<name> without a parent) and
   * takes a reference on the parent. EINVAL for an empty name, EEXIST for a taken one, ENOENT when the parent
   * has no directory; a failed add leaves nothing behind.
   */
  add(sysfs: Sysfs, parent: Kobject | null): void {
    const log = this.#log;
    if (log === null) throw kerr('EINVAL', 'kobject_add');
    if (this.name === '') {
      log.warn(
        true,
        'lib/kobject.c:kobject_add_internal',
        'kobject: attempted to be registered with empty name!',
      );
      throw kerr('EINVAL', 'kobject_add');
    }
    parent?.get();
    const dir = parent === null ? '/sys' : parent.sysfsPath;
    try {
      if (dir === null) throw kerr('ENOENT', 'sysfs_create_dir');
      sysfs.createDir(`${dir}/${this.name}`);
    } catch (e) {
      parent?.put();
      const code = (e as { code?: string }).code;
      log.warn(
        true,
        'lib/kobject.c:kobject_add_internal',
        code === 'EEXIST'
          ? `kobject_add_internal failed for ${this.name} with -EEXIST, don't try to register things with the same name in the same directory.`
          : `kobject_add_internal failed for ${this.name} (error: ${(e as { errno?: number }).errno} parent: ${parent?.name ?? "'none'"})`,
      );
      throw e;
    }
    this.parent = parent;
    this.#sysfs = sysfs;
    this.#path = `${dir}/${this.name}`;
  }

  /** kobject_del(): removes the directory and everything in it, and drops the reference on the parent. */
  del(): void {
    if (this.#path === null) return;
    this.#sysfs?.remove(this.#path);
    this.#path = null;
    this.#sysfs = null;
    const parent = this.parent;
    this.parent = null;
    parent?.put();
  }

  #initialized(op: string): Kref {
    if (this.#kref === null) throw kerr('EINVAL', op);
    return this.#kref;
  }

  #cleanup(): void {
    if (this.#path !== null) {
      this.#log?.debug(`kobject: '${this.name}': auto cleanup kobject_del`);
      this.del();
    }
    if (this.#release !== null) this.#release(this);
    else
      this.#log?.debug(
        `kobject: '${this.name}': does not have a release() function, it is broken and must be fixed.`,
      );
  }
}
