/**
 * In-process fixture for the tools: a kernel with the nfit_test stack loaded over in-memory media, a
 * ToolContext that captures standard output and error, and a leak check when disposed.
 */
import { Kernel } from '@daxsim/kernel';
import {
  loadNfitTestStack,
  type NfitTestMedia,
  type NfitTestPlatformSpec,
  type NfitTestStack,
  unloadNfitTestStack,
} from '@daxsim/test-nvdimm';
import type { ToolCommand, ToolContext } from '../src/context.js';
import { nodeHostFiles } from '../src/platform/machine.js';

export const KiB = 1024;
export const MiB = 1024 * KiB;

/** What a run that prints only on standard error returns: `{ status, out: '', err }`. */
export const errOnly = (err: string, status = 0) => ({ status, out: '', err });

/** json-c's pretty print of `v` as the tools print it: no space after the colon, a newline at the end. */
export const pretty = (v: unknown): string => `${JSON.stringify(v, null, 2).replace(/": /g, '":')}\n`;

export interface ToolFixture extends AsyncDisposable {
  kernel: Kernel;
  stack: NfitTestStack;
  ctx: ToolContext;
  /** Runs a command, returning its exit status and what it printed. */
  run(cmd: ToolCommand, ...argv: string[]): Promise<{ status: number; out: string; err: string }>;
  /** Runs a command that must succeed and print JSON; returns the parsed JSON. */
  json(cmd: ToolCommand, ...argv: string[]): Promise<unknown>;
}

/** Boots the stack (over `media` when given, to reboot a machine) and returns the fixture. */
export async function bootTools(
  o: { media?: NfitTestMedia; platforms?: NfitTestPlatformSpec[]; cwd?: string } = {},
): Promise<ToolFixture> {
  const kernel = new Kernel();
  const baseline = kernel.kmemleak.baseline();
  const stack = await loadNfitTestStack(kernel, { media: o.media, platforms: o.platforms });
  let out = '';
  let err = '';
  const ctx: ToolContext = {
    kernel,
    stdout: (t) => {
      out += t;
    },
    stderr: (t) => {
      err += t;
    },
    isTTY: false,
    cwd: o.cwd ?? process.cwd(),
    persist: () => {},
    host: nodeHostFiles,
  };
  const fixture: ToolFixture = {
    kernel,
    stack,
    ctx,
    async run(cmd, ...argv) {
      out = '';
      err = '';
      const status = await cmd(ctx, argv);
      return { status, out, err };
    },
    async json(cmd, ...argv) {
      const r = await fixture.run(cmd, ...argv);
      if (r.status !== 0) throw new Error(`exit ${r.status}: ${r.err}`);
      return JSON.parse(r.out);
    },
    async [Symbol.asyncDispose]() {
      await unloadNfitTestStack(kernel);
      baseline.assertClean();
    },
  };
  return fixture;
}
