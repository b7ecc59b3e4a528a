/**
 * util/json.c and json-c's JSON_C_TO_STRING_PRETTY printer: exact text for known values, a JSON.parse
 * round-trip property over arbitrary values, and display_size()'s rounding.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ToolContext } from '../src/context.js';
import type { DaxRegion } from '../src/lib/libndctl.js';
import {
  daxDevToJson,
  daxRegionToJson,
  displayJsonArray,
  displaySizeJson,
  type JsonValue,
  jsonHex,
  jsonSize,
  jsonToString,
  printJson,
} from '../src/util/json.js';

function capture(): { ctx: ToolContext; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const ctx = {
    stdout: (t: string) => {
      out += t;
    },
    stderr: (t: string) => {
      err += t;
    },
  } as unknown as ToolContext;
  return { ctx, out: () => out, err: () => err };
}

/** Values JSON.parse gives back unchanged: safe integers, strings, booleans, null, arrays and objects. */
const jsonValue: fc.Arbitrary<JsonValue> = fc.letrec<{ value: JsonValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.maxSafeInteger(),
    fc.string({ unit: 'binary' }),
    fc.string({ unit: fc.constantFrom('/', '"', '\\', '\n', '\t', '\u0001', '\u007f', 'é', ':', ' ') }),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(fc.string({ unit: 'binary', maxLength: 6 }), tie('value'), { maxKeys: 5 }),
  ),
})).value;

