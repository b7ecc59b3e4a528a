/**
 * The test command: runs lint, typecheck, test and check-pack for every package through turbo (cached),
 * then prints one plain line totalled over every package's vitest report: `N passed, N failed`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const packages = readdirSync(join(root, 'packages')).map((p) => join(root, 'packages', p));
const reports = packages.map((p) => join(p, '.vitest-result.json'));

// Reports come back from turbo's cache on a hit, or are written afresh; never count a stale one.
for (const r of reports) rmSync(r, { force: true });

const turbo = spawnSync(
  'turbo',
  ['run', 'lint', 'typecheck', 'test', 'check-pack', ...process.argv.slice(2)],
  {
    cwd: root,
    stdio: 'inherit',
  },
);

let passed = 0;
let failed = 0;
let skipped = 0;
for (const r of reports) {
  if (!existsSync(r)) continue;
  const report = JSON.parse(readFileSync(r, 'utf8')) as {
    numPassedTests: number;
    numFailedTests: number;
    numPendingTests: number;
    numTodoTests: number;
  };
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests + report.numTodoTests;
}
const status = turbo.status ?? 1;
if (status !== 0 && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
process.exit(status);
