/**
 * The full fuzz run: `pnpm --filter @daxsim/nvdimm-sim fuzz [--count N] [--seed S] [--target NAME]` runs N cases
 * (100,000 by default) of each target from seed S, prints the outcome table per target and exits 1 on any
 * failure. `--replay CASESEED --target NAME` re-runs the one case a failure names and prints it.
 */
import { parseArgs } from 'node:util';
import { fuzzLabelArea, replayLabelArea } from './label.js';
import { fuzzPfnSb, replayPfnSb } from './pfn_sb.js';
import { type FuzzReport, formatReport } from './report.js';

/** The seed the README's table was made with. */
export const DEFAULT_SEED = 412;

const TARGETS: Record<
  string,
  { fuzz: (seed: number, count: number) => FuzzReport; replay: (cs: number) => object }
> = {
  'pfn-sb': { fuzz: fuzzPfnSb, replay: replayPfnSb },
  'label-area': { fuzz: fuzzLabelArea, replay: replayLabelArea },
};

function main(): number {
  const { values } = parseArgs({
    options: {
      count: { type: 'string', default: '100000' },
      seed: { type: 'string', default: String(DEFAULT_SEED) },
      target: { type: 'string', multiple: true },
      replay: { type: 'string' },
    },
  });
  const names = values.target ?? Object.keys(TARGETS);
  for (const name of names)
    if (TARGETS[name] === undefined) {
      console.error(`unknown target ${name}; targets: ${Object.keys(TARGETS).join(', ')}`);
      return 2;
    }
  const count = Number(values.count);
  const seed = Number(values.seed);
  if (!Number.isSafeInteger(count) || count < 0 || !Number.isInteger(seed)) {
    console.error('--count and --seed take integers');
    return 2;
  }
  if (values.replay !== undefined) {
    if (names.length !== 1) {
      console.error('--replay needs one --target');
      return 2;
    }
    try {
      const got = TARGETS[names[0]!]!.replay(Number(values.replay)) as {
        mutations: string[];
        outcome: string;
      };
      console.log(`mutations: ${got.mutations.join('; ')}\noutcome: ${got.outcome}`);
      return 0;
    } catch (e) {
      console.log(e);
      return 1;
    }
  }
  let failures = 0;
  const started = performance.now();
  for (const name of names) {
    const t = performance.now();
    const report = TARGETS[name]!.fuzz(seed, count);
    console.log(`${formatReport(report, performance.now() - t)}\n`);
    failures += report.failureCount;
  }
  console.log(
    `${names.length} targets x ${count} cases, seed ${seed}: ${failures} failures, ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  return failures === 0 ? 0 : 1;
}

process.exitCode = main();
