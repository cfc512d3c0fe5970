/**
 * TIME_SERVER=chrony with the real chronyd (always -x: it never touches this machine's clock; private folders, free
 * ports), the product fed by a phone. Truth is the phone's clock (the host's plus PHONE_AHEAD_MS); chronyd -x
 * measures against the host's clock, so its "System time" is the phone's offset from the host, and the product's
 * simulated clock follows it as a Pi's clock follows chrony.
 *
 * - the leader's chrony selects the product's feed and its offset agrees with the product's reading;
 * - a follower chronyd in its own network namespace (a veth pair) polls the leader over NTP and has the same time
 *   within the bound it states; the leader lists it as a client and the leader's page says so;
 * - a follower Pi (the built server beside that chronyd, NTP_FOLLOW) follows the leader, sets its camera from that
 *   time, measures a phone without taking its time while the leader answers, and takes the phone's time once the
 *   leader is gone;
 * - a leader whose product stops giving time keeps serving, then falls back to its local stratum;
 * - a chronyd that does not poll the product is a clear error; SetTime only with TIME_SERVER_FALLBACK=settime;
 * - the operator's hand-set time goes to chrony and holds (a phone that disagrees is a decision).
 * The tests of the first describe run in order (the follower follows the first test's leader).
 */
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { decodeReply, encodeRequest } from '../../backend/time-server/ntp-packet';
import { Clock } from '../../backend/time/clock';
import { startApp, StartedApp, statusWhen } from '../support/app';
import { Chronyd, chronydMissing, freeUdpPort } from '../support/chrony-harness';
import { ClientPool } from '../support/ws-client';
import { inNs, netnsLacking, Proc, run, startInNs } from '../reliability/netns/lab';

jest.setTimeout(180_000);

const PHONE_AHEAD_MS = 2500;
/** What kiosk/install.sh seeds chrony's drift file with on a Pi: frequency unknown, within ±50 ppm (a crystal's tolerance). */
const PI_DRIFT = '0.000 50.000\n';
/** The product's feed, as kiosk/install.sh --time-server writes it. */
const feedLine = (port: number) => `server 127.0.0.1 port ${port} minpoll 0 maxpoll 0 iburst`;
const ROOT = join(__dirname, '..', '..');
const MAIN = join(ROOT, 'dist', 'backend', 'main.js');

const tag = randomBytes(2).toString('hex');
const NS = `tsf-${tag}`;
const missing = [...chronydMissing(), ...(chronydMissing().length ? [] : netnsLacking(`tsprobe-${tag}`)), ...(existsSync(MAIN) ? [] : ['the built server (npm run build:backend)'])];
const describeIf = missing.length ? describe.skip : describe;
if (missing.length) console.warn(`time-server integration skipped: missing ${missing.join(', ')}`);

/** The product's clock minus the host's, ms (the app runs in this process). */
const piMinusHost = (app: StartedApp) => app.app.get(Clock, { strict: false }).now() - Date.now();
const messages = async (app: StartedApp) => ((await request(app.url).get('/api/activity').expect(200)).body as { message: string }[]).map((e) => e.message);

