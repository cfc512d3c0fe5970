import { portalUrl } from './captive-portal.controller';

describe(portalUrl.name, () => {
  const onAp = { localAddress: '10.42.0.1', localPort: 80, ownNames: ['timesync-pi'] };

  it.each([
    ['connectivitycheck.gstatic.com', 'http://10.42.0.1/'],
    ['captive.apple.com', 'http://10.42.0.1/'],
    ['www.msftconnecttest.com', 'http://10.42.0.1/'],
    ['detectportal.firefox.com', 'http://10.42.0.1/'],
    ['CAPTIVE.APPLE.COM', 'http://10.42.0.1/'],
    [undefined, 'http://10.42.0.1/'],
    ['', 'http://10.42.0.1/'],
    ['evil.example/"><script>', 'http://10.42.0.1/'],
  ])('sends a probe for host %p to the address the phone reached: %s', (host, url) => {
    expect(portalUrl({ ...onAp, host })).toBe(url);
  });

  it.each([
    ['10.42.0.1', 'http://10.42.0.1/'],
    ['10.42.0.1:8080', 'http://10.42.0.1:8080/'],
    ['timesync-pi', 'http://timesync-pi/'],
    ['timesync-pi.local', 'http://timesync-pi.local/'],
    ['[fd00::1]:3000', 'http://[fd00::1]:3000/'],
  ])('keeps a host that already names us, %p', (host, url) => {
    expect(portalUrl({ ...onAp, host })).toBe(url);
  });

  it('names the port when it is not 80, and brackets IPv6 addresses', () => {
    expect(portalUrl({ host: 'captive.apple.com', localAddress: '::ffff:192.168.4.1', localPort: 3000, ownNames: [] })).toBe('http://192.168.4.1:3000/');
    expect(portalUrl({ host: 'captive.apple.com', localAddress: 'fd00::1', localPort: 80, ownNames: [] })).toBe('http://[fd00::1]/');
  });

  it('keeps the host when our address is link-local (browsers take no zone in a URL) or unknown', () => {
    expect(portalUrl({ host: 'captive.apple.com', localAddress: 'fe80::1%wlan0', localPort: 80, ownNames: [] })).toBe('http://captive.apple.com/');
    expect(portalUrl({ host: 'captive.apple.com', localAddress: undefined, ownNames: [] })).toBe('http://captive.apple.com/');
  });
});
