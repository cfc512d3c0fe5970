import { ErrorCode, UPLOAD_HEADER } from '../protocol/vocabulary';
import { canonicalName, contentTypeRefusal, hostRefusal, OwnHosts, parseHost, redirectsToPage, RequestFacts, upgradeRefusal, writeRefusal } from './same-origin';

describe(OwnHosts.name, () => {
  const interfaces = { lo: [{ address: '127.0.0.1' }, { address: '::1' }], wlan0: [{ address: '10.42.0.1' }, { address: 'fe80::1%wlan0' }] };

  it("knows the Pi's addresses, localhost, its hostname (and .local), AP_ADDRESS and ALLOWED_HOSTS", () => {
    const sut = new OwnHosts({ apAddress: '192.168.4.1', allowedHosts: 'TimeSync.Example.lan , 203.0.113.9' }, () => interfaces, () => 'TimeSync');
    for (const name of ['localhost', '127.0.0.1', '[::1]', '10.42.0.1', 'fe80::1', 'timesync', 'TIMESYNC.local', 'timesync.local.', '192.168.4.1', 'timesync.example.lan', '203.0.113.9']) expect([name, sut.has(name)]).toEqual([name, true]);
    for (const name of ['evil.example', 'timesync.evil.example', 'localhost.evil.example', '10.42.0.2', '', 'a b', 'local']) expect([name, sut.has(name)]).toEqual([name, false]);
  });

  it('reads the interfaces again for a name it does not know: an address that came up since', () => {
    let current: Record<string, { address: string }[]> = { lo: [{ address: '127.0.0.1' }] };
    const sut = new OwnHosts({}, () => current, () => 'pi');
    expect(sut.has('10.42.0.1')).toBe(false);
    current = { ...current, wlan0: [{ address: '10.42.0.1' }] };
    expect(sut.has('10.42.0.1')).toBe(true);
  });
});

describe(parseHost.name, () => {
  it.each([
    ['10.42.0.1', { name: '10.42.0.1', port: null }],
    ['10.42.0.1:3000', { name: '10.42.0.1', port: 3000 }],
    ['[::1]:80', { name: '::1', port: 80 }],
    // A link-local address with its zone (Node's own client sends it so): the zone is not part of the name.
    ['[fe80::1%lan0]:80', { name: 'fe80::1', port: 80 }],
    ['[fe80::1%25wlan0]', { name: 'fe80::1', port: null }],
    ['[fe80::1%lan0/x]', null],
    ['Pi.Local', { name: 'pi.local', port: null }],
    ['evil.example@10.42.0.1', null],
    ['10.42.0.1/x', null],
    ['10.42.0.1:0', null],
    ['10.42.0.1:99999', null],
    ['', null],
  ])('%p -> %p', (header, parsed) => expect(parseHost(header)).toEqual(parsed));

  it('canonical names: brackets and zones dropped, junk refused', () => {
    expect(canonicalName('[FE80::1%wlan0]')).toBe('fe80::1');
    expect(canonicalName('-bad-.example')).toBe('');
  });
});

const own = new OwnHosts({ apAddress: '10.42.0.1' }, () => ({ lo: [{ address: '127.0.0.1' }] }), () => 'timesync');
const req = (method: string, path: string, headers: Record<string, string>): RequestFacts => ({ method, path, headers, localPort: 80 });

describe(hostRefusal.name, () => {
  it.each(['10.42.0.1', '10.42.0.1:80', 'localhost:3000', 'timesync.local', '127.0.0.1:8080'])('Host %s: the Pi', (host) => {
    expect(hostRefusal(req('GET', '/api/health', { host }), own)).toBeNull();
  });

  it.each(['evil.example', 'evil.example:80', '10.42.0.1.nip.io', 'x@10.42.0.1', '10.0.0.99'])('Host %s: refused, coded, 421', (host) => {
    expect(hostRefusal(req('GET', '/', { host }), own)).toMatchObject({ status: 421, code: ErrorCode.FOREIGN_HOST });
    expect(hostRefusal(req('POST', '/api/session/start', { host }), own)?.code).toBe(ErrorCode.FOREIGN_HOST);
  });

  it('captive-portal probes are answered whatever the Host (GET/HEAD only); no Host at all passes', () => {
    expect(hostRefusal(req('GET', '/generate_204', { host: 'connectivitycheck.gstatic.com' }), own)).toBeNull();
    expect(hostRefusal(req('HEAD', '/hotspot-detect.html', { host: 'captive.apple.com' }), own)).toBeNull();
    expect(hostRefusal(req('GET', '/library/test/success.html/', { host: 'captive.apple.com' }), own)).toBeNull();
    expect(hostRefusal(req('POST', '/generate_204', { host: 'evil.example' }), own)?.code).toBe(ErrorCode.FOREIGN_HOST);
    expect(hostRefusal(req('GET', '/api/generate_204', { host: 'evil.example' }), own)?.code).toBe(ErrorCode.FOREIGN_HOST);
    expect(hostRefusal(req('GET', '/', {}), own)).toBeNull();
  });
});

