import { createSocket, Socket } from 'node:dgram';
import { ManualClock } from '../time/clock';
import { FEED_DRIFT_PER_MS, FEED_MAX_AGE_MS, FeedAnswer, NtpFeed } from './ntp-feed';
import { decodeReply, encodeRequest } from './ntp-packet';

/** A client on loopback that sends one request and resolves with the decoded reply. */
function ask(client: Socket, port: number, transmitMs = 1_000): Promise<NonNullable<ReturnType<typeof decodeReply>>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no reply')), 2000);
    client.once('message', (m) => {
      clearTimeout(timer);
      resolve(decodeReply(m)!);
    });
    client.send(encodeRequest(transmitMs), port, '127.0.0.1');
  });
}

describe(NtpFeed.name, () => {
  const T = Date.UTC(2026, 10, 25, 12, 0, 0);
  let clock: ManualClock;
  let sut: NtpFeed;
  let client: Socket;
  let port: number;

  beforeEach(async () => {
    clock = new ManualClock(T, 10_000);
    sut = new NtpFeed(clock);
    port = await sut.start(0);
    client = createSocket('udp4');
    await new Promise<void>((r) => client.bind(0, '127.0.0.1', () => r()));
  });

  afterEach(() => {
    sut.stop();
    client.close();
  });

  it('says "no time" (leap 3, stratum 0) while it has no reading', async () => {
    const reply = await ask(client, port);
    expect(reply).toMatchObject({ leap: 3, stratum: 0, mode: 4, referenceMs: null });
    expect(sut.polls).toBe(1);
  });

  it("answers a reading as many times as asked, with the source's time on the monotonic clock and its bound as root dispersion, then says no time again", async () => {
    const answers: FeedAnswer[] = [];
    sut.onAnswer((a) => answers.push(a));
    // The phone says the time is mono + 5 h; measured at mono 10 000, ±2 ms.
    const target = T + 5 * 3_600_000 - 10_000;
    sut.offer({ targetMinusMonoMs: target, errorBoundMs: 2, atMono: 10_000, stratum: 2, refId: 'PHON' }, 2);
    clock.advance(1000);
    const first = await ask(client, port, 777);
    expect(first).toMatchObject({ leap: 0, stratum: 2, rootDelayS: 0, mode: 4 });
    expect(first.receiveMs).toBeCloseTo(clock.monoMs + target, 3);
    expect(first.transmitMs).toBeCloseTo(clock.monoMs + target, 3);
    expect(first.referenceMs).toBeCloseTo(10_000 + target, 3);
    // The bound grows by the oscillator's 50 ppm over the reading's age (1 s: +0.05 ms), rounded up by the wire format.
    expect(first.rootDispersionS * 1000).toBeGreaterThanOrEqual(2 + 1000 * FEED_DRIFT_PER_MS);
    expect(first.rootDispersionS * 1000).toBeLessThan(2 + 1000 * FEED_DRIFT_PER_MS + 0.02);
    const second = await ask(client, port);
    expect(second.leap).toBe(0);
    expect(await ask(client, port)).toMatchObject({ leap: 3 });
    expect(answers.map((a) => a.count)).toEqual([1, 2]);
    expect(sut.pending()).toBeNull();
  });

  it('a newer reading replaces one not used up; a withdrawn one is not answered', async () => {
    sut.offer({ targetMinusMonoMs: 1, errorBoundMs: 2, atMono: 10_000, stratum: 2, refId: 'PHON' }, 3);
    sut.offer({ targetMinusMonoMs: T, errorBoundMs: 500, atMono: 10_000, stratum: 2, refId: 'HAND' }, 1);
    const reply = await ask(client, port);
    expect(reply.refId).toBe(Buffer.from('HAND').readUInt32BE(0));
    expect(reply.rootDispersionS).toBeCloseTo(0.5, 3);
    sut.offer({ targetMinusMonoMs: T, errorBoundMs: 5, atMono: 10_000, stratum: 1, refId: 'GPS' }, 3);
    sut.withdraw();
    expect(await ask(client, port)).toMatchObject({ leap: 3 });
  });

  it('does not give chrony a reading older than FEED_MAX_AGE_MS', async () => {
    sut.offer({ targetMinusMonoMs: T, errorBoundMs: 2, atMono: 10_000, stratum: 2, refId: 'PHON' }, 3);
    clock.advance(FEED_MAX_AGE_MS + 1);
    expect(await ask(client, port)).toMatchObject({ leap: 3 });
    expect(sut.pending()).toBeNull();
  });

  it('ignores what is not a client request (no reply to a stray datagram)', async () => {
    const stray = new Promise((resolve) => {
      const timer = setTimeout(() => resolve('silence'), 200);
      client.once('message', () => {
        clearTimeout(timer);
        resolve('answered');
      });
    });
    client.send(Buffer.from('hello'), port, '127.0.0.1');
    expect(await stray).toBe('silence');
    expect(sut.polls).toBe(0);
  });

  it('tells why it cannot start when its port is taken', async () => {
    const other = new NtpFeed(clock);
    await expect(other.start(port)).rejects.toThrow(/EADDRINUSE/);
  });
});
