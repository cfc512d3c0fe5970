import { KIOSK_TOKEN_KEY, takeKioskToken } from './kiosk';
import { FakeStorage } from '../test-support/fakes';

describe(takeKioskToken.name, () => {
  function history() {
    const replaced: string[] = [];
    return { replaced, history: { state: { kept: true }, replaceState: jest.fn((_state: unknown, _title: string, url?: string | URL | null) => void replaced.push(String(url))) } };
  }

  it('takes the secret from the address, keeps it for the tab and drops it from the address bar', () => {
    const storage = new FakeStorage();
    const { replaced, history: h } = history();
    expect(takeKioskToken({ href: 'http://localhost:3000/?kiosk=abc123&x=1#top' }, h, storage)).toBe('abc123');
    expect(replaced).toEqual(['/?x=1#top']);
    expect(h.replaceState).toHaveBeenCalledWith({ kept: true }, '', '/?x=1#top');
    expect(storage.getItem(KIOSK_TOKEN_KEY)).toBe('abc123');
    // After a reload (an update, say) the address has no secret any more: the tab still has it.
    expect(takeKioskToken({ href: 'http://localhost:3000/' }, h, storage)).toBe('abc123');
    expect(replaced).toHaveLength(1);
  });

  it('is null on a page opened without one (a phone)', () => {
    const { replaced, history: h } = history();
    expect(takeKioskToken({ href: 'http://10.42.0.1/' }, h, new FakeStorage())).toBeNull();
    expect(replaced).toEqual([]);
  });

  it('still works without storage', () => {
    const { history: h } = history();
    expect(takeKioskToken({ href: 'http://localhost/?kiosk=zz' }, h, null)).toBe('zz');
    expect(takeKioskToken({ href: 'http://localhost/' }, h, null)).toBeNull();
  });
});
