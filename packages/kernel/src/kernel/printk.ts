/**
 * kernel/printk/printk.c and include/asm-generic/bug.h: the kernel log (dmesg), log levels, and the
 * WARN / WARN_ONCE reports that taint the kernel.
 */

export const KERN_EMERG = 0;
export const KERN_ALERT = 1;
export const KERN_CRIT = 2;
export const KERN_ERR = 3;
export const KERN_WARNING = 4;
export const KERN_NOTICE = 5;
export const KERN_INFO = 6;
export const KERN_DEBUG = 7;

export type LogLevel = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7;

/** One record of the log buffer, as `dmesg --json` would show it. */
export interface LogRecord {
  level: LogLevel;
  /** Seconds since this kernel booted. */
  time: number;
  text: string;
}

export interface PrintkOptions {
  /** Records above this level are not kept; KERN_DEBUG keeps dev_dbg output (dynamic debug on). */
  loglevel?: LogLevel;
  /** Called with each formatted line as it is logged, like a serial console. */
  console?: (line: string) => void;
}

/** The log buffer of one kernel instance. */
export class Printk {
  readonly #records: LogRecord[] = [];
  readonly #warnedOnce = new Set<string>();
  readonly #boot = performance.now();
  readonly #console: ((line: string) => void) | undefined;
  #warnings = 0;
  loglevel: LogLevel;

  constructor(options: PrintkOptions = {}) {
    this.loglevel = options.loglevel ?? KERN_INFO;
    this.#console = options.console;
  }

  /** printk(level, fmt): appends one record per line of `text`. */
  printk(level: LogLevel, text: string): void {
    if (level > this.loglevel) return;
    const time = (performance.now() - this.#boot) / 1000;
    for (const line of text.replace(/\n$/, '').split('\n')) {
      const record = { level, time, text: line };
      this.#records.push(record);
      this.#console?.(formatRecord(record));
    }
  }

  /** pr_err(). */
  err(text: string): void {
    this.printk(KERN_ERR, text);
  }

  /** pr_warn(). */
  warning(text: string): void {
    this.printk(KERN_WARNING, text);
  }

  /** pr_info(). */
  info(text: string): void {
    this.printk(KERN_INFO, text);
  }

  /** pr_debug() / dev_dbg(): kept only when the log level is KERN_DEBUG. */
  debug(text: string): void {
    this.printk(KERN_DEBUG, text);
  }

  /**
   * WARN(condition, fmt): when `condition` holds, logs a warning report naming `site` (the C function it
   * models), taints the kernel, and returns `condition` so callers can branch on it as in C.
   */
  warn(condition: boolean, site: string, text: string): boolean {
    if (!condition) return false;
    this.#warnings++;
    this.printk(KERN_WARNING, '------------[ cut here ]------------');
    this.printk(KERN_WARNING, `WARNING: at ${site}`);
    this.printk(KERN_WARNING, text);
    this.printk(KERN_WARNING, `---[ end trace ${this.#warnings.toString(16).padStart(16, '0')} ]---`);
    return true;
  }

  /** WARN_ONCE(condition, fmt): like warn(), but reports at most once per `site` for this kernel's life. */
  warnOnce(condition: boolean, site: string, text: string): boolean {
    if (!condition) return false;
    if (!this.#warnedOnce.has(site)) {
      this.#warnedOnce.add(site);
      this.warn(true, site, text);
    }
    return true;
  }

  /** Number of WARN reports so far; non-zero means the kernel is tainted ('W'). */
  get warnings(): number {
    return this.#warnings;
  }

  /** The log buffer's records, oldest first. */
  records(): readonly LogRecord[] {
    return this.#records;
  }

  /** dmesg(1): the log as text lines, `[    0.000123] message`. */
  dmesg(): string[] {
    return this.#records.map(formatRecord);
  }

  /** dmesg -C: empties the buffer (the taint stays). */
  clear(): void {
    this.#records.length = 0;
  }
}

function formatRecord(r: LogRecord): string {
  return `[${r.time.toFixed(6).padStart(12)}] ${r.text}`;
}