describe('printJson (json-c pretty format)', () => {
  it('prints two-space indents, no space after the colon, a newline after every open bracket and comma', () => {
    const { ctx, out } = capture();
    printJson(ctx, {
      dev: 'namespace0.0',
      size: 33554432,
      big: 18446744017874976765n,
      neg: -1,
      on: true,
      off: false,
      none: null,
      list: [1, { a: [] }, {}],
      nested: { inner: ['x'] },
    });
    expect(out()).toBe(`{
  "dev":"namespace0.0",
  "size":33554432,
  "big":18446744017874976765,
  "neg":-1,
  "on":true,
  "off":false,
  "none":null,
  "list":[
    1,
    {
      "a":[
      ]
    },
    {
    }
  ],
  "nested":{
    "inner":[
      "x"
    ]
  }
}
`);
  });

  it('escapes as json_escape_str() does: slash, quote, backslash, control characters in lowercase hex', () => {
    expect(jsonToString('/platform/nfit_test.0')).toBe('"\\/platform\\/nfit_test.0"');
    expect(jsonToString('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(jsonToString('\b\f\n\r\t')).toBe('"\\b\\f\\n\\r\\t"');
    expect(jsonToString('\u0001\u001f\u007fé')).toBe('"\\u0001\\u001f\u007fé"');
    expect(jsonToString([])).toBe('[\n]');
    expect(jsonToString({})).toBe('{\n}');
    expect(jsonToString({ 'k/"': 1 })).toBe('{\n  "k\\/\\"":1\n}');
    expect(jsonToString({ skipped: undefined, kept: 0 })).toBe('{\n  "kept":0\n}');
  });

  it('round-trips through JSON.parse for any value', () => {
    fc.assert(
      fc.property(jsonValue, (v) => {
        expect(JSON.parse(jsonToString(v))).toEqual(v);
      }),
      { numRuns: 500 },
    );
  });

  it('indents every line by two spaces per level and never puts a space after a key', () => {
    fc.assert(
      fc.property(jsonValue, (v) => {
        const text = jsonToString(v);
        for (const line of text.split('\n')) {
          const indent = /^ */.exec(line)![0].length;
          expect(indent % 2).toBe(0);
          expect(line.length).toBeGreaterThan(indent);
        }
        if (typeof v === 'object' && v !== null && !Array.isArray(v))
          for (const key of Object.keys(v)) expect(text).toContain(`${jsonToString(key)}:`);
      }),
      { numRuns: 200 },
    );
  });
});

describe('util_json_object_size / util_json_object_hex', () => {
  it('display_size(): a number below 5000 KiB, else binary and decimal units rounded to hundredths', () => {
    expect(displaySizeJson(0)).toBe(0);
    expect(displaySizeJson(5000 * 1024 - 1)).toBe(5119999);
    expect(displaySizeJson(5000 * 1024)).toBe('4.88 MiB (5.12 MB)');
    expect(displaySizeJson(14680064)).toBe('14.00 MiB (14.68 MB)');
    expect(displaySizeJson(2 ** 31 - 1)).toBe('2048.00 MiB (2147.48 MB)');
    expect(displaySizeJson(2 ** 31)).toBe('2.00 GiB (2.15 GB)');
    expect(displaySizeJson(4225761280)).toBe('3.94 GiB (4.23 GB)');
    expect(displaySizeJson(2 ** 41 - 1)).toBe('2048.00 GiB (2199.02 GB)');
    expect(displaySizeJson(2 ** 41)).toBe('2.00 TiB (2.20 TB)');
    expect(displaySizeJson(2n ** 64n - 1n)).toBe('83886.08 TiB (18446744.07 TB)');
    expect(jsonSize(14680064, {})).toBe(14680064);
    expect(jsonSize(14680064, { human: true })).toBe('14.00 MiB (14.68 MB)');
  });

  it('display_size() is within half a hundredth of the exact value in both units', () => {
    fc.assert(
      fc.property(fc.integer({ min: 5000 * 1024, max: 2 ** 41 - 1 }), (bytes) => {
        const s = displaySizeJson(bytes);
        const m = /^(\d+\.\d\d) (MiB|GiB) \((\d+\.\d\d) (MB|GB)\)$/.exec(String(s));
        expect(m).not.toBeNull();
        const [, bin, binUnit, dec, decUnit] = m!;
        const binDiv = binUnit === 'MiB' ? 2 ** 20 : 2 ** 30;
        const decDiv = decUnit === 'MB' ? 1e6 : 1e9;
        expect(binUnit === 'MiB').toBe(bytes < 2 ** 31);
        expect(decUnit === 'MB').toBe(bytes < 2 ** 31);
        expect(Math.abs(Number(bin) - bytes / binDiv)).toBeLessThanOrEqual(0.005 + 1e-9);
        expect(Math.abs(Number(dec) - bytes / decDiv)).toBeLessThanOrEqual(0.005 + 1e-9);
      }),
    );
  });

  it('display_hex(): "%#llx", which prints zero as "0"', () => {
    expect(jsonHex(0x101, {})).toBe(0x101);
    expect(jsonHex(0x101, { human: true })).toBe('0x101');
    expect(jsonHex(0, { human: true })).toBe('0');
    expect(jsonHex(0xfffffff2fffffffdn, { human: true })).toBe('0xfffffff2fffffffd');
  });
});

describe('util_display_json_array', () => {
  it('prints the array; with -u a lone element by itself; an empty one warns', () => {
    const a = capture();
    displayJsonArray(a.ctx, [{ id: 1 }], {});
    expect(a.out()).toBe('[\n  {\n    "id":1\n  }\n]\n');
    const b = capture();
    displayJsonArray(b.ctx, [{ id: 1 }], { human: true });
    expect(b.out()).toBe('{\n  "id":1\n}\n');
    const c = capture();
    displayJsonArray(c.ctx, [{ id: 1 }, { id: 2 }], { human: true });
    expect(JSON.parse(c.out())).toEqual([{ id: 1 }, { id: 2 }]);
    const d = capture();
    displayJsonArray(d.ctx, [], {});
    expect([d.out(), d.err()]).toEqual(['[\n]\n', '  Warning: no matching devices found\n\n']);
  });
});

describe('daxctl JSON (daxctl/json.c)', () => {
  const region: DaxRegion = {
    id: 1,
    size: 14680064,
    align: 2097152,
    availableSize: null,
    path: '/sys/devices/platform/nfit_test.0/ndbus0/region1/dax1.0',
    devices: [
      { name: 'dax1.0', id: 0, regionId: 1, size: 14680064, align: null, targetNode: null, enabled: true },
      { name: 'dax1.1', id: 1, regionId: 1, size: 0, align: 2097152, targetNode: 0, enabled: false },
    ],
  };
  const k = null as never;

  it('util_daxctl_region_to_json(): the path without /sys/devices, devices only with DAX_DEVS', () => {
    const j = daxRegionToJson(k, region, null, {});
    expect(j).toEqual({
      path: '/platform/nfit_test.0/ndbus0/region1/dax1.0',
      id: 1,
      size: 14680064,
      align: 2097152,
    });
    expect(jsonToString(j)).toContain('"path":"\\/platform\\/nfit_test.0\\/ndbus0\\/region1\\/dax1.0",');
    expect(daxRegionToJson(k, region, null, { dax: true, daxDevices: true })).toEqual({
      id: 1,
      size: 14680064,
      align: 2097152,
      devices: [{ chardev: 'dax1.0', size: 14680064, mode: 'devdax' }],
    });
    expect(daxRegionToJson(k, region, 'dax1.1', { dax: true, daxDevices: true, idle: true })).toEqual({
      id: 1,
      size: 14680064,
      align: 2097152,
      devices: [
        { chardev: 'dax1.1', size: 0, target_node: 0, align: 2097152, mode: 'devdax', state: 'disabled' },
      ],
    });
    expect(
      daxRegionToJson(k, { ...region, availableSize: 4096 }, '1.0', { daxDevices: true, human: true }),
    ).toEqual({
      path: '/platform/nfit_test.0/ndbus0/region1/dax1.0',
      id: 1,
      size: '14.00 MiB (14.68 MB)',
      available_size: 4096,
      align: 2097152,
      devices: [{ chardev: 'dax1.0', size: '14.00 MiB (14.68 MB)', mode: 'devdax' }],
    });
    expect(daxRegionToJson(k, { ...region, path: '/sys/bus/dax/devices/dax1.0' }, null, {})).toBeNull();
  });

  it('util_daxctl_dev_to_json(): {chardev, size, target_node?, align?, mode, state?}', () => {
    expect(Object.keys(daxDevToJson(k, region.devices[1]!, { human: true }))).toEqual([
      'chardev',
      'size',
      'target_node',
      'align',
      'mode',
      'state',
    ]);
    expect(daxDevToJson(k, { ...region.devices[0]!, mode: 'system-ram' })).toEqual({
      chardev: 'dax1.0',
      size: 14680064,
      mode: 'system-ram',
    });
  });
});
