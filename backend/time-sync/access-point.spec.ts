import { AppConfig } from '../config/app.config';
import { AccessPointPolicy, NetworkInterfaces, normalizeAddress } from './access-point';

function policy(overrides: Partial<AppConfig>, ifaces: ReturnType<NetworkInterfaces['list']> = {}) {
  const config = Object.assign(new AppConfig(), overrides);
  return new AccessPointPolicy(config, { list: () => ifaces } as NetworkInterfaces);
}

describe(AccessPointPolicy.name, () => {
  it('trusts addresses inside AP_SUBNETS, including IPv4-mapped IPv6', () => {
    const sut = policy({ AP_SUBNETS: '10.42.0.0/24, 192.168.4.0/24' });
    expect(sut.isAccessPointClient('10.42.0.23')).toBe(true);
    expect(sut.isAccessPointClient('::ffff:192.168.4.7')).toBe(true);
    expect(sut.isAccessPointClient('10.42.1.23')).toBe(false);
    expect(sut.isAccessPointClient('8.8.8.8')).toBe(false);
  });

  it('never trusts loopback unless listed', () => {
    expect(policy({ AP_SUBNETS: '10.42.0.0/24' }).isAccessPointClient('127.0.0.1')).toBe(false);
    expect(policy({ AP_SUBNETS: '10.42.0.0/24' }).isAccessPointClient('::1')).toBe(false);
    expect(policy({ AP_SUBNETS: '127.0.0.1/32,::1/128' }).isAccessPointClient('::ffff:127.0.0.1')).toBe(true);
    expect(policy({ AP_SUBNETS: '127.0.0.1/32,::1/128' }).isAccessPointClient('::1')).toBe(true);
  });

  it("derives the subnet from AP_INTERFACE's address and netmask when AP_SUBNETS is empty", () => {
    const sut = policy({ AP_INTERFACE: 'wlan0' }, {
      wlan0: [{ address: '10.42.0.1', netmask: '255.255.255.0', family: 'IPv4', mac: '', internal: false, cidr: '10.42.0.1/24' }],
      lo: [{ address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '', internal: true, cidr: '127.0.0.1/8' }],
    });
    expect(sut.subnets()).toEqual(['10.42.0.1/24']);
    expect(sut.isAccessPointClient('10.42.0.99')).toBe(true);
    expect(sut.isAccessPointClient('127.0.0.1')).toBe(false);
  });

  it('trusts nobody when the access point interface is missing', () => {
    const sut = policy({ AP_INTERFACE: 'wlan0' }, {});
    expect(sut.isAccessPointClient('10.42.0.99')).toBe(false);
  });

  it('rejects missing and malformed addresses', () => {
    const sut = policy({ AP_SUBNETS: '0.0.0.0/0' });
    expect(sut.isAccessPointClient(undefined)).toBe(false);
    expect(sut.isAccessPointClient('not-an-ip')).toBe(false);
  });

  it('normalizes only IPv4-mapped addresses', () => {
    expect(normalizeAddress('::ffff:10.0.0.1')).toBe('10.0.0.1');
    expect(normalizeAddress('fe80::1')).toBe('fe80::1');
  });
});
