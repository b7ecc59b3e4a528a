/**
 * kernel/signal.c force_sig_info() as a task sees it: a synchronous signal raised by a memory access, thrown
 * to the caller as an error carrying `signal`, `signo`, `si_code` and the faulting address.
 */

export const SIGKILL = 9;
export const SIGBUS = 7;
export const SIGSEGV = 11;

/** si_code values for SIGSEGV and SIGBUS. */
export const SEGV_MAPERR = 1;
export const SEGV_ACCERR = 2;
export const BUS_ADRERR = 2;
/** SIGBUS from a machine check on a load that consumed poisoned memory: action required (the access failed). */
export const BUS_MCEERR_AR = 4;

export type SignalName = 'SIGBUS' | 'SIGSEGV' | 'SIGKILL';

const SIGNO: Record<SignalName, number> = { SIGBUS, SIGSEGV, SIGKILL };
const TEXT: Record<SignalName, string> = {
  SIGBUS: 'bus error',
  SIGSEGV: 'segmentation fault',
  SIGKILL: 'killed',
};
const CODE_NAMES: Record<string, string> = {
  'SIGBUS:2': 'BUS_ADRERR',
  'SIGBUS:4': 'BUS_MCEERR_AR',
  'SIGSEGV:1': 'SEGV_MAPERR',
  'SIGSEGV:2': 'SEGV_ACCERR',
};

/** A signal delivered to a task; `code` is the signal name so callers can check `code` as for errno errors. */
export class SignalError extends Error {
  readonly code: SignalName;
  readonly signal: SignalName;
  readonly signo: number;
  readonly si_code: number;
  /** si_addr. */
  readonly addr: number;

  constructor(signal: SignalName, siCode: number, addr: number, comm: string) {
    const codeName = CODE_NAMES[`${signal}:${siCode}`] ?? String(siCode);
    super(`${signal}: ${TEXT[signal]} (${codeName}) at 0x${addr.toString(16)} in ${comm}`);
    this.name = 'SignalError';
    this.code = signal;
    this.signal = signal;
    this.signo = SIGNO[signal];
    this.si_code = siCode;
    this.addr = addr;
  }
}

/** True when `e` is a delivered signal (of any copy of this package), optionally of the given name. */
export function isSignal(e: unknown, signal?: SignalName): e is SignalError {
  if (typeof e !== 'object' || e === null) return false;
  const s = (e as { signal?: unknown }).signal;
  const c = (e as { si_code?: unknown }).si_code;
  if (typeof s !== 'string' || typeof c !== 'number') return false;
  return signal === undefined || s === signal;
}
