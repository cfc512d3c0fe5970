import { formatSlateCode, looksLikeSlateCode, parseSlateCode } from './slate-code';

describe('the slate code', () => {
  const code = { piId: 'pi-3f9a2c1b', unixMs: 1796205600123.4, frame: 4211, frameMs: 16.6667, errMs: 1.23, clock: '7f3a.2' };

  it('is TS1;<pi>;<unixMs>;<frame>;<frameMs>;<errMs>;<clock>, the error rounded up', () => {
    expect(formatSlateCode(code)).toBe('TS1;pi-3f9a2c1b;1796205600123;4211;16.7;1.3;7f3a.2');
  });

  it('reads back what it writes', () => {
    expect(parseSlateCode(formatSlateCode(code))).toEqual({ piId: 'pi-3f9a2c1b', unixMs: 1796205600123, frame: 4211, frameMs: 16.7, errMs: 1.3, clock: '7f3a.2' });
  });

  it.each([
    'WIFI:T:WPA;S:TimeSync;P:secret;;',
    'http://10.42.0.1/',
    'TS2;pi;1;2;16.7;1.0;7f3a.0',
    'TS1;pi;1796205600123;1;16.7;1.0',
    'TS1;pi with space;1796205600123;1;16.7;1.0;7f3a.0',
    'TS1;pi;-5;1;16.7;1.0;7f3a.0',
    'TS1;pi;1796205600123;1;0;1.0;7f3a.0',
    'TS1;pi;1796205600123;1;16.7;1.0;7f3a.0;extra',
    'TS1;pi;179620560012345678;1;16.7;1.0;7f3a.0',
  ])('is not %p', (text) => expect(parseSlateCode(text)).toBeNull());

  it('tells a slate of another version from a stranger\'s code', () => {
    expect(looksLikeSlateCode('TS2;pi;1')).toBe(true);
    expect(looksLikeSlateCode('WIFI:T:WPA;S:x;;')).toBe(false);
  });
});
