/**
 * What a userspace tool runs with: the kernel it talks to (through sysfs paths, /dev nodes and tasks only, as
 * the real tools do through libndctl and libdaxctl) and its standard streams. The `daxsim` bin builds one per
 * invocation over the booted platform; tests build one over a kernel of their own.
 */
import type { Kernel } from '@daxsim/kernel';

export interface ToolContext {
  readonly kernel: Kernel;
  /** Writes to standard output (text as given; no newline added). */
  stdout(text: string): void;
  /** Writes to standard error (text as given; no newline added). */
  stderr(text: string): void;
  /** Whether standard error is a terminal (daxio draws its progress bar only then). */
  readonly isTTY: boolean;
  /** Whether standard output is a terminal (isatty(1): create-namespace then prints human-readable sizes). */
  readonly stdoutIsTTY?: boolean;
  /** Directory host paths (daxio's input and output files) resolve against. */
  readonly cwd: string;
  /**
   * Makes everything written so far durable in the platform's files (what pmem_persist() and msync() give a
   * program on real persistent memory). A context without a backing store does nothing.
   */
  persist(): void;
  /** Host file access for daxio (fs.openSync and friends, or a stand-in in tests). */
  readonly host: HostFiles;
}

/** The few host file operations daxio needs: a file descriptor interface like node:fs's. */
export interface HostFiles {
  /**
   * node:fs flags: 'r' read-only, 'r+' read-write without creating or truncating (daxio's O_RDWR, which it
   * tries first), 'w' create or truncate for writing (its O_CREAT|O_WRONLY|O_TRUNC when the output is missing).
   * Throws a Node system error (code ENOENT...) on failure.
   */
  open(path: string, flags: 'r' | 'r+' | 'w'): number;
  read(fd: number, buf: Uint8Array, position: number | null): number;
  write(fd: number, buf: Uint8Array, position: number | null): number;
  size(fd: number): number | null;
  close(fd: number): void;
}

/** A command of a tool: parses `argv` (the arguments after the command name) and returns the exit status. */
export type ToolCommand = (ctx: ToolContext, argv: string[]) => Promise<number>;
