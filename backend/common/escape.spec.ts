import fc from 'fast-check';
import { HOSTILE } from '../../test/support/hostile-strings';
import { contentDisposition, csvCell, exiftoolComment, isScopableSerial, logText } from './escape';

// Everything that ends a line for some reader, and the other controls.
// eslint-disable-next-line no-control-regex
const BREAKING = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

describe('escape', () => {
  describe(logText.name, () => {
    it.each([
      ['Canon EOS R50', 'Canon EOS R50'],
      ['R50\n[camera] forged line', 'R50\\n[camera] forged line'],
      ['a\0b', 'a\\0b'],
      ['\r\t', '\\r\\t'],
      ['\u001b[31mred', '\\x1b[31mred'],
      ['x\u2028y\u0085', 'x\\u2028y\\x85'],
      ['back\\n slash', 'back\\\\n slash'],
      [undefined, 'undefined'],
      [new Error('boom\nline'), 'boom\\nline'],
      [{ a: 'b\n' }, '{"a":"b\\\\n"}'],
    ])('%j -> %j', (input, expected) => {
      expect(logText(input)).toBe(expected);
    });

    it('never leaves a control or line separator, and stays distinct for distinct inputs', () => {
      fc.assert(
        fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (a, b) => {
          expect(logText(a)).not.toMatch(BREAKING);
          if (a !== b) expect(logText(a)).not.toBe(logText(b));
        }),
      );
    });
  });

  describe(exiftoolComment.name, () => {
    it.each(HOSTILE)('%j stays one comment line', (value) => {
      const line = exiftoolComment(`camera ${value}`);
      expect(line.startsWith('# ')).toBe(true);
      expect(line).not.toMatch(BREAKING);
    });

    it('any text is one line starting with "# "', () => {
      fc.assert(
        fc.property(fc.string({ unit: 'binary' }), (text) => {
          const line = exiftoolComment(text);
          expect(line.startsWith('# ')).toBe(true);
          expect(line).not.toMatch(BREAKING);
        }),
      );
    });
  });

  describe(isScopableSerial.name, () => {
    it.each([
      ['083021000123', true],
      ['EXE1_a-b', true],
      ['A'.repeat(32), true],
      ['A'.repeat(33), false],
      ['', false],
      ['0830.21', false],
      ['EXE1\n-if', false],
      [' 083021000123', false],
      ...HOSTILE.map((h) => [h, false] as [string, boolean]),
    ])('%j -> %s', (serial, ok) => {
      expect(isScopableSerial(serial)).toBe(ok);
    });
  });

  describe(contentDisposition.name, () => {
    const header = /^(inline|attachment); filename="([A-Za-z0-9._-]+)"; filename\*=UTF-8''([A-Za-z0-9!#$&+.^_`|~%-]+)$/;

    it.each([
      ['corrections.args', 'corrections.args'],
      ['geosync-a"b/../x-1.args', 'geosync-a_b_._x-1.args'],
      ['../../etc/passwd', 'etc_passwd'],
      ['geosync-EXE1\n-if\r\0-1.args', 'geosync-EXE1_-if_-1.args'],
      ['\u2028', 'download'],
    ])('%j: fallback %j, the exact name in filename*', (name, fallback) => {
      const value = contentDisposition('inline', name);
      const m = header.exec(value);
      expect(m).not.toBeNull();
      expect(m![2]).toBe(fallback);
      expect(m![2]).not.toMatch(/\.\./);
      expect(decodeURIComponent(m![3])).toBe(name);
    });

    it('any name gives a header Node accepts, with a safe fallback and the name in filename*', () => {
      const { validateHeaderValue } = require('node:http') as typeof import('node:http');
      fc.assert(
        fc.property(fc.string({ unit: 'binary', maxLength: 150 }), (name) => {
          const value = contentDisposition('attachment', name);
          expect(() => validateHeaderValue('content-disposition', value)).not.toThrow();
          const m = header.exec(value);
          expect(m).not.toBeNull();
          expect(m![2]).not.toMatch(/\.\.|^\./);
          expect(decodeURIComponent(m![3])).toBe((name || 'download').replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'));
        }),
      );
    });
  });

  describe(csvCell.name, () => {
    it.each([
      [null, ''],
      [undefined, ''],
      [-4000, '-4000'],
      [1.5, '1.5'],
      [Number.NaN, ''],
      ['-4000', '-4000'],
      ['+1.5e3', '+1.5e3'],
      ['=1+1', "'=1+1"],
      ['+cmd', "'+cmd"],
      ['-2+3', "'-2+3"],
      ['@SUM(A1)', "'@SUM(A1)"],
      ['\tx', "'\\tx"],
      ['\rx', "'\\rx"],
      ['a,b', '"a,b"'],
      ['say "hi"', '"say ""hi"""'],
      ['nul\0byte', 'nul\\0byte'],
      ['two\nlines', 'two\\nlines'],
      ['=HYPERLINK("http://evil.example")', '"\'=HYPERLINK(""http://evil.example"")"'],
      ['plain', 'plain'],
    ])('%j -> %j', (value, expected) => {
      expect(csvCell(value)).toBe(expected);
    });

    /** Reads one RFC 4180 field back. */
    const unquote = (cell: string) => (cell.startsWith('"') ? cell.slice(1, -1).replace(/""/g, '"') : cell);

    it('any text: no control character, no formula start, quoted exactly when needed', () => {
      fc.assert(
        fc.property(fc.string({ unit: 'binary' }), (text) => {
          const cell = csvCell(text);
          expect(cell).not.toMatch(BREAKING);
          const content = unquote(cell);
          if (/^[=+\-@]/.test(content)) expect(content).toMatch(/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/);
          if (cell.startsWith('"')) expect(cell.slice(1, -1)).not.toMatch(/(^|[^"])"([^"]|$)/);
          else expect(cell).not.toMatch(/[",]/);
        }),
      );
    });

    it('any number stays a number', () => {
      fc.assert(fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (n) => expect(Number(csvCell(n)) === n).toBe(true)));
    });
  });
});