/** One NTP exchange with a server, as a client computes it: server minus this host's clock (ms), and the reply. */
async function ntpQuery(host: string, port: number): Promise<{ offsetMs: number; stratum: number; leap: number; rootDispersionS: number }> {
  const s = createSocket('udp4');
  const now = () => performance.timeOrigin + performance.now();
  try {
    let t1 = 0;
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no NTP answer from ${host}:${port}`)), 3000);
      s.once('message', (m) => {
        clearTimeout(timer);
        resolve(m);
      });
      t1 = now();
      s.send(encodeRequest(t1), port, host);
    });
    const t4 = now();
    const r = decodeReply(reply)!;
    return { offsetMs: (r.receiveMs - t1 + (r.transmitMs - t4)) / 2, stratum: r.stratum, leap: r.leap, rootDispersionS: r.rootDispersionS };
  } finally {
    s.close();
  }
}

describeIf('TIME_SERVER=chrony with the real chronyd', () => {
  let leader: Chronyd;
  let ntpPort: number;
  let feedPort: number;
  let app: StartedApp | undefined;
  let follower: Chronyd;
  let followerFeedPort: number;
  const clients = new ClientPool();
  const started: Chronyd[] = [];
  const procs: Proc[] = [];
  const dirs: string[] = [];
  let nsMade = false;
  // The veth pair: the root side holds the phone's address (.1) and the leader's (.3); the follower's side .2.
  const net = `10.${100 + (parseInt(tag, 16) % 100)}.${parseInt(tag.slice(2), 16) % 250}`;
  const LEADER = `${net}.3`;

  beforeAll(async () => {
    ntpPort = await freeUdpPort();
    feedPort = await freeUdpPort();
    leader = await Chronyd.start({
      name: 'leader',
      ntpPort,
      driftFile: PI_DRIFT,
      conf: [feedLine(feedPort), 'local stratum 10', 'maxupdateskew 100', 'allow 127.0.0.0/8', `allow ${net}.0/29`],
    });
    started.push(leader);
  });

  afterAll(async () => {
    await clients.closeAll();
    await app?.close();
    for (const p of procs) await p.stop();
    for (const c of started) await c.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    if (nsMade) {
      try {
        run('ip', ['netns', 'del', NS]);
      } catch {
        // gone
      }
    }
  });

  it("the leader's chrony selects the product's time, and its offset agrees with the product's reading to within the reading's bound", async () => {
    app = await startApp({ TIME_SERVER: 'chrony', TIME_SERVER_FEED_PORT: String(feedPort), CHRONYC: '/usr/bin/chronyc', CHRONY_COMMAND_SOCKET: leader.socket, SIMULATED_CLOCK_OFFSET_MS: String(-3 * 3_600_000) });
    const before = await statusWhen(app, (s) => s.timeServer?.state === 'local' || s.timeServer?.state === 'unsynchronised');
    expect(before.timeServer).toMatchObject({ engine: 'chrony', following: null, error: null });

    await clients.connect(app.wsUrl, { offsetMs: PHONE_AHEAD_MS });
    const synced = await statusWhen(app, (s) => s.syncSource === 'client' && s.timeServer?.state === 'serving', 30_000);
    const reading = synced.lastOffsetMs as number;
    const bound = synced.errorBoundMs as number;
    expect(bound).toBeLessThan(50);

    // chrony's own view: the product's feed selected, chrony's offset (true minus this host) = the phone's.
    const view = await leader.view();
    expect(view).toMatchObject({ state: 'serving', reference: '127.0.0.1' });
    expect(Math.abs(view.offsetMs - PHONE_AHEAD_MS)).toBeLessThanOrEqual(bound);
    // The product stepped the Pi 3 h through chrony: its reading was phone minus Pi then; the Pi now has the phone's time.
    expect(Math.abs(reading - (3 * 3_600_000 + PHONE_AHEAD_MS))).toBeLessThanOrEqual(bound);
    expect(Math.abs(piMinusHost(app) - PHONE_AHEAD_MS)).toBeLessThanOrEqual(bound);
    // The status reads chrony: stratum of a phone's time plus one, its bound, its offset against the Pi's clock.
    expect(synced.timeServer).toMatchObject({ state: 'serving', reference: '127.0.0.1', stratum: 3, clients: 0 });
    expect(Math.abs(synced.timeServer.offsetMs)).toBeLessThanOrEqual(bound);
    expect(synced.timeServer.errorBoundMs).toBeGreaterThan(0);
    expect(synced.timeServer.summary).toMatch(/^serving to 0 clients, stratum 3, ±/);
    // The step is journaled as the product's (write-ahead), with the phone as its source.
    const journal = (await request(app.url).get('/api/timesync/journal').expect(200)).body as Array<{ source: string; state: string; stepMs: number }>;
    expect(journal).toContainEqual(expect.objectContaining({ source: 'client', state: 'confirmed' }));
    expect(await messages(app)).toContainEqual(expect.stringMatching(/^Time synchronized from the phone at 127\.0\.0\.1/));
    // The NTP chrony serves is the phone's time.
    const served = await ntpQuery('127.0.0.1', ntpPort);
    expect(served).toMatchObject({ leap: 0, stratum: 3 });
    expect(Math.abs(served.offsetMs - PHONE_AHEAD_MS)).toBeLessThan(bound + 5);
  });

  it('a follower chronyd in its own network namespace polls the leader over NTP and has the same time within the bound it states', async () => {
    const outer = `tsl${tag}`;
    run('ip', ['netns', 'add', NS]);
    nsMade = true;
    run('ip', ['link', 'add', outer, 'type', 'veth', 'peer', 'name', 'vf0', 'netns', NS]);
    run('ip', ['addr', 'add', `${net}.1/29`, 'dev', outer]);
    run('ip', ['addr', 'add', `${LEADER}/29`, 'dev', outer]);
    run('ip', ['link', 'set', outer, 'up']);
    inNs(NS, 'ip', 'addr', 'add', `${net}.2/29`, 'dev', 'vf0');
    inNs(NS, 'ip', 'link', 'set', 'vf0', 'up');
    inNs(NS, 'ip', 'link', 'set', 'lo', 'up');
    followerFeedPort = await freeUdpPort();
    follower = await Chronyd.start({
      name: 'follower',
      netns: NS,
      ntpPort: 0,
      driftFile: PI_DRIFT,
      conf: [`server ${LEADER} port ${ntpPort} iburst minpoll -2 maxpoll -2 prefer`, feedLine(followerFeedPort), 'local stratum 10', 'maxupdateskew 100'],
    });
    started.push(follower);

    const view = await follower.until((v) => v.state === 'following' && v.reference === LEADER && v.leader!.selected, 30_000, LEADER);
    // Read back to back: the follower's time (true minus this host, as chrony -x keeps it) against the leader's.
    const [f, l] = [await follower.view(LEADER), await leader.view()];
    expect(f.stratum).toBe(l.stratum + 1);
    expect(Math.abs(f.offsetMs - l.offsetMs)).toBeLessThanOrEqual(f.errorBoundMs);
    expect(Math.abs(f.offsetMs - PHONE_AHEAD_MS)).toBeLessThanOrEqual(f.errorBoundMs);
    expect(view.leader).toMatchObject({ name: LEADER, reachable: true, selected: true });

    // The leader lists it among its clients (with this test's own NTP query from 127.0.0.1), and the leader's page counts them.
    const listed = (await leader.chronyc(['-c', '-n', 'clients'])).split('\n').filter((l) => /^[^,]+,[1-9]/.test(l));
    expect(listed).toContainEqual(expect.stringMatching(new RegExp(`^${net.replace(/\./g, '\\.')}\\.2,`)));
    const status = await statusWhen(app!, (s) => s.timeServer?.clients === listed.length, 10_000);
    expect(status.timeServer.summary).toMatch(new RegExp(`^serving to ${listed.length} clients?, stratum 3, ±`));
  });

  it('a follower Pi follows the leader: its page says so, its camera is set from that time, a phone is measured but not followed until the leader is gone', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'follower-pi-'));
    dirs.push(dataDir);
    const ahead = PHONE_AHEAD_MS + 7000;
    const pi = await startInNs(
      NS,
      [process.execPath, MAIN],
      {
        PORT: '0',
        HOST: `${net}.2`,
        CLOCK_BACKEND: 'simulated',
        SIMULATED_CLOCK_OFFSET_MS: String(-3_600_000),
        TIME_SERVER: 'chrony',
        NTP_FOLLOW: LEADER,
        TIME_SERVER_FEED_PORT: String(followerFeedPort),
        CHRONYC: '/usr/bin/chronyc',
        CHRONY_COMMAND_SOCKET: follower.socket,
        AP_SUBNETS: `${net}.0/29`,
        DEMO: 'true',
        CAMERA_DISCOVERY: 'false',
        GPSD_ADDRESS: '',
        RTC_SYSFS: '',
        TIME_SYNC_INTERVAL: '10000',
        DATA_DIR: dataDir,
        NO_COLOR: '1',
      },
      /Serving the page.* at (http:\/\/[\d.]+:\d+)/,
    );
    procs.push(pi);
    const url = pi.match[1];
    const status = async () => (await request(url).get('/api/timesync/status').expect(200)).body;
    const until = async (ok: (s: any) => boolean, timeoutMs: number, what: string) => {
      const end = Date.now() + timeoutMs;
      let last: any;
      while (Date.now() < end) {
        last = await status();
        if (ok(last)) return last;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`follower Pi: ${what} not within ${timeoutMs} ms: ${JSON.stringify({ source: last?.syncSource, timeServer: last?.timeServer, cameras: last?.cameras?.map((c: any) => c.lastSync) })}\n${pi.output().slice(-3000)}`);
    };
    const logOf = async () => ((await request(url).get('/api/activity').expect(200)).body as { message: string }[]).map((e) => e.message);

    const following = await until((s) => s.syncSource === 'ntp' && s.timeServer?.state === 'following', 20_000, 'following the leader');
    expect(following.timeServer).toMatchObject({ following: LEADER, leaderReachable: true, reference: LEADER, error: null });
    expect(following.timeServer.summary).toMatch(new RegExp(`^following ${LEADER.replace(/\./g, '\\.')} over NTP, ±[\\d.]+ ms; serving to`));
    expect(following.pi).toMatchObject({ source: 'ntp', ntpSynchronized: true, reliability: 'high' });
    expect(following.errorBoundMs).toBe(following.timeServer.errorBoundMs);
    // chrony's correction of its clock (an hour off at start) is a step the product sees and journals as chrony's.
    const logOfSoon = async (re: RegExp) => {
      for (const end = Date.now() + 20_000; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) if ((await logOf()).some((m) => re.test(m))) return;
    };
    await logOfSoon(/^chrony \(the time server\) stepped the Pi's clock by \+1 h/);
    // Its clock is the leader's: the phone's time, within its bound.
    const piClock = async () => {
      const t0 = Date.now();
      const body = (await request(url).get('/api/system/time').expect(200)).body as { epochMs: number };
      const t1 = Date.now();
      return { minusHost: body.epochMs - (t0 + t1) / 2, halfRtt: (t1 - t0) / 2 };
    };
    const clock = await piClock();
    expect(Math.abs(clock.minusHost - PHONE_AHEAD_MS)).toBeLessThanOrEqual(following.errorBoundMs + clock.halfRtt + 1);
    // The camera is set from that time (83.4 s behind the host before).
    await until((s) => s.cameras?.[0]?.lastSync?.success === true, 30_000, 'the camera set');
    const camera = (await status()).cameras[0].lastSync;
    expect(Math.abs(camera.offsetMs - (83_400 + PHONE_AHEAD_MS))).toBeLessThan(1000);
    const log = await logOf();
    expect(log).toContainEqual(expect.stringMatching(new RegExp(`^The Pi follows ${LEADER.replace(/\./g, '\\.')} over NTP`)));
    expect(log).toContainEqual(expect.stringMatching(/^chrony \(the time server\) stepped the Pi's clock by \+1 h/));
    const csv = (await request(url).get('/api/timesync/journal.csv').expect(200)).text;
    expect(csv.split('\r\n').find((l) => l.includes(',external-step,'))).toMatch(/,chrony,/);

    // A phone 7 s off the leader, while the leader answers: measured, not followed.
    const phone = await clients.connect(url.replace('http', 'ws') + '/ws', { offsetMs: ahead, localAddress: `${net}.1` });
    const deadline = Date.now() + 20_000;
    while (!(await logOf()).some((m) => /^Network time \(NTP\) keeps the Pi's clock; the phone at .* differs by \+7 s/.test(m)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await logOf()).toContainEqual(expect.stringMatching(/^Network time \(NTP\) keeps the Pi's clock; the phone at [\d.]+ differs by \+7 s.*clock left alone$/));
    expect(Math.abs((await piClock()).minusHost - PHONE_AHEAD_MS)).toBeLessThan(100);

    // The leader goes: the follower says so, and the phone's time is taken (through this Pi's own chrony).
    await app?.close();
    app = undefined;
    await leader.stop();
    started.splice(started.indexOf(leader), 1);
    const alone = await until((s) => s.syncSource === 'client' && s.timeServer?.state === 'serving', 40_000, "the phone's time taken");
    expect(alone.timeServer).toMatchObject({ leaderReachable: false, reference: '127.0.0.1' });
    expect(alone.timeServer.summary).toMatch(new RegExp(`^the leader ${LEADER.replace(/\./g, '\\.')} does not answer; the Pi's own source keeps the time`));
    expect(await logOf()).toContainEqual(expect.stringMatching(/^The Pi no longer follows .* over NTP \(it does not answer\)/));
    expect(Math.abs((await piClock()).minusHost - ahead)).toBeLessThanOrEqual(alone.errorBoundMs + 20);
    phone.socket.close();
  });

  it("a leader whose product stops giving time keeps serving its time with a growing bound, then serves its clock at the local stratum", async () => {
    const port2 = await freeUdpPort();
    const feed2 = await freeUdpPort();
    // `local distance 0.005`: the local reference takes over once chrony's bound passes 5 ms (1 s by default); a drift
    // file saying ±500 ppm makes that bound grow 0.5 ms a second (minutes, not hours).
    const lead2 = await Chronyd.start({ name: 'leader2', ntpPort: port2, driftFile: '0.000 500.000\n', conf: [feedLine(feed2), 'local stratum 10 distance 0.005', 'maxupdateskew 100', 'allow 127.0.0.0/8'] });
    started.push(lead2);
    const app2 = await startApp({ TIME_SERVER: 'chrony', TIME_SERVER_FEED_PORT: String(feed2), CHRONYC: '/usr/bin/chronyc', CHRONY_COMMAND_SOCKET: lead2.socket });
    try {
      await clients.connect(app2.wsUrl, { offsetMs: PHONE_AHEAD_MS });
      await statusWhen(app2, (s) => s.syncSource === 'client' && s.timeServer?.state === 'serving', 30_000);
    } finally {
      await clients.closeAll();
      await app2.close();
    }
    // No product, no fresh time: chrony keeps serving the time it had, at the same stratum, its bound growing...
    const first = await ntpQuery('127.0.0.1', port2);
    expect(first).toMatchObject({ leap: 0, stratum: 3 });
    let grown = first;
    for (const end = Date.now() + 20_000; grown.stratum === 3 && grown.rootDispersionS <= first.rootDispersionS && Date.now() < end; ) grown = await ntpQuery('127.0.0.1', port2);
    expect(grown.rootDispersionS).toBeGreaterThan(first.rootDispersionS);
    // ...until that bound passes its `local distance`: then it serves its clock as it runs, at its local stratum.
    const local = await lead2.until((v) => v.state === 'local', 60_000);
    expect(local.stratum).toBe(10);
    const later = await ntpQuery('127.0.0.1', port2);
    expect(later).toMatchObject({ leap: 0, stratum: 10 });
    // Followers keep one time: the clock it serves is still the phone's, as it ran on.
    expect(Math.abs(later.offsetMs - PHONE_AHEAD_MS)).toBeLessThan(50);
  });

  it("a chronyd that does not poll the product refuses its time in words; SetTime only when the operator chose the fallback", async () => {
    const port3 = await freeUdpPort();
    const feed3 = await freeUdpPort();
    // A chrony.conf without the product's feed (chrony installed, install.sh --time-server not run).
    const plain = await Chronyd.start({ name: 'plain', ntpPort: port3, driftFile: PI_DRIFT, conf: ['local stratum 10', 'allow 127.0.0.0/8'] });
    started.push(plain);
    for (const fallback of ['none', 'settime'] as const) {
      const app3 = await startApp({ TIME_SERVER: 'chrony', TIME_SERVER_FALLBACK: fallback, TIME_SERVER_FEED_PORT: String(feed3), CHRONYC: '/usr/bin/chronyc', CHRONY_COMMAND_SOCKET: plain.socket, SIMULATED_CLOCK_OFFSET_MS: String(-3_600_000) });
      try {
        await clients.connect(app3.wsUrl, { offsetMs: PHONE_AHEAD_MS });
        if (fallback === 'none') {
          const end = Date.now() + 15_000;
          let said: string | undefined;
          while (!said && Date.now() < end) {
            said = (await messages(app3)).find((m) => /^Setting the Pi's clock from the phone at 127\.0\.0\.1 failed/.test(m));
            if (!said) await new Promise((r) => setTimeout(r, 50));
          }
          expect(said).toMatch(new RegExp(`chrony does not poll the product \\(no source 127\\.0\\.0\\.1 in its sources\\): its configuration needs "server 127\\.0\\.0\\.1 port ${feed3} minpoll 0 maxpoll 0"`));
          expect(piMinusHost(app3)).toBeLessThan(-3_600_000 + 1000);
        } else {
          await statusWhen(app3, (s) => s.syncSource === 'client', 15_000);
          expect(Math.abs(piMinusHost(app3) - PHONE_AHEAD_MS)).toBeLessThan(50);
        }
      } finally {
        await clients.closeAll();
        await app3.close();
      }
    }
  });

  it("the operator's hand-set time goes to chrony and holds: a phone that disagrees is a decision, not a step", async () => {
    const port4 = await freeUdpPort();
    const feed4 = await freeUdpPort();
    const lead4 = await Chronyd.start({ name: 'leader4', ntpPort: port4, driftFile: PI_DRIFT, conf: [feedLine(feed4), 'local stratum 10', 'maxupdateskew 100', 'allow 127.0.0.0/8'] });
    started.push(lead4);
    const app4 = await startApp({ TIME_SERVER: 'chrony', TIME_SERVER_FEED_PORT: String(feed4), CHRONYC: '/usr/bin/chronyc', CHRONY_COMMAND_SOCKET: lead4.socket, SIMULATED_CLOCK_OFFSET_MS: String(-3_600_000) });
    try {
      const HAND_MS = 90_000;
      const res = await request(app4.url).post('/api/system/time').send({ timestamp: new Date(Date.now() + HAND_MS).toISOString() });
      expect(res.status).toBe(200);
      const held = await statusWhen(app4, (s) => s.syncSource === 'manual' && s.operatorHold && s.timeServer?.state === 'serving', 20_000);
      // chrony took the hand-set time (to its ±500 ms: a time typed by hand), and the Pi has it.
      const v = await lead4.view();
      expect(Math.abs(v.offsetMs - HAND_MS)).toBeLessThan(500);
      expect(Math.abs(piMinusHost(app4) - HAND_MS)).toBeLessThan(500);
      expect(held.timeServer.summary).toMatch(/^serving to \d+ clients?, stratum 3, ±/);
      // A phone 90 s away from it: measured, a decision for the operator; chrony is not given its time.
      await clients.connect(app4.wsUrl, { offsetMs: 0 });
      const decided = await statusWhen(app4, (s) => s.decision?.kind === 'manual-disagrees', 20_000);
      expect(decided.syncSource).toBe('manual');
      expect(Math.abs((await lead4.view()).offsetMs - HAND_MS)).toBeLessThan(500);
    } finally {
      await clients.closeAll();
      await app4.close();
    }
  });
});
