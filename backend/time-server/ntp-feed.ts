import { createSocket, Socket } from 'node:dgram';
import { decodeRequest, encodeReply, NtpLeap, NtpReply } from './ntp-packet';

/**
 * How the product hands chrony a time: a minimal NTP server on loopback that chrony polls as one of its sources
 * (`server 127.0.0.1 port N minpoll 0 maxpoll 0`).
 *
 * Why NTP and not chrony's `refclock SOCK`: Node's core has no Unix datagram sockets and the bundle carries no
 * native addon, so a SOCK sample would need a helper process; NTP is UDP, which Node has. And an NTP reply carries
 * what a SOCK sample cannot: the reading's error bound (root dispersion), a stratum and "no time" (leap 3), so
 * chrony weighs each reading by its bound and passes that bound on to the followers.
 *
 * Each reading is answered a few times only, then the feed says "no time" again. A reading is one measurement
 * (true time minus the Pi's clock at one instant); the feed extrapolates it to the instant of chrony's poll on
 * the monotonic clock, which chrony slews together with the wall clock. Once chrony has corrected the clock from a
 * reading, another answer from the same reading would show the correction as a new error and chrony would correct
 * it again, without end. So: 3 answers while chrony has fewer than 3 samples of the feed (it selects a source only
 * then; it corrects nothing from it before), one after. Between readings chrony keeps its time and learns the
 * clock's drift from the readings, as it would from a server polled rarely.
 */

/** One reading of the product's best source, anchored to the monotonic clock. */
export interface FeedSample {
  /** The source's time minus the monotonic clock, ms: the time it says is monotonic() + this. */
  targetMinusMonoMs: number;
  /** ± ms at the reading. */
  errorBoundMs: number;
  /** When it was read, on the monotonic clock. */
  atMono: number;
  /** NTP stratum to advertise (1: a reference clock such as GPS; 2: a source that took its time from one). */
  stratum: number;
  /** Four ASCII characters naming the source ("PHON", "GPS", "HAND"). */
  refId: string;
}

export interface FeedAnswer {
  /** When the answer left, on the monotonic clock. */
  atMono: number;
  /** The time it gave, Unix ms, and the root dispersion it declared, ms. */
  timeMs: number;
  boundMs: number;
  /** Answers of this sample so far, this one included. */
  count: number;
}

/** How much a reading's bound grows per ms of age: the Pi's oscillator (50 ppm, as the product assumes elsewhere). */
export const FEED_DRIFT_PER_MS = 50e-6;
/** A reading older than this is not given to chrony (it waits for chrony's next poll at most about a second). */
export const FEED_MAX_AGE_MS = 30_000;

/**
 * The loopback NTP server. `offer` arms a sample for `answers` replies; `answered` tells each one. Everything
 * else chrony asks gets leap 3 ("no time"), which chrony counts as an unsynchronised server and does not use.
 */
export class NtpFeed {
  private socket: Socket | null = null;
  private sample: FeedSample | null = null;
  private left = 0;
  private count = 0;
  private listeners: Array<(a: FeedAnswer) => void> = [];
  /** Polls seen since start (any answer), for the status. */
  polls = 0;
  lastPollMono: number | null = null;

  constructor(
    /** The product's clock: a sample's time is `monotonic()` + its targetMinusMonoMs; `now()` only stamps "no time" replies. */
    private readonly clock: { monotonic(): number; now(): number },
    private readonly host = '127.0.0.1',
  ) {}

  /** Binds to `port` on loopback; rejects with the socket's error (EADDRINUSE: another program has the port). */
  start(port: number): Promise<number> {
    const socket = createSocket({ type: 'udp4' });
    this.socket = socket;
    socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo.address, rinfo.port));
    return new Promise((resolve, reject) => {
      socket.once('error', (error) => {
        this.socket = null;
        socket.close();
        reject(error);
      });
      socket.bind(port, this.host, () => {
        socket.removeAllListeners('error');
        socket.on('error', () => undefined);
        resolve(socket.address().port);
      });
    });
  }

  stop(): void {
    this.socket?.close();
    this.socket = null;
    this.listeners = [];
  }

  get port(): number | null {
    return this.socket ? this.socket.address().port : null;
  }

  /** Arms `sample` for `answers` replies, replacing any sample not yet used up. */
  offer(sample: FeedSample, answers: number): void {
    this.sample = sample;
    this.left = Math.max(1, answers);
    this.count = 0;
  }

  /** The armed sample, if some of its answers are left. */
  pending(): FeedSample | null {
    return this.left > 0 ? this.sample : null;
  }

  /** Drops the armed sample (chrony took what it needed, or it was given up). */
  withdraw(): void {
    this.left = 0;
  }

  onAnswer(listener: (a: FeedAnswer) => void): () => void {
    this.listeners.push(listener);
    return () => (this.listeners = this.listeners.filter((l) => l !== listener));
  }

  private onMessage(msg: Buffer, address: string, port: number): void {
    const request = decodeRequest(msg);
    if (!request || !this.socket) return;
    // Loopback only: the socket is bound to 127.0.0.1, so this is chrony on this machine (or a test).
    const received = this.clock.monotonic();
    this.polls++;
    this.lastPollMono = received;
    const sample = this.left > 0 ? this.sample : null;
    const fresh = sample !== null && received - sample.atMono <= FEED_MAX_AGE_MS;
    let reply: NtpReply;
    let answer: FeedAnswer | null = null;
    if (fresh) {
      this.left--;
      this.count++;
      const transmitMono = this.clock.monotonic();
      const ageMs = Math.max(0, transmitMono - sample.atMono);
      const boundMs = sample.errorBoundMs + ageMs * FEED_DRIFT_PER_MS;
      reply = {
        leap: NtpLeap.None,
        stratum: sample.stratum,
        precision: -20,
        rootDelayS: 0,
        rootDispersionS: boundMs / 1000,
        refId: sample.refId,
        referenceMs: sample.atMono + sample.targetMinusMonoMs,
        receiveMs: received + sample.targetMinusMonoMs,
        transmitMs: transmitMono + sample.targetMinusMonoMs,
      };
      answer = { atMono: transmitMono, timeMs: reply.transmitMs, boundMs, count: this.count };
    } else {
      if (sample && !fresh) this.left = 0;
      const now = this.clock.now();
      reply = { leap: NtpLeap.Unsynchronised, stratum: 0, precision: -20, rootDelayS: 0, rootDispersionS: 0, refId: 'INIT', referenceMs: null, receiveMs: now, transmitMs: now };
    }
    this.socket.send(encodeReply(request, reply), port, address);
    if (answer) for (const l of this.listeners) l(answer);
  }
}
