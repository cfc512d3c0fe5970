import { request as httpRequest } from 'node:http';
import { startApp, StartedApp } from '../support/app';

/** A raw GET with the Host header a phone sends (supertest would send the server's own). */
function probe(app: StartedApp, path: string, host: string): Promise<{ status: number; location?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: app.port, path, headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Each platform's probe: the host it asks and what it expects when the internet is there. */
const PROBES: Array<[platform: string, host: string, path: string, online: (r: { status: number; body: string }) => boolean]> = [
  ['Android', 'connectivitycheck.gstatic.com', '/generate_204', (r) => r.status === 204],
  ['Android (Google host)', 'www.google.com', '/gen_204', (r) => r.status === 204],
  ['Android (Samsung host)', 'connectivitycheck.samsung.com', '/generate_204', (r) => r.status === 204],
  ['Apple', 'captive.apple.com', '/hotspot-detect.html', (r) => /<BODY>Success<\/BODY>/i.test(r.body)],
  ['Apple (older iOS)', 'www.apple.com', '/library/test/success.html', (r) => /Success/.test(r.body)],
  ['Windows 10/11', 'www.msftconnecttest.com', '/connecttest.txt', (r) => r.body === 'Microsoft Connect Test'],
  ['Windows 7/8', 'www.msftncsi.com', '/ncsi.txt', (r) => r.body === 'Microsoft NCSI'],
  ['Windows, after a portal was seen', 'www.msftconnecttest.com', '/redirect', (r) => r.status === 200],
  ['Firefox', 'detectportal.firefox.com', '/canonical.html', (r) => /success/.test(r.body)],
  ['Firefox', 'detectportal.firefox.com', '/success.txt', (r) => r.body.trim() === 'success'],
  ['Kindle', 'spectrum.s3.amazonaws.com', '/kindle-wifi/wifistub.html', (r) => r.status === 200],
];

describe('Captive-portal probes (e2e, the app on listen(0))', () => {
  let app: StartedApp;

  beforeAll(async () => {
    app = await startApp({ AUTO_SYNC: 'false' });
  });

  afterAll(async () => {
    await app?.close();
  });

  it.each(PROBES)('%s: %s%s gets a redirect to the page at the address the phone reached, not the online answer', async (_platform, host, path, online) => {
    const answer = await probe(app, path, host);
    expect(online(answer)).toBe(false);
    expect(answer.status).toBe(302);
    // Absolute: a relative Location would resolve against the vendor's host once the phone is online.
    expect(answer.location).toBe(`http://127.0.0.1:${app.port}/`);
  });

  it('keeps the host when the phone already used our address, and the redirect target is the page', async () => {
    const answer = await probe(app, '/generate_204', `127.0.0.1:${app.port}`);
    expect(answer.location).toBe(`http://127.0.0.1:${app.port}/`);
    const page = await probe(app, '/', `127.0.0.1:${app.port}`);
    expect(page.status).toBe(200);
    expect(page.body).toMatch(/<div id="root">/);
  });

  it('answers HEAD probes too, and never lets a cache keep the redirect', async () => {
    const answer = await new Promise<{ status: number; cache?: string; location?: string }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: app.port, path: '/hotspot-detect.html', method: 'HEAD', headers: { host: 'captive.apple.com' } }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, cache: res.headers['cache-control'], location: res.headers.location }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(answer).toEqual({ status: 302, cache: 'no-store', location: `http://127.0.0.1:${app.port}/` });
  });
});
