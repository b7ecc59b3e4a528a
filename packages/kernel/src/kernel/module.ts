/**
 * kernel/module.c and kernel/params.c: loading a module value into a kernel with parameters (insmod,
 * modprobe), the references that pin it (holders, try_module_get), and unloading (rmmod), which runs the
 * module's exit and is refused while the module is in use.
 */
import { kerr } from '../errno.js';
import type { Kernel } from '../kernel.js';

export type ParamValue = number | boolean | string;

/** module_param(): a parameter's default, sysfs permission and MODULE_PARM_DESC. */
export interface ParamSpec<T extends ParamValue = ParamValue> {
  default: T;
  /** Mode of /sys/module/<name>/parameters/<param>; 0 keeps it out of sysfs. */
  perm: number;
  description: string;
}

export type ParamSpecs<P> = { [K in keyof P]: P[K] extends ParamValue ? ParamSpec<P[K]> : never };

/** Any module definition, whatever its parameters and API (what the loader stores and `requires` lists). */
export interface AnyModuleDefinition {
  readonly name: string;
  readonly description?: string;
  readonly requires?: readonly AnyModuleDefinition[];
  readonly params?: object;
  init(ctx: never): unknown;
  exit?(api: never, ctx: never): unknown;
}

/** A module definition whose init returns the API `A`. */
export type ModuleWithApi<A> = AnyModuleDefinition & { init(ctx: never): A | Promise<A> };

/** What a module's init and exit receive. */
export interface ModuleContext<P> {
  readonly kernel: Kernel;
  readonly module: Module;
  /** Parameter values; init may adjust them (the adjusted value is what sysfs shows). */
  readonly params: P;
  /** Symbols of a module named in `requires`: the API its init returned. */
  symbols<A>(def: ModuleWithApi<A>): A;
}

/** A loadable module: a value (like a .ko) that can be loaded into any number of kernels. */
export interface ModuleDefinition<P, A> extends AnyModuleDefinition {
  /** Module name as lsmod shows it, e.g. "dax" or "device_dax". */
  readonly name: string;
  readonly description?: string;
  /** Modules whose symbols this one uses; insmod fails while any is not loaded. */
  readonly requires?: readonly AnyModuleDefinition[];
  readonly params?: ParamSpecs<P>;
  /** module_init(): returns the module's API (its exported symbols); throws to fail the load. */
  init(ctx: ModuleContext<P>): A | Promise<A>;
  /** module_exit(). */
  exit?(api: A, ctx: ModuleContext<P>): void | Promise<void>;
}

export type ModuleState = 'coming' | 'live' | 'going';

/** struct module: one loaded instance of a definition in one kernel. */
export class Module {
  readonly name: string;
  state: ModuleState = 'coming';
  /** try_module_get() references (open files, ...). */
  refcnt = 0;
  /** Modules that use this module's symbols. */
  readonly holders = new Set<Module>();
  /** Modules whose symbols this one uses. */
  readonly uses = new Set<Module>();
  api: unknown;
  readonly definition: AnyModuleDefinition;
  readonly context: ModuleContext<Record<string, ParamValue>>;

  constructor(
    definition: AnyModuleDefinition,
    context: (m: Module) => ModuleContext<Record<string, ParamValue>>,
  ) {
    this.name = definition.name;
    this.definition = definition;
    this.context = context(this);
  }
}

const SYS_MODULE = '/sys/module';

export class ModuleLoader {
  readonly #kernel: Kernel;
  readonly #loaded = new Map<string, Module>();

  constructor(kernel: Kernel) {
    this.#kernel = kernel;
    kernel.sysfs.createDir(SYS_MODULE);
  }

