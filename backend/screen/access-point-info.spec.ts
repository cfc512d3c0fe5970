import { AppConfig } from '../config/app.config';
import { ManualClock } from '../time/clock';
import { NetworkInterfaces } from '../access/access-point';
import { AccessPointInfo, Nmcli, pageUrlOf, parseTerseFields, parseTerseRows, readNetworkManagerAp, wifiQrText } from './access-point-info';

/** nmcli that answers exactly the expected argv lists, in order, and fails the test on anything else. */
function strictNmcli(...answers: Array<[string[], string | Error]>) {
  const calls: string[][] = [];
  const run = jest.fn(async (args: string[]) => {
    calls.push(args);
    const next = answers.shift();
    if (!next) throw new Error(`unexpected nmcli ${args.join(' ')}`);
    expect(args).toEqual(next[0]);
    if (next[1] instanceof Error) throw next[1];
    return next[1];
  });
  return { nmcli: { run } as unknown as Nmcli, calls, left: () => answers.length };
}

const ACTIVE = ['-t', '-f', 'NAME,TYPE,DEVICE', 'connection', 'show', '--active'];
const fields = (name: string) => ['-t', '-f', '802-11-wireless.mode,802-11-wireless.ssid,IP4.ADDRESS', 'connection', 'show', 'id', name];
const secret = (name: string) => ['-t', '-s', '-f', '802-11-wireless-security.psk', 'connection', 'show', 'id', name];

describe(readNetworkManagerAp.name, () => {
  it("reads the active access point's SSID, password and address", async () => {
    const { nmcli, left } = strictNmcli(
      [ACTIVE, 'Wired connection 1:802-3-ethernet:eth0\nHome\\: upstairs:802-11-wireless:wlan1\nHotspot:802-11-wireless:wlan0\n'],
      [fields('Home: upstairs'), '802-11-wireless.mode:infrastructure\n802-11-wireless.ssid:Home\nIP4.ADDRESS[1]:192.168.1.20/24\n'],
      [fields('Hotspot'), '802-11-wireless.mode:ap\n802-11-wireless.ssid:Pi\\:Time\nIP4.ADDRESS[1]:10.42.0.1/24\n'],
      [secret('Hotspot'), '802-11-wireless-security.psk:pa\\:ss\n'],
    );
    await expect(readNetworkManagerAp(nmcli)).resolves.toEqual({ ssid: 'Pi:Time', password: 'pa:ss', address: '10.42.0.1' });
    expect(left()).toBe(0);
  });

  it('has no password when the service may not read secrets', async () => {
    const { nmcli } = strictNmcli([ACTIVE, 'Hotspot:802-11-wireless:wlan0\n'], [fields('Hotspot'), '802-11-wireless.mode:ap\n802-11-wireless.ssid:Pi\n'], [secret('Hotspot'), new Error('Error: not authorized')]);
    await expect(readNetworkManagerAp(nmcli)).resolves.toEqual({ ssid: 'Pi', password: null, address: null });
  });

  it('is null without an access point', async () => {
    const { nmcli } = strictNmcli([ACTIVE, 'Wired connection 1:802-3-ethernet:eth0\n']);
    await expect(readNetworkManagerAp(nmcli)).resolves.toBeNull();
  });
});

describe('nmcli terse output', () => {
  it('splits fields at unescaped colons', () => {
    expect(parseTerseRows('a\\:b:c\\\\d:\n\nx:y\n')).toEqual([['a:b', 'c\\d', ''], ['x', 'y']]);
    expect(parseTerseFields('802-11-wireless.ssid:My\\:Net\nbroken\nIP4.ADDRESS[1]:10.42.0.1/24')).toEqual(
      new Map([
        ['802-11-wireless.ssid', 'My:Net'],
        ['IP4.ADDRESS[1]', '10.42.0.1/24'],
      ]),
    );
  });
});