describe(writeRefusal.name, () => {
  const json = { host: '10.42.0.1', 'content-type': 'application/json', 'content-length': '2' };

  it.each([
    ['the page itself', { ...json, origin: 'http://10.42.0.1' }],
    ['the page under another of the Pi’s names, same port', { ...json, origin: 'http://timesync.local' }],
    ['no Origin (a script)', json],
    ['same-origin fetch metadata', { ...json, origin: 'http://10.42.0.1', 'sec-fetch-site': 'same-origin' }],
    ['charset', { ...json, 'content-type': 'application/json; charset=utf-8' }],
    ['no body and no Content-Type', { host: '10.42.0.1' }],
  ])('passes %s', (_case, headers) => expect(writeRefusal(req('POST', '/api/session/start', headers), own)).toBeNull());

  it.each([
    ['another site', { ...json, origin: 'http://evil.example' }],
    ['another port of the Pi', { ...json, host: '127.0.0.1:3000', origin: 'http://127.0.0.1:4000' }],
    ['https page', { ...json, origin: 'https://10.42.0.1' }],
    ['an opaque origin', { ...json, origin: 'null' }],
    ['cross-site fetch metadata, no Origin', { ...json, 'sec-fetch-site': 'cross-site' }],
    ['a forged Origin with user info', { ...json, origin: 'http://evil@10.42.0.1' }],
  ])('refuses %s: 403 FOREIGN_ORIGIN', (_case, headers) => {
    expect(writeRefusal(req('POST', '/api/timesync/camera', headers), own)).toMatchObject({ status: 403, code: ErrorCode.FOREIGN_ORIGIN });
  });

  it.each(['PUT', 'PATCH', 'DELETE'])('checks %s as well, reads never', (method) => {
    expect(writeRefusal(req(method, '/api/x', { ...json, origin: 'http://evil.example' }), own)?.code).toBe(ErrorCode.FOREIGN_ORIGIN);
    expect(writeRefusal(req('GET', '/api/x', { ...json, origin: 'http://evil.example' }), own)).toBeNull();
    expect(writeRefusal(req(method, '/not-api', { ...json, origin: 'http://evil.example' }), own)).toBeNull();
  });

  it.each([
    ['text/plain', { 'content-type': 'text/plain', 'content-length': '2' }],
    ['a form', { 'content-type': 'application/x-www-form-urlencoded', 'content-length': '0' }],
    ['multipart', { 'content-type': 'multipart/form-data; boundary=x', 'content-length': '10' }],
    ['json-ish', { 'content-type': 'application/jsonp', 'content-length': '2' }],
    ['a body without type', { 'content-length': '2' }],
    ['a chunked body without type', { 'transfer-encoding': 'chunked' }],
  ])('refuses %s: 415 UNSUPPORTED_MEDIA_TYPE', (_case, headers) => {
    expect(contentTypeRefusal(headers)).toMatchObject({ status: 415, code: ErrorCode.UNSUPPORTED_MEDIA_TYPE });
    expect(writeRefusal(req('POST', '/api/session/stop', { host: '10.42.0.1', ...headers }), own)?.code).toBe(ErrorCode.UNSUPPORTED_MEDIA_TYPE);
  });

  describe('the one multipart write: slate photos', () => {
    const upload = { host: '10.42.0.1', 'content-type': 'multipart/form-data; boundary=----x', 'content-length': '4096' };

    it('takes multipart on /api/slate/photos with the upload header, from the page and from scripts', () => {
      expect(writeRefusal(req('POST', '/api/slate/photos', { ...upload, [UPLOAD_HEADER]: '1', origin: 'http://10.42.0.1', 'sec-fetch-site': 'same-origin' }), own)).toBeNull();
      expect(writeRefusal(req('POST', '/api/slate/photos', { ...upload, [UPLOAD_HEADER]: '1' }), own)).toBeNull();
    });

    it('refuses it without the header (what a form of another site sends), and anywhere else', () => {
      expect(writeRefusal(req('POST', '/api/slate/photos', upload), own)).toMatchObject({ status: 415, code: ErrorCode.UNSUPPORTED_MEDIA_TYPE });
      expect(writeRefusal(req('POST', '/api/slate/photos', upload), own)?.message).toContain(UPLOAD_HEADER);
      expect(writeRefusal(req('POST', '/api/session/start', { ...upload, [UPLOAD_HEADER]: '1' }), own)?.code).toBe(ErrorCode.UNSUPPORTED_MEDIA_TYPE);
      expect(writeRefusal(req('POST', '/api/slate/photos/x', { ...upload, [UPLOAD_HEADER]: '1' }), own)?.code).toBe(ErrorCode.UNSUPPORTED_MEDIA_TYPE);
      expect(writeRefusal(req('POST', '/api/slate/photos', { ...upload, 'content-type': 'text/plain', [UPLOAD_HEADER]: '1' }), own)?.code).toBe(ErrorCode.UNSUPPORTED_MEDIA_TYPE);
    });

    it('still refuses another site, header or not: a foreign Origin, or Sec-Fetch-Site cross-site', () => {
      const withHeader = { ...upload, [UPLOAD_HEADER]: '1' };
      expect(writeRefusal(req('POST', '/api/slate/photos', { ...withHeader, origin: 'http://evil.example' }), own)).toMatchObject({ status: 403, code: ErrorCode.FOREIGN_ORIGIN });
      expect(writeRefusal(req('POST', '/api/slate/photos', { ...withHeader, 'sec-fetch-site': 'cross-site' }), own)).toMatchObject({ status: 403, code: ErrorCode.FOREIGN_ORIGIN });
      expect(writeRefusal(req('POST', '/api/slate/photos', { ...withHeader, origin: 'null' }), own)?.code).toBe(ErrorCode.FOREIGN_ORIGIN);
    });
  });
});

