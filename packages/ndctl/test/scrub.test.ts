/**
 * `ndctl start-scrub` and `ndctl wait-scrub` over nfit_test's two buses (listed ndbus1 first, as libndctl
 * enumerates them), through each bus's nfit/scrub attribute.
 */
import { describe, expect, it } from 'vitest';
import { cmdStartScrub, cmdWaitScrub } from '../src/ndctl/bus.js';
import { bootTools, errOnly, pretty, type ToolFixture } from './tool_fixture.js';

const bus0 = { provider: 'nfit_test.0', dev: 'ndbus0', scrub_state: 'idle' };
const bus1 = { provider: 'nfit_test.1', dev: 'ndbus1', scrub_state: 'idle' };

/** What start-scrub and wait-scrub print for the buses they acted on. */
const scrubbed = (...buses: object[]) => ({ status: 0, out: pretty(buses), err: '' });

const scrubCount = (f: ToolFixture, bus: string) =>
  f.kernel.sysfs.read(`/sys/bus/nd/devices/${bus}/nfit/scrub`).trim();

describe('ndctl start-scrub', () => {
  it('scrubs every bus without arguments (or with all) and lists them as an array', async () => {
    await using f = await bootTools();
    expect(await f.run(cmdStartScrub)).toEqual(scrubbed(bus1, bus0));
    expect([scrubCount(f, 'ndbus0'), scrubCount(f, 'ndbus1')]).toEqual(['2', '2']);
    expect(await f.run(cmdStartScrub, 'ndbus0', 'all')).toEqual(scrubbed(bus1, bus0));
    expect([scrubCount(f, 'ndbus0'), scrubCount(f, 'ndbus1')]).toEqual(['3', '3']);
  });

  it('picks buses by id, provider or name; one bus is still printed as an array', async () => {
    await using f = await bootTools();
    expect(await f.run(cmdStartScrub, 'nfit_test.1')).toEqual(scrubbed(bus1));
    expect(await f.run(cmdStartScrub, '0')).toEqual(scrubbed(bus0));
    expect(await f.run(cmdStartScrub, 'ndbus1', 'ndbus0')).toEqual(scrubbed(bus1, bus0));
    expect([scrubCount(f, 'ndbus0'), scrubCount(f, 'ndbus1')]).toEqual(['3', '3']);
  });

  it('waits out a scrub already running (EBUSY), then starts its own', async () => {
    await using f = await bootTools();
    const running = f.kernel.sysfs.write('/sys/bus/nd/devices/ndbus0/nfit/scrub', '1\n');
    expect(scrubCount(f, 'ndbus0')).toBe('1+');
    expect(await f.run(cmdStartScrub, 'ndbus0')).toEqual(scrubbed(bus0));
    await running;
    expect(scrubCount(f, 'ndbus0')).toBe('3');
  });

  it('fails with ENXIO when no bus matches (-v names the id)', async () => {
    await using f = await bootTools();
    expect(await f.run(cmdStartScrub, 'ndbus7')).toEqual(
      errOnly('error starting scrub: No such device or address\n', 250),
    );
    expect(await f.run(cmdStartScrub, '-v', 'ndbus7', 'acpi')).toEqual(
      errOnly(
        'no bus matches id: ndbus7\nno bus matches id: acpi\nerror starting scrub: No such device or address\n',
        250,
      ),
    );
    expect(scrubCount(f, 'ndbus0')).toBe('1');
  });

  it('prints usage for an unknown option', async () => {
    await using f = await bootTools();
    const r = await f.run(cmdStartScrub, '--poll=1');
    expect(r.status).toBe(129);
    expect(r.out).toBe('');
    expect(r.err).toContain('usage: ndctl start-scrub [<bus-id> <bus-id2> ... <bus-idN>] [<options>]');
  });
});

describe('ndctl wait-scrub', () => {
  it('returns at once on idle buses, listing them', async () => {
    await using f = await bootTools();
    expect(await f.run(cmdWaitScrub)).toEqual(scrubbed(bus1, bus0));
    expect(scrubCount(f, 'ndbus0')).toBe('1');
  });

  it('waits for a running scrub to complete (-p sets the poll interval)', async () => {
    await using f = await bootTools();
    const running = f.kernel.sysfs.write('/sys/bus/nd/devices/ndbus1/nfit/scrub', '1\n');
    expect(scrubCount(f, 'ndbus1')).toBe('1+');
    expect(await f.run(cmdWaitScrub, '-p', '1', 'nfit_test.1')).toEqual(scrubbed(bus1));
    expect(scrubCount(f, 'ndbus1')).toBe('2');
    await running;
  });

  it('rejects a non-numeric poll interval with usage (129)', async () => {
    await using f = await bootTools();
    const r = await f.run(cmdWaitScrub, '--poll', 'soon');
    expect(r.status).toBe(129);
    expect(r.err).toMatch(/^ {2}Error: option `poll' expects a numerical value\n\n usage: ndctl wait-scrub/);
    expect(await f.run(cmdWaitScrub, 'ndbus5')).toEqual(
      errOnly('error waiting for scrub completion: No such device or address\n', 250),
    );
  });
});
