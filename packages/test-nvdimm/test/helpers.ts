import { expect } from 'vitest';

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;
export const TiB = 1024 * GiB;

/** An asymmetric matcher for a thrown kernel error with this errno name. */
export function errno(code: string): unknown {
  return expect.objectContaining({ code });
}

/** An asymmetric matcher for a thrown kernel error with this errno name whose message contains `text`. */
export function errnoWith(code: string, text: string): unknown {
  return expect.objectContaining({ code, message: expect.stringContaining(text) });
}