describe(AccessPointInfo.name, () => {
  const wlan0 = { wlan0: [{ address: '10.42.0.1', netmask: '255.255.255.0', family: 'IPv4' as const, mac: '', internal: false, cidr: '10.42.0.1/24' }] };
  const make = (config: Partial<AppConfig>, nmcli: Nmcli, ifaces: ReturnType<NetworkInterfaces['list']> = {}) =>
    new AccessPointInfo(Object.assign(new AppConfig(), config), nmcli, { list: () => ifaces } as NetworkInterfaces, new ManualClock());

  it('uses the settings when they say everything, without asking NetworkManager', async () => {
    const { nmcli, calls } = strictNmcli();
    await expect(make({ AP_SSID: 'Pi', AP_PASSWORD: 'pw', AP_ADDRESS: '10.42.0.9' }, nmcli).details()).resolves.toEqual({ ssid: 'Pi', password: 'pw', address: '10.42.0.9', from: 'settings' });
    expect(calls).toEqual([]);
  });

  it("fills what the settings leave out from NetworkManager, the address from the interface first", async () => {
    const { nmcli } = strictNmcli([ACTIVE, 'Hotspot:802-11-wireless:wlan0\n'], [fields('Hotspot'), '802-11-wireless.mode:ap\n802-11-wireless.ssid:FromNM\nIP4.ADDRESS[1]:10.42.0.77/24\n'], [secret('Hotspot'), '802-11-wireless-security.psk:nm-pw\n']);
    await expect(make({}, nmcli, wlan0).details()).resolves.toEqual({ ssid: 'FromNM', password: 'nm-pw', address: '10.42.0.1', from: 'networkmanager' });
  });

  it("does not give NetworkManager's password for another network than AP_SSID names", async () => {
    const { nmcli } = strictNmcli([ACTIVE, 'Hotspot:802-11-wireless:wlan0\n'], [fields('Hotspot'), '802-11-wireless.mode:ap\n802-11-wireless.ssid:Other\n'], [secret('Hotspot'), '802-11-wireless-security.psk:other-pw\n']);
    await expect(make({ AP_SSID: 'Mine' }, nmcli, wlan0).details()).resolves.toEqual({ ssid: 'Mine', password: null, address: '10.42.0.1', from: 'settings' });
  });

  it('tolerates a Pi without NetworkManager (no nmcli), and asks again only after a while', async () => {
    const missing = Object.assign(new Error('spawn nmcli ENOENT'), { code: 'ENOENT' });
    const { nmcli, calls } = strictNmcli([ACTIVE, missing]);
    const sut = make({}, nmcli);
    await expect(sut.details()).resolves.toEqual({ ssid: null, password: null, address: null, from: 'none' });
    await expect(sut.details()).resolves.toEqual({ ssid: null, password: null, address: null, from: 'none' });
    expect(calls).toHaveLength(1);
  });
});

describe(wifiQrText.name, () => {
  it('writes the Wi-Fi QR payload phones read, escaping its special characters', () => {
    expect(wifiQrText('PiTimeSync', 'correct horse')).toBe('WIFI:T:WPA;S:PiTimeSync;P:correct horse;;');
    expect(wifiQrText('a;b,c:d"e\\f', 'p;w')).toBe('WIFI:T:WPA;S:a\\;b\\,c\\:d\\"e\\\\f;P:p\\;w;;');
    expect(wifiQrText('Open', null)).toBe('WIFI:T:nopass;S:Open;;');
  });
});

describe(pageUrlOf.name, () => {
  it('leaves out port 80 and brackets IPv6', () => {
    expect(pageUrlOf('10.42.0.1', 80)).toBe('http://10.42.0.1/');
    expect(pageUrlOf('10.42.0.1', 3000)).toBe('http://10.42.0.1:3000/');
    expect(pageUrlOf('fd00::1', 80)).toBe('http://[fd00::1]/');
  });
});