  /**
   * insmod: loads `def` with `params` over its defaults. EEXIST when loaded already; ENOENT ("Unknown
   * symbol") when a required module is not loaded or a parameter is unknown; EINVAL for a parameter of the
   * wrong type; an error thrown by init fails the load and leaves nothing behind.
   */
  async insmod<P, A>(def: ModuleDefinition<P, A>, params: Partial<P> = {}): Promise<A> {
    const log = this.#kernel.log;
    if (this.#loaded.has(def.name)) throw kerr('EEXIST', 'init_module');
    const deps: Module[] = [];
    for (const req of def.requires ?? []) {
      const dep = this.#loaded.get(req.name);
      if (dep === undefined || dep.definition !== req || dep.state !== 'live') {
        log.warning(`${def.name}: Unknown symbol in module (needs ${req.name})`);
        throw kerr('ENOENT', 'init_module');
      }
      deps.push(dep);
    }
    const values = parseParams(def, params as Record<string, unknown>, (msg) => log.warning(msg));
    const mod: Module = new Module(def, (m) => ({
      kernel: this.#kernel,
      module: m,
      params: values,
      symbols: <S>(d: ModuleWithApi<S>): S => {
        const dep = deps.find((x) => x.definition === d);
        if (dep === undefined) throw kerr('ENOENT', 'resolve_symbol');
        return dep.api as S;
      },
    }));
    this.#loaded.set(def.name, mod);
    for (const dep of deps) {
      dep.holders.add(mod);
      mod.uses.add(dep);
    }
    this.#createSysfs(mod);
    try {
      mod.api = await def.init(mod.context as unknown as ModuleContext<P>);
    } catch (e) {
      this.#removeSysfs(mod);
      this.#forget(mod);
      throw e;
    }
    mod.state = 'live';
    return mod.api as A;
  }

  /** modprobe: loads the modules `def` requires (recursively) and then `def`; a loaded module is reused. */
  async modprobe<P, A>(def: ModuleDefinition<P, A>, params: Partial<P> = {}): Promise<A> {
    const loaded = this.#loaded.get(def.name);
    if (loaded !== undefined && loaded.definition === def) return loaded.api as A;
    for (const req of def.requires ?? []) await this.modprobe(req as ModuleDefinition<unknown, unknown>);
    return this.insmod(def, params);
  }

  /**
   * rmmod / delete_module(): runs the module's exit and unloads it. ENOENT when not loaded; EWOULDBLOCK while
   * another module uses it or a reference (try_module_get) is held.
   */
  async rmmod(name: string | AnyModuleDefinition): Promise<void> {
    const key = typeof name === 'string' ? name : name.name;
    const mod = this.#loaded.get(key);
    if (mod === undefined) throw kerr('ENOENT', 'delete_module');
    if (mod.state !== 'live' || mod.holders.size > 0 || mod.refcnt > 0)
      throw kerr('EWOULDBLOCK', 'delete_module');
    mod.state = 'going';
    await mod.definition.exit?.(mod.api as never, mod.context as never);
    this.#removeSysfs(mod);
    this.#forget(mod);
  }

  /** The API of a loaded module (its exported symbols); ENOENT when it is not loaded. */
  symbols<A>(def: ModuleWithApi<A>): A {
    const mod = this.#loaded.get(def.name);
    if (mod === undefined || mod.definition !== def || mod.state !== 'live')
      throw kerr('ENOENT', 'find_symbol');
    return mod.api as A;
  }

  /** find_module(). */
  find(name: string): Module | undefined {
    return this.#loaded.get(name);
  }

  /** try_module_get(): pins a live module; false while it is coming or going. Null is always pinned. */
  tryModuleGet(mod: Module | null | undefined): boolean {
    if (mod === null || mod === undefined) return true;
    if (mod.state !== 'live') return false;
    mod.refcnt++;
    return true;
  }

  /** module_put(). */
  modulePut(mod: Module | null | undefined): void {
    if (mod === null || mod === undefined) return;
    if (
      this.#kernel.log.warn(
        mod.refcnt <= 0,
        'kernel/module.c:module_put',
        `${mod.name}: module_put() without a reference`,
      )
    )
      return;
    mod.refcnt--;
  }

