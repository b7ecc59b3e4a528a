/**
 * check-pack for the package in the current directory: packs it the way `pnpm publish` would, then runs
 * publint and @arethetypeswrong/cli (esm-only profile) on the tarball. Any finding fails the task.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';

const dir = mkdtempSync(join(tmpdir(), 'daxsim-pack-'));
try {
  // turbo's build task has produced dist/ already; skip the prepack build that `pnpm -r pack` relies on.
  execFileSync('pnpm', ['pack', '--pack-destination', dir], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, npm_config_ignore_scripts: 'true' },
  });
  const tarball = join(dir, readdirSync(dir).find((f) => f.endsWith('.tgz'))!);
  const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
  const buffer = readFileSync(tarball);
  const { messages, pkg: packed } = await publint({
    pack: { tarball: buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength) },
    level: 'suggestion',
    strict: true,
  });
  for (const m of messages) console.error(`publint ${m.type}: ${formatMessage(m, packed) ?? m.code}`);
  if (packed.dependencies && JSON.stringify(packed.dependencies).includes('workspace:'))
    throw new Error('packed package.json still has workspace: ranges');
  execFileSync('attw', [tarball, '--profile', 'esm-only', '--format', 'table-flipped'], { stdio: 'inherit' });
  if (messages.length > 0) process.exit(1);
  console.log(`${pkg.name}: publint and attw clean`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
