/**
 * Whole-stack lifecycle property: random sequences of ndctl create / enable / disable / destroy / reconfigure,
 * driver unbinds, dax inode kills, and tasks that open, mmap, access, munmap, close and exit, over a fresh
 * nfit_test stack per run. Every step asserts the kernel's outcome (errno, signal, or success) against the model,
 * and after every step: no access succeeds through a mapping of a killed or unregistered device; sysfs, /dev and
 * the modules' object counts agree with the model; available_size is the region less its namespaces. The
 * fixture's dispose unloads everything and runs the leak check at the end of each run.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { NdMode } from './libndctl.js';
import { LifecycleWorld, type Op } from './lifecycle_model.js';
import { bootNfitTest, KiB, MiB } from './nd_fixture.js';

const NUM_RUNS = Number(process.env.LIFECYCLE_RUNS ?? 1000);
/** To replay a failure, set the seed and path fast-check printed. */
const REPLAY =
  process.env.LIFECYCLE_SEED === undefined
    ? {}
    : { seed: Number(process.env.LIFECYCLE_SEED), path: process.env.LIFECYCLE_PATH };
const MAX_COMMANDS = 50;

const pickArb = fc.nat(1000);
const modeArb = fc.constantFrom<NdMode>('raw', 'fsdax', 'devdax', 'devdax', 'devdax');
const alignArb = fc.constantFrom(4 * KiB, 2 * MiB);
/**
 * Size in 4 MiB units (regions are 32 and 64 MiB): mostly claimable sizes that leave room for more, some under
 * the 16 MiB claim minimum, some that need most of a region or more than it has.
 */
const unitsArb = fc.oneof(
  { weight: 5, arbitrary: fc.integer({ min: 4, max: 6 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }) },
  { weight: 1, arbitrary: fc.integer({ min: 7, max: 17 }) },
);
const rarely = fc.oneof(
  { weight: 9, arbitrary: fc.constant(false) },
  { weight: 1, arbitrary: fc.constant(true) },
);

const createArb: fc.Arbitrary<Op> = fc.record({
  op: fc.constant('create' as const),
  region: fc.nat(1),
  mode: modeArb,
  units: unitsArb,
  misalign: rarely,
  align: alignArb,
});

const opArbs: Array<[weight: number, fc.Arbitrary<Op>]> = [
  [6, createArb],
  [2, fc.record({ op: fc.constant('enable' as const), ns: pickArb })],
  [2, fc.record({ op: fc.constant('disable' as const), ns: pickArb, release: fc.boolean() })],
  [2, fc.record({ op: fc.constant('destroy' as const), ns: pickArb, force: fc.boolean() })],
  [2, fc.record({ op: fc.constant('reconfigure' as const), ns: pickArb, mode: modeArb, align: alignArb })],
  [
    2,
    fc.record({
      op: fc.constant('unbind' as const),
      ns: pickArb,
      target: fc.constantFrom<'active' | 'namespace'>('active', 'active', 'namespace'),
    }),
  ],
  [2, fc.record({ op: fc.constant('kill' as const), dev: pickArb })],
  [
    5,
    fc.record({
      op: fc.constant('mmap' as const),
      task: fc.nat(2),
      dev: pickArb,
      reuse: fc.boolean(),
      units: fc.integer({ min: 1, max: 4 }),
      offUnits: fc.oneof({ weight: 3, arbitrary: fc.nat(1) }, { weight: 1, arbitrary: fc.nat(8) }),
      shared: fc.oneof(
        { weight: 6, arbitrary: fc.constant(true) },
        { weight: 1, arbitrary: fc.constant(false) },
      ),
      misalign: rarely,
    }),
  ],
  [
    8,
    fc.record({
      op: fc.constant('access' as const),
      map: pickArb,
      // a few offsets, so that loads often meet earlier stores at the same device offset
      at: fc.nat(15).map((i) => i * 256 * KiB + (i % 2)),
      write: fc.boolean(),
      value: fc.integer({ min: 1, max: 255 }),
      recall: fc.boolean(),
    }),
  ],
  [2, fc.record({ op: fc.constant('munmap' as const), map: pickArb })],
  [2, fc.record({ op: fc.constant('close' as const), task: fc.nat(2), file: pickArb })],
  [1, fc.record({ op: fc.constant('exit' as const), task: fc.nat(2) })],
];

/** One operation as a fast-check command over the world (model and stack in one object). */
class LifecycleCommand implements fc.AsyncCommand<LifecycleWorld, LifecycleWorld> {
  constructor(readonly o: Op) {}
  check(w: Readonly<LifecycleWorld>): boolean {
    return w.applies(this.o);
  }
  async run(_m: LifecycleWorld, w: LifecycleWorld): Promise<void> {
    await w.step(this.o);
  }
  toString(): string {
    return JSON.stringify(this.o);
  }
}

/** fc.commands takes a list of command arbitraries; weights become repetitions. */
const commandArbs = opArbs.flatMap(([weight, arb]) =>
  Array.from({ length: weight }, () => arb.map((o) => new LifecycleCommand(o))),
);

