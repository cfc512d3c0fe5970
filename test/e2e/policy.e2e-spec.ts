import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { PROTOCOL_VERSION } from '../../backend/protocol/vocabulary';
import { Clock } from '../../backend/time/clock';
import { expectFaults, JOURNAL_UNWRITABLE_LOG } from '../support/expected-faults';
import { startApp, StartedApp } from '../support/app';
import { DelayProxy } from '../support/delay-proxy';
import { ClientPool, isEvent, TestClient } from '../support/ws-client';

jest.setTimeout(30_000);

const H = 3600_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The product's own clock minus the host's, ms (exact: the app runs in this process). */
const piMinusHost = (app: StartedApp) => app.app.get(Clock, { strict: false }).now() - Date.now();
const status = async (app: StartedApp) => (await request(app.url).get('/api/timesync/status').expect(200)).body;
const synced = (c: TestClient, from = c.frames.length) => c.waitFor((f) => f.type === 'event' && f.eventType === 'pi-sync' && f.data.synchronized, 5000, from);

describe('The source policy through the whole app (e2e)', () => {
  let app: StartedApp;
  const clients = new ClientPool();
  const connect = (options: Parameters<typeof TestClient.connect>[1] = {}) => clients.connect(app.wsUrl, options);

  afterEach(async () => {
    await clients.closeAll();
    await app?.close();
  });

  it('says its protocol version first, and sends whole milliseconds', async () => {
    app = await startApp({ SIMULATED_CLOCK_OFFSET_MS: String(-86400_000) });
    const c = await connect({ offsetMs: 0 });
    expect(c.frames[0] ?? (await c.waitFor(() => true))).toMatchObject({ type: 'hello', protocolVersion: PROTOCOL_VERSION, trusted: true, maySetTime: true, screen: 'phone' });
    await synced(c);
    const sys = (await request(app.url).get('/api/system/time').expect(200)).body;
    expect(Number.isInteger(sys.epochMs)).toBe(true);
    expect(c.probes.every((p) => Number.isInteger(p.serverTime))).toBe(true);
  });

  it('syncs a client that echoes serverTime as an integer, also after a first step', async () => {
    app = await startApp({ SIMULATED_CLOCK_OFFSET_MS: String(-86400_000) });
    const first = await connect({ integerEcho: true, offsetMs: 0 });
    expect((await synced(first)).data.stepped).toBe(true);
    await first.close();
    const second = await connect({ integerEcho: true, offsetMs: 20_000 });
    expect((await synced(second)).data).toMatchObject({ stepped: true, source: 'client' });
    expect(second.frames.filter((f) => f.type === 'error')).toEqual([]);
    expect(Math.abs(piMinusHost(app) - 20_000)).toBeLessThan(3);
  });

  it('a failed burst lowers reliability by one level, says so, and the next burst still comes', async () => {
    app = await startApp({ TIME_SYNC_RETRY_DELAY: '200' });
    const good = await connect();
    await synced(good);
    expect((await status(app)).reliability).toBe('high');
    await good.close();
    const silent = await connect({ answer: false });
    const failed = await silent.waitFor((f) => f.type === 'event' && f.eventType === 'pi-sync' && !f.data.synchronized, 5000);
    expect(failed.data).toMatchObject({ synchronized: false, offset: null, reliability: 'medium' });
    expect(failed.data.error).toMatch(/0 of \d+ probes answered/);
    // Three retries, each one level lower: medium, low (announced), none.
    const lost = await silent.waitFor(isEvent('reliability-lost'), 8000);
    expect(lost.data.reliability).toBe('low');
    await silent.waitFor((f) => f.type === 'time-sync-status' && f.data.reliability === 'none', 8000);
    const requests = silent.frames.filter((f) => f.type === 'time-sync-request').length;
    expect(requests).toBeGreaterThan(64);
    const log = (await status(app)).activityLog.map((e: { message: string }) => e.message).join('\n');
    expect(log).toMatch(/retry 1 of 3 in 200 ms/);
  });

  it('a failed clock write does not stop the schedule', async () => {
    expectFaults(JOURNAL_UNWRITABLE_LOG);
    app = await startApp({ TIME_SYNC_RETRY_DELAY: '300' }, 0, (dataDir) => mkdirSync(join(dataDir, 'clock-journal.jsonl')));
    const c = await connect({ offsetMs: 60_000 });
    const failed = await c.waitFor((f) => f.type === 'event' && f.eventType === 'pi-sync' && !f.data.synchronized, 5000);
    expect(failed.data.error).toMatch(/journal|clock-journal/i);
    const before = c.frames.length;
    await c.waitFor((f) => f.type === 'time-sync-request', 3000, before);
    await c.waitFor((f) => f.type === 'event' && f.eventType === 'pi-sync' && !f.data.synchronized, 5000, before);
    expect(Math.abs(piMinusHost(app))).toBeLessThan(100);
  });

  it('the operator wins: after a manual set a client 1 h away is measured, not applied, until the operator chooses it', async () => {
    app = await startApp();
    await request(app.url).post('/api/system/time').send({ timestamp: new Date(Date.now()).toISOString(), timezone: 'Europe/Berlin' }).expect(200);
    const phone = await connect({ offsetMs: H, timezone: 'UTC' });
    const held = await phone.waitFor((f) => f.type === 'time-sync-status' && f.data.decision, 5000);
    expect(held.data).toMatchObject({ operatorHold: true, syncSource: 'manual', decision: { kind: 'manual-disagrees', client: '127.0.0.1', piSource: 'manual', piZone: 'Europe/Berlin', clientZone: 'UTC' } });
    expect(Math.abs(held.data.decision.offsetMs - H)).toBeLessThan(50);
    expect(held.data.decision.message).toMatch(/set by hand/);
    expect(Math.abs(piMinusHost(app))).toBeLessThan(100);
    expect((await status(app)).pi.timezone).toBe('Europe/Berlin');

    // Another tab connecting changes nothing either.
    await connect({ offsetMs: H });
    await sleep(1200);
    expect(Math.abs(piMinusHost(app))).toBeLessThan(100);

    const from = phone.frames.length;
    phone.send({ type: 'use-client-time', data: {} });
    const applied = await synced(phone, from);
    expect(applied.data).toMatchObject({ stepped: true, source: 'client' });
    expect(Math.abs(piMinusHost(app) - H)).toBeLessThan(5);
    const after = await status(app);
    expect(after).toMatchObject({ operatorHold: false, decision: null, syncSource: 'client' });
    expect(after.pi.timezone).toBe('UTC');
  });

  it.each([
    ['+1 h', H + 300],
    ['+30 min', 30 * 60_000 - 500],
  ])('the zone guard: %s on a synchronized Pi waits for the operator', async (_name, offset) => {
    app = await startApp();
    const first = await connect({ offsetMs: 0 });
    await synced(first);
    await first.close();
    const wrongZone = await connect({ offsetMs: offset });
    const decision = await wrongZone.waitFor((f) => f.type === 'time-sync-status' && f.data.decision, 5000);
    expect(decision.data.decision).toMatchObject({ kind: 'suspected-zone-mistake' });
    expect(decision.data.decision.message).toMatch(/time-zone/);
    expect(Math.abs(piMinusHost(app))).toBeLessThan(50);
    // REST answer from the operator: the same as the page's button.
    await request(app.url).post('/api/timesync/use-client-time').expect(200);
    await synced(wrongZone);
    expect(Math.abs(piMinusHost(app) - offset)).toBeLessThan(5);
  });

  it('the zone guard leaves a never-synchronized Pi alone: +1 h is applied at once', async () => {
    app = await startApp();
    const c = await connect({ offsetMs: H });
    expect((await synced(c)).data.stepped).toBe(true);
    expect(Math.abs(piMinusHost(app) - H)).toBeLessThan(5);
  });

  it('use-client-time is refused to a client outside the access point, and with nobody to use', async () => {
    app = await startApp({ AP_SUBNETS: '127.0.0.1/32' });
    const outsider = await connect({ localAddress: '127.0.0.2' });
    expect(await outsider.expectError({ type: 'use-client-time', data: {} })).toMatchObject({ code: 'NOT_ACCESS_POINT_CLIENT' });
    const res = await request(app.url).post('/api/timesync/use-client-time').expect(409);
    expect(res.body).toMatchObject({ code: 'NO_TIME_SOURCE' });
    expect(await outsider.expectError({ type: 'use-client-time', data: { connId: 'x' } })).toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('one sync sends a page one status frame, its log entries as updates, and no full log again', async () => {
    app = await startApp({ SIMULATED_CLOCK_OFFSET_MS: String(-H) });
    const c = await connect();
    await c.waitFor((f) => f.type === 'activity_log');
    const start = c.frames.length;
    await synced(c);
    await sleep(500);
    const during = c.frames.slice(start).filter((f) => f.type !== 'time-sync-request');
    expect(during.filter((f) => f.type === 'time-sync-status')).toHaveLength(1);
    const logs = during.filter((f) => f.type === 'activity_log');
    expect(logs.length).toBeGreaterThan(0);
    expect(logs.every((f) => f.data.full === false && f.data.entries.length === 1)).toBe(true);
    expect(during.filter((f) => f.type === 'event').map((f) => f.eventType)).toEqual(['pi-sync']);
    const full = c.frames.filter((f) => f.type === 'activity_log' && f.data.full);
    expect(full).toHaveLength(1);
  });

  it('computes the clock-write target at the write: a write that takes 3 s still ends within 2 ms of the client', async () => {
    app = await startApp({ SIMULATED_CLOCK_WRITE_DELAY_MS: '3000' });
    const c = await connect({ offsetMs: 3 * H });
    await c.waitFor(isEvent('pi-sync'), 10_000);
    expect(Math.abs(piMinusHost(app) - 3 * H)).toBeLessThanOrEqual(2);
  });

  it('discards a burst during which the client clock jumped', async () => {
    app = await startApp();
    const c = await connect({ offsetMs: 0, jumpAfter: { answers: 10, byMs: 10_000 } });
    const failed = await c.waitFor(isEvent('pi-sync'), 5000);
    expect(failed.data.synchronized).toBe(false);
    expect(failed.data.error).toMatch(/discarded/);
    expect(Math.abs(piMinusHost(app))).toBeLessThan(50);
  });

  it('through a link with 5 ms each way, lognormal jitter and spikes, the Pi ends within 2 ms of the client; the naive offset does not', async () => {
    app = await startApp();
    const proxy = await DelayProxy.start(app.port);
    try {
      const truth = 3 * H + 0.4;
      const c = await clients.connect(`ws://127.0.0.1:${proxy.port}/ws`, { offsetMs: truth });
      await c.waitFor(isEvent('pi-sync'), 10_000);
      const ours = Math.abs(piMinusHost(app) - truth);
      // What a naive client-minus-arrival estimate says: the client's clock when the probe arrived minus the server's time in it.
      const naive = c.probes.map((p) => p.clientTime - p.serverTime).sort((a, b) => a - b);
      const naiveError = Math.abs(naive[Math.floor(naive.length / 2)] - truth);
      expect(ours).toBeLessThanOrEqual(2);
      expect(naiveError).toBeGreaterThan(ours);
      expect(naiveError).toBeGreaterThan(4);
    } finally {
      await proxy.close();
    }
  });
});
