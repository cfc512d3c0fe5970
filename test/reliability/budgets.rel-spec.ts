/**
 * The budgets and the quiet refusals, at their defaults, on one app on listen(0): a WebSocket over its frame or
 * byte budget is told RATE_LIMITED once and closed (1008) while other pages carry on; REST writes over their
 * budget get 429; a client's invalid UTF-8 or a frame over 1 MiB (which ws closes itself: 1007, 1009) is one
 * warn line with ws's code and no error-level line; a client refused many times is one activity line.
 */
import { ConsoleLogger } from '@nestjs/common';
import WebSocket from 'ws';
import { startApp, StartedApp } from '../support/app';
import { httpJson } from '../support/http';
import { ClientPool } from '../support/ws-client';
import { counts, record, tally } from './report';

jest.setTimeout(60_000);

/** Opens a raw socket from `localAddress` and resolves with what it got until the server closed it. */
function floodUntilClosed(url: string, localAddress: string, frames: string[]): Promise<{ code: number; errors: string[]; answers: number }> {
  const ws = new WebSocket(url, { localAddress });
  const errors: string[] = [];
  let answers = 0;
  return new Promise((resolve, reject) => {
    ws.on('message', (raw) => {
      const f = JSON.parse(raw.toString());
      if (f.type === 'error') errors.push(f.data.code);
      else if (f.type === 'time-sync-status') answers++;
    });
    ws.once('open', () => frames.forEach((f) => ws.send(f)));
    ws.once('close', (code) => resolve({ code, errors, answers }));
    ws.once('error', () => undefined);
    setTimeout(() => reject(new Error(`not closed; errors ${errors.join(',')}`)), 20_000).unref();
  });
}

describe('Budgets and quiet refusals at the defaults', () => {
  let app: StartedApp;
  const clients = new ClientPool();
  const warns: string[] = [];
  const errorLines: unknown[] = [];

  beforeAll(async () => {
    jest.spyOn(ConsoleLogger.prototype, 'warn').mockImplementation((message: unknown) => void warns.push(String(message)));
    jest.spyOn(ConsoleLogger.prototype, 'error').mockImplementation((...args: unknown[]) => void errorLines.push(args));
    app = await startApp({ AP_SUBNETS: '127.0.0.1/32', AUTO_SYNC: 'false' });
  });
  afterAll(async () => {
    await clients.closeAll();
    await app.close();
    jest.restoreAllMocks();
  });

  it('a page over 100 frames per second: one RATE_LIMITED, closed with 1008, the rest dropped; another page carries on', async () => {
    const bystander = await clients.connect(app.wsUrl);
    const result = await floodUntilClosed(app.wsUrl, '127.0.0.1', Array.from({ length: 400 }, () => '{"type":"get-time-sync-status","data":{}}'));
    expect(result.code).toBe(1008);
    expect(result.errors).toEqual(['RATE_LIMITED']);
    // Within budget it was served; the frames after the one that broke it were not.
    expect(result.answers).toBeGreaterThan(0);
    expect(result.answers).toBeLessThanOrEqual(100);
    const status = bystander.next((f) => f.type === 'time-sync-status');
    bystander.send({ type: 'get-time-sync-status', data: {} });
    expect((await status).data.canSetTime).toBe(true);
    record({ suite: 'budgets', what: 'one page sends 400 frames at once (budget 100 frames/s)', times: 400, outcome: `${result.answers} answered, then one RATE_LIMITED and close ${result.code}; a bystander page still served` });
  });

  it('a page over 64 KiB per second: five 15 KiB frames, the fifth breaks the byte budget', async () => {
    const frame = JSON.stringify({ type: 'get-time-sync-status', data: { pad: 'x'.repeat(15 * 1024) } });
    const result = await floodUntilClosed(app.wsUrl, '127.0.0.1', Array.from({ length: 5 }, () => frame));
    expect(result.code).toBe(1008);
    expect(result.errors.filter((c) => c === 'RATE_LIMITED')).toHaveLength(1);
    expect(result.errors.filter((c) => c !== 'RATE_LIMITED')).toEqual(['BAD_REQUEST', 'BAD_REQUEST', 'BAD_REQUEST', 'BAD_REQUEST']);
    record({ suite: 'budgets', what: 'one page sends five 15 KiB frames at once (budget 64 KiB/s)', times: 5, outcome: `4 answered (BAD_REQUEST: the pad field), the 5th: RATE_LIMITED and close ${result.code}` });
  });

  it('REST writes over 20 per second from one address: 429 RATE_LIMITED; one activity line however many refusals', async () => {
    const seen = new Map<string, number>();
    const answers = await Promise.all(Array.from({ length: 60 }, () => httpJson(`${app.url}/api/system/time`, 'POST', { timestamp: new Date().toISOString() }, '127.0.0.2')));
    for (const a of answers) tally(seen, `${a.status} ${a.body.code}`);
    expect(answers.filter((a) => a.status === 429).length).toBeGreaterThan(0);
    expect(answers.every((a) => (a.status === 403 && a.body.code === 'NOT_ACCESS_POINT_CLIENT') || (a.status === 429 && a.body.code === 'RATE_LIMITED'))).toBe(true);
    const log = (await httpJson(`${app.url}/api/activity`, 'GET', '')).body as Array<{ details: { client?: string } }>;
    expect(log.filter((e) => e.details.client === '127.0.0.2')).toHaveLength(1);
    record({ suite: 'budgets', what: '60 concurrent REST sets from an address off the access point (budget 20/s)', times: 60, outcome: `${counts(seen)}; 1 activity line for the client` });
  });

  it("invalid UTF-8 and a frame over 1 MiB: ws closes (1007, 1009), one warn line with ws's code, nothing at error level", async () => {
    const before = warns.length;
    const closeWith = (payload: Buffer | string, localAddress: string) =>
      new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(app.wsUrl, { localAddress });
        ws.once('open', () => ws.send(payload, { binary: false }));
        ws.once('close', (code) => resolve(code));
        ws.once('error', () => undefined);
        setTimeout(() => reject(new Error('not closed')), 10_000).unref();
      });
    // A text frame whose bytes are not UTF-8 (ws checks that on arrival).
    expect(await closeWith(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), '127.0.0.4')).toBe(1007);
    expect(await closeWith('x'.repeat(2 * 1024 * 1024), '127.0.0.5')).toBe(1009);
    await new Promise((r) => setTimeout(r, 100));
    const lines = warns.slice(before).filter((w) => /ws closed the connection/.test(w));
    expect(lines).toEqual([expect.stringMatching(/^client 127\.0\.0\.4: WS_ERR_INVALID_UTF8 /), expect.stringMatching(/^client 127\.0\.0\.5: WS_ERR_UNSUPPORTED_MESSAGE_LENGTH /)]);
    expect(lines.every((l) => !l.includes('\n'))).toBe(true);
    // Again from the same address within the window: counted, not logged again.
    expect(await closeWith(Buffer.from([0xc3, 0x28]), '127.0.0.4')).toBe(1007);
    await new Promise((r) => setTimeout(r, 100));
    expect(warns.slice(before).filter((w) => /ws closed the connection/.test(w))).toHaveLength(2);
    expect(errorLines).toEqual([]);
    record({ suite: 'budgets', what: 'invalid UTF-8 (twice from one address) and a 2 MiB frame', times: 3, outcome: 'closed 1007 / 1009 by ws; 2 warn lines with the ws code (the repeat counted), 0 error lines, no stack trace' });
  });
});