describe('whole-stack lifecycle (property)', () => {
  it('example: data outlives its device; kill and unregister both SIGBUS mappings; rediscovery by info block', async () => {
    await using s = await bootNfitTest();
    const w = new LifecycleWorld(s, new Map());
    await w.setup();
    const mmap = {
      op: 'mmap',
      dev: 0,
      reuse: false,
      units: 1,
      offUnits: 0,
      shared: true,
      misalign: false,
    } as const;
    const load = { op: 'access', map: 0, at: 0, write: false, value: 0, recall: true } as const;
    const steps: Array<[Op, string]> = [
      [{ op: 'create', region: 1, mode: 'devdax', units: 5, misalign: false, align: 2 * MiB }, 'ok'],
      [{ ...mmap, task: 0 }, 'ok'],
      [{ op: 'access', map: 0, at: 12345, write: true, value: 0x5a, recall: false }, 'store'],
      [{ op: 'kill', dev: 0 }, 'ok'],
      [load, 'SIGBUS'],
      [{ ...mmap, task: 0, reuse: true }, 'ENXIO'],
      [{ ...mmap, task: 1 }, 'open ENXIO'],
      [{ op: 'disable', ns: 0, release: false }, 'enabled'],
      [{ ...mmap, task: 1 }, 'open ENOENT'],
      [{ op: 'enable', ns: 0 }, 'ok'],
      [{ ...mmap, task: 1 }, 'ok'],
      [
        { op: 'access', map: 1, at: 0, write: false, value: 0, recall: true },
        'load of a byte an earlier instance stored',
      ],
      [{ op: 'disable', ns: 0, release: true }, 'enabled+release'],
      [{ op: 'access', map: 1, at: 0, write: false, value: 0, recall: true }, 'SIGBUS'],
      [{ op: 'enable', ns: 0 }, 'rediscovered'],
      [{ op: 'exit', task: 0 }, 'ok'],
      [{ ...mmap, task: 0, shared: false }, 'EINVAL'],
      [{ ...mmap, task: 0, reuse: true }, 'ok'],
      // task 0's new mapping comes first now
      [
        { op: 'access', map: 0, at: 0, write: false, value: 0, recall: true },
        'load of a byte an earlier instance stored',
      ],
      [{ op: 'destroy', ns: 0, force: false }, 'EBUSY'],
      [{ op: 'reconfigure', ns: 0, mode: 'fsdax', align: 4 * KiB }, 'ok'],
      [{ op: 'access', map: 0, at: 0, write: true, value: 1, recall: false }, 'SIGBUS'],
      [{ op: 'destroy', ns: 0, force: true }, 'ok'],
    ];
    const got: string[] = [];
    for (const [o] of steps) got.push(await w.step(o));
    expect(got).toEqual(steps.map(([, outcome]) => outcome));
  });

  it(`keeps sysfs, /dev, mappings and object counts consistent over ${NUM_RUNS} random runs`, async () => {
    const counts = new Map<string, number>();
    const lengths: number[] = [];
    const started = performance.now();
    await fc.assert(
      fc.asyncProperty(
        fc.array(createArb, { maxLength: 3 }),
        fc.commands(commandArbs, { maxCommands: MAX_COMMANDS, size: 'max' }),
        async (prelude, cmds) => {
          await using s = await bootNfitTest();
          const world = new LifecycleWorld(s, counts);
          await world.setup();
          for (const o of prelude) await world.step(o);
          await fc.asyncModelRun(() => ({ model: world, real: world }), cmds);
          lengths.push(world.steps);
        },
      ),
      { numRuns: NUM_RUNS, ...REPLAY },
    );
    const ms = performance.now() - started;
    const report = [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`);
    const mean = lengths.reduce((a, b) => a + b, 0) / Math.max(1, lengths.length);
    const hist = [0, 5, 10, 15, 20, 25, 30, 35, 40, 45].map(
      (lo) => `${lo}-${lo + 4}:${lengths.filter((n) => n >= lo && n < lo + 5).length}`,
    );
    console.log(
      `lifecycle: ${lengths.length} runs (incl. shrinks) in ${(ms / 1000).toFixed(1)} s; commands applied per ` +
        `run: mean ${mean.toFixed(1)}, max ${Math.max(...lengths)}, ${hist.join(' ')}\n  ${report.join('\n  ')}`,
    );

    // the runs reached every command, and both outcomes of access
    const seen = (key: string) => counts.get(key) ?? 0;
    const ops = new Set([...counts.keys()].filter((k) => !k.endsWith(':noop')).map((k) => k.split(':')[0]));
    expect([...ops].sort()).toEqual(
      [
        'access',
        'close',
        'create',
        'destroy',
        'disable',
        'enable',
        'exit',
        'kill',
        'mmap',
        'munmap',
        'reconfigure',
        'unbind',
      ].sort(),
    );
    if (NUM_RUNS >= 1000)
      for (const key of [
        'access:store',
        'access:load',
        'access:load of a stored byte',
        'access:SIGBUS',
        'create:ok',
        'create:ENOSPC',
        'create:EINVAL',
        'create:ENXIO',
        'enable:ok',
        'enable:rediscovered',
        'enable:ENODEV',
        'destroy:ok',
        'destroy:EBUSY',
        'reconfigure:ok',
        'reconfigure:ENXIO',
        'unbind:ok',
        'unbind:ENODEV',
        'kill:ok',
        'mmap:ok',
        'mmap:EINVAL',
        'mmap:ENXIO',
        'mmap:open ENXIO',
        'mmap:open ENOENT',
      ])
        expect(seen(key), key).toBeGreaterThan(0);
  }, 600_000);
});
