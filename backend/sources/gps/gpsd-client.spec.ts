import * as net from 'node:net';
import { GpsdClient, GpsdClientEvents } from './gpsd-client';
import { GpsdMessage } from './gpsd-protocol';
import { until } from '../../../test/support/until';
import { freePort } from '../../../test/support/ports';

const VERSION = '{"class":"VERSION","release":"3.22","rev":"3.22","proto_major":3,"proto_minor":14}\r\n';
const TPV = '{"class":"TPV","device":"/dev/pts/0","mode":3,"time":"2026-12-07T21:30:26.000Z","ept":0.005}\r\n';

/** A loopback server speaking as much of gpsd as a test needs; every connection it accepted, and what each sent. */
class FakeGpsd {
  readonly connections: Array<{ socket: net.Socket; received: string }> = [];
  private server = net.createServer((socket) => {
    const c = { socket, received: '' };
    this.connections.push(c);
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (c.received += d));
    socket.on('error', () => undefined);
    if (this.greeting) socket.write(this.greeting);
  });
  constructor(public greeting: string | null = VERSION) {}
  async listen(port = 0): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => resolve());
    });
    return (this.server.address() as net.AddressInfo).port;
  }
  async close(): Promise<void> {
    for (const c of this.connections) c.socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}



function recorder() {
  const log: Array<{ event: keyof GpsdClientEvents; at: number; detail: unknown }> = [];
  const messages: Array<{ message: GpsdMessage; at: number }> = [];
  const events: GpsdClientEvents = {
    connected: (v) => log.push({ event: 'connected', at: performance.now(), detail: v.release }),
    message: (message, at) => messages.push({ message, at }),
    gone: (reason) => log.push({ event: 'gone', at: performance.now(), detail: reason }),
    unreachable: (reason) => log.push({ event: 'unreachable', at: performance.now(), detail: reason }),
  };
  return { log, messages, events, count: (e: keyof GpsdClientEvents) => log.filter((l) => l.event === e).length };
}

