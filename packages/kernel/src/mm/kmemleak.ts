/**
 * mm/kmemleak.c for daxsim: instead of scanning memory for unreferenced blocks, it counts the live objects of
 * every kind the drivers allocate or register (ids, minors, references, resources, sysfs nodes, devices...)
 * and compares the counts with a baseline, which is how a test proves that a path, or its failure, left
 * nothing behind. Allocators that have no kernel-wide registry (each IDA) report to it through track().
 */
import type { Kernel } from '../kernel.js';

/** One count per kind of object, e.g. `devices`, `sysfs nodes`, `ids dax_minor_ida`. */
export type LeakSnapshot = Readonly<Record<string, number>>;

/** A kind whose count moved since the baseline. */
export interface LeakDiff {
  readonly what: string;
  readonly before: number;
  readonly after: number;
}

export interface LeakCheckOptions {
  /** WARNs the caller provoked on purpose since the baseline; any other WARN fails the check. */
  expectedWarnings?: number;
  /** Kinds not to compare (e.g. `tasks` while a test still holds one). */
  ignore?: readonly string[];
}

/** The per-kernel leak tracker (kernel.kmemleak). */
export class Kmemleak {
  readonly #kernel: Kernel;
  readonly #tracked = new Map<string, number>();

  constructor(kernel: Kernel) {
    this.#kernel = kernel;
  }

  /** kmemleak_alloc()/kmemleak_free() in aggregate: `delta` more (or fewer) live objects of `kind`. */
  track(kind: string, delta: number): void {
    const n = (this.#tracked.get(kind) ?? 0) + delta;
    if (n === 0) this.#tracked.delete(kind);
    else this.#tracked.set(kind, n);
  }

  /** The live count of every kind, read from the subsystems and the tracked allocators. */
  snapshot(): LeakSnapshot {
    const k = this.#kernel;
    const block = k.block.counts;
    const chrdev = k.chrdev.counts;
    let tasks = 0;
    let fds = 0;
    for (const t of k.tasks.values()) {
      tasks++;
      fds += t.openFiles;
    }
    let deviceRefs = 0;
    for (const dev of k.driverCore.liveDevices)
      if (dev.kobj.stateInitialized) deviceRefs += dev.kobj.kref.read();
    const counts: Record<string, number> = {
      devices: k.driverCore.liveDeviceCount,
      'device refs': deviceRefs,
      'module refs': k.modules.refs,
      'sysfs nodes': k.sysfs.nodeCount,
      'devtmpfs inodes': k.devtmpfs.inodes,
      'chrdev regions': chrdev.regions,
      cdevs: chrdev.cdevs,
      disks: block.disks,
      'disk minors': block.minors,
      bdevs: block.bdevs,
      'iomem resources': k.iomem.count,
      'test resource requests': k.redirectedRequests,
      memremaps: k.memremap.count,
      pgmaps: k.memremap.pgmapCount,
      mounts: k.fs.mounts,
      inodes: k.fs.inodes,
      'inode refs': k.fs.inodeRefs,
      tasks,
      'open files': fds,
      'async pending': k.async.pending,
      'rcu callbacks': k.rcu.pendingCallbacks,
      warnings: k.log.warnings,
    };
    for (const [kind, n] of this.#tracked) counts[kind] = n;
    return counts;
  }

  /** A baseline of the current counts, to check() against later. */
  baseline(): LeakBaseline {
    return new LeakBaseline(this.#kernel, this.snapshot());
  }
}

/** The counts at one moment, and the comparison of later counts with them. */
export class LeakBaseline {
  readonly #kernel: Kernel;
  readonly before: LeakSnapshot;

  constructor(kernel: Kernel, before: LeakSnapshot) {
    this.#kernel = kernel;
    this.before = before;
  }

  /** Every kind whose count differs from the baseline (warnings beyond `expectedWarnings` included). */
  diff(options: LeakCheckOptions = {}): LeakDiff[] {
    const after = this.#kernel.kmemleak.snapshot();
    const ignore = new Set(options.ignore ?? []);
    const out: LeakDiff[] = [];
    for (const what of new Set([...Object.keys(this.before), ...Object.keys(after)])) {
      if (ignore.has(what)) continue;
      const before = (this.before[what] ?? 0) + (what === 'warnings' ? (options.expectedWarnings ?? 0) : 0);
      const now = after[what] ?? 0;
      if (now !== before) out.push({ what, before, after: now });
    }
    return out;
  }

  /** Throws an Error naming every kind that moved, with dmesg, unless nothing leaked. */
  assertClean(options: LeakCheckOptions = {}): void {
    const diff = this.diff(options);
    if (diff.length === 0) return;
    const moved = diff.map((d) => `${d.what} ${d.before} -> ${d.after}`).join(', ');
    throw new Error(`leak check: ${moved}\n${this.#kernel.dmesg().join('\n')}`);
  }
}
