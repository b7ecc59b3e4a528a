/**
 * daxio's progress bar, a daxsim addition (PMDK's daxio prints none): on a terminal, a transfer of at least
 * PROGRESS_THRESHOLD bytes shows one line on standard error, redrawn with '\r' whenever the whole percentage
 * changes: percent done, bytes done of the total, and the rate so far. finish() draws 100% and ends the line.
 */
import type { ToolContext } from '../context.js';

/** Transfers smaller than this (8 MiB) finish too quickly for a bar to help. */
export const PROGRESS_THRESHOLD = 8 * 1024 * 1024;

/** Bytes as the bar prints them: "512 B", "1.50 KiB", "14.00 MiB", "2.00 GiB". */
export function formatBytes(n: number): string {
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  if (n < 1024) return `${n} B`;
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(2)} ${units[u]}`;
}

/** The bar of one transfer: update() as bytes move, finish() once at the end. */
export class ProgressBar {
  readonly #write: (text: string) => void;
  readonly #total: number;
  readonly #now: () => number;
  readonly #start: number;
  #percent = -1;
  #width = 0;

  /** A bar over `total` bytes writing to `write`; `now` is a clock in milliseconds. */
  constructor(write: (text: string) => void, total: number, now: () => number = () => performance.now()) {
    this.#write = write;
    this.#total = total;
    this.#now = now;
    this.#start = now();
  }

  /** The bar for a transfer of `total` bytes under `ctx`, or null when there should be none (not a TTY, small). */
  static forTransfer(ctx: ToolContext, total: number, now?: () => number): ProgressBar | null {
    if (!ctx.isTTY || total < PROGRESS_THRESHOLD) return null;
    return new ProgressBar((t) => ctx.stderr(t), total, now);
  }

  /** Records that `done` bytes have been moved; redraws when the whole percentage changed. */
  update(done: number): void {
    const percent = this.#total === 0 ? 100 : Math.floor((done * 100) / this.#total);
    if (percent === this.#percent) return;
    this.#percent = percent;
    this.#draw(done, percent);
  }

  /** Draws the final state (`done` bytes, 100% when all were moved) and ends the line. */
  finish(done: number = this.#total): void {
    const percent = this.#total === 0 ? 100 : Math.floor((done * 100) / this.#total);
    if (percent !== this.#percent) this.#draw(done, percent);
    this.#write('\n');
  }

  #draw(done: number, percent: number): void {
    const seconds = (this.#now() - this.#start) / 1000;
    const rate = seconds > 0 ? `${formatBytes(Math.round(done / seconds))}/s` : '-';
    const line = `${String(percent).padStart(3)}% ${formatBytes(done)} / ${formatBytes(this.#total)} (${rate})`;
    const pad = Math.max(0, this.#width - line.length);
    this.#width = line.length;
    this.#write(`\r${line}${' '.repeat(pad)}`);
  }
}