describe(GpsdClient.name, () => {
  let gpsd: FakeGpsd | null = null;
  let sut: GpsdClient | null = null;

  afterEach(async () => {
    sut?.stop();
    await gpsd?.close();
    sut = gpsd = null;
  });

  it('sends the WATCH once gpsd has said VERSION, and passes on typed messages stamped at arrival', async () => {
    gpsd = new FakeGpsd();
    const port = await gpsd.listen();
    const r = recorder();
    sut = new GpsdClient('127.0.0.1', port, r.events);
    sut.start();
    await until('the WATCH', () => gpsd!.connections[0]?.received.length > 0);
    expect(gpsd.connections[0].received).toBe('?WATCH={"enable":true,"json":true,"pps":true}\n');
    expect(r.log.map((l) => [l.event, l.detail])).toEqual([['connected', '3.22']]);
    expect(sut.isConnected).toBe(true);

    const before = performance.now();
    gpsd.connections[0].socket.write('garbage\n{"class":\n' + TPV.slice(0, 40));
    gpsd.connections[0].socket.write(TPV.slice(40));
    await until('the TPV', () => r.messages.length > 0);
    expect(r.messages).toEqual([{ message: { class: 'TPV', device: '/dev/pts/0', mode: 3, timeMs: Date.UTC(2026, 11, 7, 21, 30, 26), eptMs: 5 }, at: expect.any(Number) }]);
    expect(r.messages[0].at).toBeGreaterThanOrEqual(before);
  });

  it('drops a line over the cap and goes on with the next', async () => {
    gpsd = new FakeGpsd();
    const port = await gpsd.listen();
    const r = recorder();
    sut = new GpsdClient('127.0.0.1', port, r.events, { maxLineChars: 200 });
    sut.start();
    await until('connected', () => r.count('connected') === 1);
    gpsd.connections[0].socket.write(`{"class":"TPV","pad":"${'x'.repeat(5000)}"}\n${TPV}`);
    await until('the TPV', () => r.messages.length > 0);
    expect(r.messages.map((m) => m.message.class)).toEqual(['TPV']);
    expect(sut.droppedLines).toBe(1);
  });

  it('says unreachable on each failed attempt and tries again with a doubling delay, capped', async () => {
    const port = await freePort();
    const r = recorder();
    sut = new GpsdClient('127.0.0.1', port, r.events, { firstRetryMs: 40, maxRetryMs: 160 });
    sut.start();
    await until('five attempts', () => r.count('unreachable') >= 5, 10_000);
    expect(r.log[0].detail).toBe(`nothing listens at 127.0.0.1:${port}`);
    const gaps = r.log.slice(1, 5).map((l, i) => l.at - r.log[i].at);
    // 40, 80, 160, 160 ms, each plus the time a refused connect takes.
    expect(gaps[0]).toBeGreaterThanOrEqual(35);
    expect(gaps[1]).toBeGreaterThanOrEqual(75);
    expect(gaps[2]).toBeGreaterThanOrEqual(155);
    expect(gaps[3]).toBeGreaterThanOrEqual(155);
    expect(gaps[3]).toBeLessThan(310); // not doubled again to 320
    expect(r.count('connected')).toBe(0);
  });

  it('connects when gpsd appears, after failed attempts', async () => {
    const port = await freePort();
    const r = recorder();
    sut = new GpsdClient('127.0.0.1', port, r.events, { firstRetryMs: 30, maxRetryMs: 60 });
    sut.start();
    await until('a failed attempt', () => r.count('unreachable') >= 1);
    gpsd = new FakeGpsd();
    await gpsd.listen(port);
    await until('connected', () => r.count('connected') === 1);
  });

  it('says gone once when gpsd closes, reconnects quietly, and starts again from the first delay', async () => {
    const port = await freePort();
    const r = recorder();
    sut = new GpsdClient('127.0.0.1', port, r.events, { firstRetryMs: 30, maxRetryMs: 5000 });
    sut.start();
    // Four failures: the next delay would be 480 ms.
    await until('four failed attempts', () => r.count('unreachable') >= 4);
    gpsd = new FakeGpsd();
    await gpsd.listen(port);
    await until('connected', () => r.count('connected') === 1, 10_000);
    gpsd.connections[0].socket.destroy();
    await until('connected again', () => r.count('connected') === 2);
    const events = r.log.filter((l) => l.event !== 'unreachable');
    expect(events.map((l) => l.event)).toEqual(['connected', 'gone', 'connected']);
    expect(events[1].detail).toBe(`gpsd at 127.0.0.1:${port} closed the connection`);
    expect(events[2].at - events[1].at).toBeLessThan(400);
  });

  it('closes a peer that never says VERSION (not gpsd) and counts it unreachable', async () => {
    gpsd = new FakeGpsd(null);
    const port = await gpsd.listen();
    const r = recorder();
    sut = new GpsdClient('127.0.0.1', port, r.events, { helloTimeoutMs: 100, firstRetryMs: 5000 });
    sut.start();
    await until('unreachable', () => r.count('unreachable') === 1);
    expect(r.log[0].detail).toBe(`no VERSION from 127.0.0.1:${port} within 100 ms: not gpsd?`);
    expect(gpsd.connections[0].received).toBe('');
  });

  it('says nothing more once stopped', async () => {
    gpsd = new FakeGpsd();
    const port = await gpsd.listen();
    const r = recorder();
    sut = new GpsdClient('127.0.0.1', port, r.events, { firstRetryMs: 10 });
    sut.start();
    await until('connected', () => r.count('connected') === 1);
    sut.stop();
    gpsd.connections[0].socket.write(TPV);
    await until('the server sees the close', () => gpsd!.connections[0].socket.destroyed || gpsd!.connections[0].socket.readableEnded);
    expect(r.log.map((l) => l.event)).toEqual(['connected']);
    expect(r.messages).toEqual([]);
    expect(sut.isConnected).toBe(false);
  });

  it('writes an IPv6 address with brackets', () => {
    expect(new GpsdClient('::1', 2947, recorder().events).address).toBe('[::1]:2947');
  });
});
