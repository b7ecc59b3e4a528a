import { expect } from 'vitest';

/** An asymmetric matcher for a thrown kernel error with this errno name. */
export function errno(code: string): unknown {
  return expect.objectContaining({ code });
}