  /** The sum of every loaded module's reference count (module_refcount()), for leak checks. */
  get refs(): number {
    let n = 0;
    for (const m of this.#loaded.values()) n += m.refcnt;
    return n;
  }

  /** Names of loaded modules, most recently loaded first (lsmod order). */
  list(): string[] {
    return [...this.#loaded.keys()].reverse();
  }

  /** The text of /proc/modules. */
  procModules(): string {
    return [...this.#loaded.values()]
      .reverse()
      .map((m) => {
        const holders = [...m.holders].map((h) => `${h.name},`).join('') || '-';
        const state = m.state === 'live' ? 'Live' : m.state === 'coming' ? 'Loading' : 'Unloading';
        return `${m.name} 16384 ${m.holders.size + m.refcnt} ${holders} ${state} 0x0000000000000000\n`;
      })
      .join('');
  }

  #forget(mod: Module): void {
    for (const dep of mod.uses) dep.holders.delete(mod);
    this.#loaded.delete(mod.name);
  }

  /** mod_sysfs_teardown(): the module's directory and its links in the holders of what it uses. */
  #removeSysfs(mod: Module): void {
    for (const dep of mod.uses) this.#kernel.sysfs.remove(`${SYS_MODULE}/${dep.name}/holders/${mod.name}`);
    this.#kernel.sysfs.remove(`${SYS_MODULE}/${mod.name}`);
  }

  /** mod_sysfs_setup(): /sys/module/<name> with initstate, refcnt, holders/ and parameters/, before init runs. */
  #createSysfs(mod: Module): void {
    const sysfs = this.#kernel.sysfs;
    const dir = `${SYS_MODULE}/${mod.name}`;
    sysfs.createDir(dir);
    sysfs.createFile(dir, { name: 'initstate', mode: 0o444, show: () => `${mod.state}\n` });
    sysfs.createFile(dir, { name: 'refcnt', mode: 0o444, show: () => `${mod.holders.size + mod.refcnt}\n` });
    sysfs.createDir(`${dir}/holders`);
    for (const dep of mod.uses) sysfs.createLink(`${SYS_MODULE}/${dep.name}/holders/${mod.name}`, dir);
    const specs = (mod.definition.params ?? {}) as Record<string, ParamSpec>;
    const visible = Object.entries(specs).filter(([, s]) => s.perm !== 0);
    if (visible.length === 0) return;
    sysfs.createDir(`${dir}/parameters`);
    for (const [key, spec] of visible)
      sysfs.createFile(`${dir}/parameters`, {
        name: key,
        mode: spec.perm,
        show: () => formatParam(mod.context.params[key]!),
      });
  }
}

function formatParam(v: ParamValue): string {
  if (typeof v === 'boolean') return v ? 'Y\n' : 'N\n';
  return `${v}\n`;
}

/** parse_args(): defaults overridden by the given values, checked against each parameter's type. */
function parseParams<P, A>(
  def: ModuleDefinition<P, A>,
  given: Record<string, unknown>,
  warn: (msg: string) => void,
): Record<string, ParamValue> {
  const specs = (def.params ?? {}) as Record<string, ParamSpec>;
  const values: Record<string, ParamValue> = {};
  for (const [key, spec] of Object.entries(specs)) values[key] = spec.default;
  for (const [key, value] of Object.entries(given)) {
    const spec = specs[key];
    if (spec === undefined) {
      warn(`${def.name}: Unknown parameter \`${key}'`);
      throw kerr('ENOENT', 'init_module');
    }
    const ok = typeof value === typeof spec.default && (typeof value !== 'number' || Number.isInteger(value));
    if (!ok) {
      warn(`${def.name}: \`${String(value)}' invalid for parameter \`${key}'`);
      throw kerr('EINVAL', 'init_module');
    }
    values[key] = value as ParamValue;
  }
  return values;
}