describe(upgradeRefusal.name, () => {
  it('lets the page and non-browser clients open /ws; refuses other origins and hosts', () => {
    expect(upgradeRefusal(req('GET', '/ws', { host: '10.42.0.1', origin: 'http://10.42.0.1' }), own)).toBeNull();
    expect(upgradeRefusal(req('GET', '/ws', { host: '127.0.0.1:3000' }), own)).toBeNull();
    expect(upgradeRefusal(req('GET', '/ws', { host: '10.42.0.1', origin: 'http://evil.example' }), own)).toMatchObject({ status: 403, code: ErrorCode.FOREIGN_ORIGIN });
    expect(upgradeRefusal(req('GET', '/ws', { host: 'evil.example', origin: 'http://evil.example' }), own)).toMatchObject({ status: 421, code: ErrorCode.FOREIGN_HOST });
  });
});

describe(redirectsToPage.name, () => {
  const foreign = { status: 421, code: ErrorCode.FOREIGN_HOST, message: 'x' };
  it.each([
    ['GET', '/', true],
    ['HEAD', '/index.html', true],
    ['GET', '/assets/app.js', true],
    ['GET', '/api/health', false],
    ['GET', '/api', false],
    ['GET', '/ws', false],
    ['POST', '/', false],
  ])('%s %s under another name -> redirect %p', (method, path, expected) => {
    expect(redirectsToPage({ method, path, headers: { host: 'evil.example' } }, foreign)).toBe(expected);
  });

  it('never turns another refusal into a redirect', () => {
    expect(redirectsToPage({ method: 'GET', path: '/', headers: {} }, { status: 403, code: ErrorCode.FOREIGN_ORIGIN, message: 'x' })).toBe(false);
  });
});
