/**
 * The option tables ndctl's namespace commands share: the BASE_OPTIONS() macro of ndctl/namespace.c, which
 * ndctl/inject-error.c repeats word for word.
 */
import type { OptionSpec } from '../util/parse_options.js';

/** BASE_OPTIONS(): -b/--bus, -r/--region and -v/--verbose. */
export const BASE_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'bus',
    short: 'b',
    long: 'bus',
    kind: 'string',
    arg: 'bus-id',
    help: 'limit namespace to a bus with an id or provider of <bus-id>',
  },
  {
    name: 'region',
    short: 'r',
    long: 'region',
    kind: 'string',
    arg: 'region-id',
    help: 'limit namespace to a region with an id or name of <region-id>',
  },
  {
    name: 'verbose',
    short: 'v',
    long: 'verbose',
    kind: 'boolean',
    help: 'emit extra debug messages to stderr',
  },
];

/** The value of a string option, or undefined where it was not given. */
export function optString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
