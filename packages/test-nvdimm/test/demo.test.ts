/** The narrated device-dax example (the main job's nvdimm part) runs to the end: SIGBUS, nothing leaked. */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';

it('examples/device_dax.ts runs ndctl device-dax scenario to the SIGBUS', () => {
  const out = execFileSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--conditions=@daxsim/source',
      join(import.meta.dirname, '../examples/device_dax.ts'),
    ],
    { cwd: join(import.meta.dirname, '..'), encoding: 'utf8' },
  );
  expect(out).toContain('reads: "hello from the fsdax block device"');
  expect(out).toMatch(/-> SIGBUS \(si_code 2, addr 0x[0-9a-f]+\)/);
  expect(out).toContain('nothing leaked');
}, 60_000);
