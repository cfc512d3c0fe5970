import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppConfig } from '../config/app.config';
import { KioskToken } from './kiosk-token';
import { callerOfRequest, callerOfUpgrade, isLoopback } from './caller';

const make = (config: Partial<AppConfig>) => {
  const sut = new KioskToken(Object.assign(new AppConfig(), config));
  sut.onModuleInit();
  return sut;
};

describe(KioskToken.name, () => {
  it('writes a secret once (mode 0640) and reads the same one at the next start', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiosk-'));
    const first = make({ DATA_DIR: dir });
    const file = join(dir, 'kiosk-token');
    const secret = readFileSync(file, 'utf8').trim();
    expect(first).toMatchObject({ available: true, created: true, path: file });
    expect(statSync(file).mode & 0o777).toBe(0o640);
    expect(first.verify(secret)).toBe(true);
    const second = make({ DATA_DIR: dir });
    expect(second.created).toBe(false);
    expect(second.verify(secret)).toBe(true);
  });

  it('refuses anything but the secret', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiosk-'));
    writeFileSync(join(dir, 'kiosk-token'), `${'k'.repeat(40)}\n`);
    const sut = make({ DATA_DIR: dir });
    expect(sut.verify('k'.repeat(40))).toBe(true);
    for (const wrong of ['k'.repeat(39), 'k'.repeat(41), `${'k'.repeat(39)}K`, '', null, undefined, 42, ['k'.repeat(40)]]) expect(sut.verify(wrong)).toBe(false);
  });

  it('has no secret, and says why, when it cannot be written; nothing then counts as the kiosk', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiosk-'));
    writeFileSync(join(dir, 'a-file'), '');
    const sut = make({ KIOSK_TOKEN_FILE: join(dir, 'a-file', 'kiosk-token') });
    expect(sut.available).toBe(false);
    expect(sut.problem).toMatch(/ENOTDIR|EEXIST/);
    expect(sut.verify('anything')).toBe(false);
    expect(sut.verify('')).toBe(false);
  });

  it('tightens a secret that others could read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiosk-'));
    const file = join(dir, 'kiosk-token');
    writeFileSync(file, 'z'.repeat(43));
    chmodSync(file, 0o666);
    make({ DATA_DIR: dir });
    expect(statSync(file).mode & 0o777).toBe(0o640);
  });
});

describe('callers', () => {
  it('reads the secret from the REST header and from the WebSocket address', () => {
    expect(callerOfRequest({ socket: { remoteAddress: '::ffff:127.0.0.1' }, headers: { 'x-kiosk-token': 'abc' } })).toEqual({ address: '127.0.0.1', kioskToken: 'abc' });
    expect(callerOfRequest({ socket: { remoteAddress: '10.42.0.5' }, headers: {} })).toEqual({ address: '10.42.0.5', kioskToken: null });
    expect(callerOfRequest({ socket: { remoteAddress: '10.42.0.5' }, headers: { 'x-kiosk-token': ['a', 'b'] as unknown as string } })).toEqual({ address: '10.42.0.5', kioskToken: null });
    const upgrade = (url: string) => callerOfUpgrade({ url, socket: { remoteAddress: '::1' } } as never);
    expect(upgrade('/ws?kiosk=a%2Bb')).toEqual({ address: '::1', kioskToken: 'a+b' });
    expect(upgrade('/ws')).toEqual({ address: '::1', kioskToken: null });
    expect(upgrade('/ws?kiosk=')).toEqual({ address: '::1', kioskToken: null });
  });

  it('knows loopback', () => {
    for (const a of ['127.0.0.1', '127.3.2.1', '::1', '::ffff:127.0.0.1']) expect(isLoopback(a)).toBe(true);
    for (const a of ['10.42.0.1', '::2', 'fe80::1', '', 'localhost']) expect(isLoopback(a)).toBe(false);
  });
});
