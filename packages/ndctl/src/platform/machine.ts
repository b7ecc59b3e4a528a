/**
 * One boot of the persistent platform: a kernel with the nfit_test stack loaded over the state folder's files
 * (the DIMMs' labels and the namespaces' info blocks are probed from them, as a machine's are at boot), a
 * ToolContext for the command, and a clean shutdown that unloads every module and closes the files.
 */
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { Kernel, type KernelOptions } from '@daxsim/kernel';
import type { NfitPlatform } from '@daxsim/nvdimm-sim';
import { loadNfitTestStack, type NfitTestStack, unloadNfitTestStack } from '@daxsim/test-nvdimm';
import type { HostFiles, ToolContext } from '../context.js';
import { FileMedia } from './file_media.js';
import type { PlatformState } from './state.js';

/** node:fs as daxio's host files. */
export const nodeHostFiles: HostFiles = {
  open: (path, flags) => openSync(path, flags),
  read: (fd, buf, pos) => readSync(fd, buf, 0, buf.length, pos),
  write: (fd, buf, pos) => writeSync(fd, buf, 0, buf.length, pos),
  size: (fd) => {
    const st = fstatSync(fd);
    return st.isFile() ? st.size : null;
  },
  close: (fd) => closeSync(fd),
};

/** Where a booted machine's tools write. */
export interface MachineStreams {
  stdout(text: string): void;
  stderr(text: string): void;
  isTTY: boolean;
  stdoutIsTTY?: boolean;
  cwd: string;
  host?: HostFiles;
}

/** A booted platform. */
export interface Machine {
  kernel: Kernel;
  stack: NfitTestStack;
  ctx: ToolContext;
  /** Unloads the stack and closes the platform's files; safe to call twice. */
  shutdown(): Promise<void>;
}

/**
 * Boots `state`: a new kernel, modprobe of the stack with nfit_test registering the folder's platforms over its
 * files, and a wait for the probes. A failed boot closes what it opened and rethrows.
 */
export async function bootMachine(
  state: PlatformState,
  streams: MachineStreams,
  options: KernelOptions = {},
): Promise<Machine> {
  const kernel = new Kernel(options);
  const media = new FileMedia(
    state.dir,
    new Map<string, NfitPlatform>(state.platforms.map((p) => [p.name, p.platform])),
  );
  let stack: NfitTestStack;
  try {
    stack = await loadNfitTestStack(kernel, { media, platforms: state.platforms });
  } catch (e) {
    media.close();
    throw e;
  }
  let down = false;
  return {
    kernel,
    stack,
    ctx: {
      kernel,
      stdout: streams.stdout,
      stderr: streams.stderr,
      isTTY: streams.isTTY,
      stdoutIsTTY: streams.stdoutIsTTY,
      cwd: streams.cwd,
      host: streams.host ?? nodeHostFiles,
      persist: () => {},
    },
    async shutdown() {
      if (down) return;
      down = true;
      try {
        await unloadNfitTestStack(kernel);
      } finally {
        media.close();
      }
    },
  };
}
