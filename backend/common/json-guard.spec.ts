import { FORBIDDEN_KEYS, inspectJson, MAX_JSON_DEPTH, parseGuarded, scanJsonDepth } from './json-guard';

const nested = (levels: number, open = '[', close = ']') => `{"timestamp":${open.repeat(levels)}1${close.repeat(levels)}}`;

describe(scanJsonDepth.name, () => {
  it.each([
    ['{}', null],
    [nested(MAX_JSON_DEPTH - 1), null],
    [nested(MAX_JSON_DEPTH), 'TOO_DEEP'],
    [nested(3000), 'TOO_DEEP'],
    // Brackets inside strings, escaped quotes included, are not nesting.
    [`{"a":"${'['.repeat(100)}\\"${'{'.repeat(100)}"}`, null],
  ])('%s -> %s', (text, code) => {
    expect(scanJsonDepth(text)?.code ?? null).toBe(code);
  });
});

describe(inspectJson.name, () => {
  it('finds forbidden keys at any depth, escaped or not, naming where', () => {
    for (const key of FORBIDDEN_KEYS) {
      expect(inspectJson(JSON.parse(`{"a":[{"b":{"${key}":1}}]}`))).toEqual({ code: 'FORBIDDEN_KEY', message: expect.stringContaining(`a[0].b.${key}`) });
    }
    expect(inspectJson(JSON.parse('{"\\u005f_proto__":{"x":1}}'))?.code).toBe('FORBIDDEN_KEY');
    // Named after Object.prototype members: class-transformer would drop them silently, past the whitelist.
    for (const key of ['valueOf', 'toString', 'hasOwnProperty', '__defineGetter__']) expect(inspectJson({ timestamp: 1, [key]: {} })?.code).toBe('FORBIDDEN_KEY');
  });

  it('refuses depth on parsed values without recursing (3000 levels do not overflow)', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(inspectJson({ timestamp: deep })?.code).toBe('TOO_DEEP');
  });

  it('accepts ordinary frames and values', () => {
    for (const value of [null, 1, 'x', [], { type: 'manual-time-sync', data: { timestamp: '2026-01-01T00:00:00Z', timezone: 'UTC' } }, { constructorish: 1, proto: 2 }]) {
      expect(inspectJson(value)).toBeNull();
    }
  });
});

describe(parseGuarded.name, () => {
  it('checks depth before parsing and keys after; bad JSON still throws SyntaxError', () => {
    expect(parseGuarded(nested(3000)).problem?.code).toBe('TOO_DEEP');
    expect(parseGuarded('{"constructor":{"prototype":1}}').problem?.code).toBe('FORBIDDEN_KEY');
    expect(parseGuarded('{"a":1}')).toEqual({ value: { a: 1 }, problem: null });
    expect(() => parseGuarded('{nope')).toThrow(SyntaxError);
  });
});
