import { Logger, OnApplicationBootstrap, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { DomainError, ErrorCode, messageOf } from '../common/domain-error';
import { logText } from '../common/escape';
import type { AppConfig } from '../config/app.config';
import type { SyncSource, TimeServerStatus } from '../protocol/messages';
import { Clock, HostClock, SimulatedWallClock } from '../time/clock';
import { formatDuration } from '../time/format';
import { ChronyClient, ChronyView, chronyView, ntpKeepsClock, parseClients, parseReports } from './chrony-report';
import { Chronyc, ChronycError } from './chronyc';
import { FeedAnswer, FeedSample, NtpFeed } from './ntp-feed';

/** A reading the product hands its time server: what the policy accepted, anchored to the monotonic clock. */
export interface TimeServerSample {
  source: SyncSource;
  who: string;
  /** The source's time minus the monotonic clock, ms. */
  targetMinusMonoMs: number;
  /** ± ms; null: unknown (a time set by hand), taken as MANUAL_BOUND_MS. */
  errorBoundMs: number | null;
  /** When it was measured, on the monotonic clock. */
  atMono: number;
}

/**
 * Who keeps the Pi's clock besides the product, and serves it (TIME_SERVER). `NoTimeServer` (off): nobody, the
 * product steps the clock through timedated. `ChronyTimeServer` (chrony): chronyd keeps and serves it, and the
 * product hands it the readings the policy accepts.
 */
export abstract class TimeServer {
  abstract readonly engine: 'off' | 'chrony';
  /** What the page shows; null when off. */
  abstract status(): TimeServerStatus | null;
  /** chrony's view at the last poll; null when off or before chronyd answered. */
  abstract view(): ChronyView | null;
  /** Called after every poll (and at once with the current view). Returns the way to stop listening. */
  abstract onView(listener: (view: ChronyView | null) => void): () => void;
  /** A reading the policy accepted without a step: one more measurement for chrony. Not waited for. */
  abstract offer(sample: TimeServerSample): void;
  /**
   * A step the policy asked for: chrony takes the reading and corrects the clock; resolves once the Pi's clock has
   * that time. Throws DomainError TIME_SERVER_UNAVAILABLE (details.clockSet false, or 'unknown' once chrony had it).
   */
  abstract take(sample: TimeServerSample): Promise<void>;
}

export class NoTimeServer extends TimeServer {
  readonly engine = 'off' as const;
  status(): null {
    return null;
  }
  view(): null {
    return null;
  }
  onView(): () => void {
    return () => undefined;
  }
  offer(): void {}
  take(): Promise<void> {
    return Promise.reject(new DomainError(ErrorCode.TIME_SERVER_UNAVAILABLE, 'No time server (TIME_SERVER=off)'));
  }
}

/** A time set by hand has no bound of its own: the operator set it to about half a second. */
export const MANUAL_BOUND_MS = 500;
/** How often chrony's view is read (as often as the Pi's clock state: two small chronyc runs each time). */
export const CHRONY_POLL_MS = 5000;
/** How long chrony may take to ask for a reading (it polls an unreachable source once a second). */
export const FEED_ASK_TIMEOUT_MS = 8000;
/** How long chrony may take to use a reading it was given. */
export const TAKE_TIMEOUT_MS = 6000;
/** chrony selects a source once it has this many samples of it (sourcestats). */
const SAMPLES_TO_SELECT = 3;
/** Clients heard from within this many seconds are "served". */
const CLIENT_WINDOW_S = 3600;

/** How each source reads in an NTP reply: its reference ID and the stratum the feed advertises. */
const REFERENCE: Record<SyncSource, { refId: string; stratum: number }> = {
  gps: { refId: 'GPS', stratum: 1 },
  client: { refId: 'PHON', stratum: 2 },
  manual: { refId: 'HAND', stratum: 2 },
  ntp: { refId: 'NTP', stratum: 2 },
  camera: { refId: 'CAM', stratum: 3 },
  rtc: { refId: 'RTC', stratum: 3 },
  none: { refId: 'NONE', stratum: 3 },
};

export interface ChronySettings {
  feedPort: number;
  follow: string;
  chronyc: string;
  socket: string;
  /** CLOCK_BACKEND: the simulated clock follows chrony's view (chronyd runs with -x there); the system clock is chrony's. */
  backend: 'simulated' | 'system';
}

export function chronySettingsOf(config: Pick<AppConfig, 'TIME_SERVER_FEED_PORT' | 'NTP_FOLLOW' | 'CHRONYC' | 'CHRONY_COMMAND_SOCKET' | 'CLOCK_BACKEND'>): ChronySettings {
  return { feedPort: config.TIME_SERVER_FEED_PORT, follow: (config.NTP_FOLLOW ?? '').trim().replace(/^\[(.*)\]$/, '$1'), chronyc: config.CHRONYC, socket: (config.CHRONY_COMMAND_SOCKET ?? '').trim(), backend: config.CLOCK_BACKEND };
}

/**
 * chronyd as the Pi's time keeper and server. The product's side of it: the loopback feed chrony polls (`NtpFeed`),
 * and chronyc, read every CHRONY_POLL_MS for chrony's view (tracking, sources, their samples, its clients).
 *
 * With the simulated clock (tests, demos: chronyd runs with -x and never touches this machine's clock), the product's
 * simulated clock is the clock chrony would keep: it follows chrony's "System time" whenever chrony has a reference,
 * so chrony's corrections reach it as they reach a Pi's clock (a big one as a step the product sees and journals).
 */
export class ChronyTimeServer extends TimeServer implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  readonly engine = 'chrony' as const;
  private readonly logger = new Logger('TimeServer');
  private readonly feed: NtpFeed;
  private readonly chronyc: Chronyc;
  private timer?: NodeJS.Timeout;
  private current: ChronyView | null = null;
  private problem: string | null = null;
  private feedProblem: string | null = null;
  private clientsNote: string | null = null;
  private listeners: Array<(v: ChronyView | null) => void> = [];
  private polling: Promise<ChronyView | null> | null = null;
  /** NTP_FOLLOW as chrony names it in its sources (an address: chronyc runs with -n). */
  private followName: string;
  private warnedNoStep = false;
  /**
   * Once the whole app runs: the simulated clock follows chrony from then on (its first move is seen, and journaled, as
   * chrony's step), and the sources hear of chrony's view (after the clock has followed it).
   */
  private follows = false;
  private told: string | null = null;

  constructor(
    private readonly settings: ChronySettings,
    private readonly clock: Clock,
    private readonly host: Clock = new HostClock(),
  ) {
    super();
    this.feed = new NtpFeed(clock);
    this.chronyc = new Chronyc(settings.chronyc, settings.socket);
    this.followName = settings.follow;
  }

  async onModuleInit(): Promise<void> {
    try {
      await this.feed.start(this.settings.feedPort);
    } catch (error) {
      this.feedProblem = `the product cannot answer chrony on 127.0.0.1:${this.settings.feedPort} (TIME_SERVER_FEED_PORT): ${messageOf(error)}`;
      this.logger.error(`TIME_SERVER=chrony: ${this.feedProblem}`);
    }
    if (this.settings.follow && !isIP(this.settings.follow)) {
      // chronyc runs with -n (no DNS lookups, which hang offline): the leader is compared by its address.
      // Offline, a name may take long to fail (mDNS): after 2 s the name is compared as it is.
      this.followName = await Promise.race([
        lookup(this.settings.follow).then(
          (a) => a.address,
          () => this.settings.follow,
        ),
        new Promise<string>((resolve) => setTimeout(() => resolve(this.settings.follow), 2000).unref()),
      ]);
    }
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), CHRONY_POLL_MS);
    this.timer.unref?.();
  }

  onApplicationBootstrap(): void {
    this.follows = true;
    void this.refresh();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
    this.feed.stop();
    this.listeners = [];
  }

  /** The feed's port (0 in TIME_SERVER_FEED_PORT is not allowed; tests read the one bound). */
  get feedPort(): number | null {
    return this.feed.port;
  }

  view(): ChronyView | null {
    return this.current;
  }

  onView(listener: (view: ChronyView | null) => void): () => void {
    this.listeners.push(listener);
    // Before the app runs, nobody hears of chrony yet: what it keeps reaches the clock and the sources together.
    listener(this.follows ? this.current : null);
    return () => (this.listeners = this.listeners.filter((l) => l !== listener));
  }

  /** Reads chrony's view now (one read at a time: callers meanwhile share it). */
  refresh(): Promise<ChronyView | null> {
    this.polling ??= this.read().finally(() => (this.polling = null));
    return this.polling;
  }

  offer(sample: TimeServerSample): void {
    if (!this.feed.port || !this.current?.feedConfigured) return;
    this.feed.offer(this.feedSample(sample), this.answersNeeded());
  }

  async take(sample: TimeServerSample): Promise<void> {
    const unavailable = (message: string, clockSet: boolean | 'unknown' = false) => new DomainError(ErrorCode.TIME_SERVER_UNAVAILABLE, message, { clockSet });
    if (this.feedProblem) throw unavailable(`chrony cannot be given the time: ${this.feedProblem}`);
    const before = await this.refresh();
    if (!before) throw unavailable(`chrony cannot be given the time: ${this.problem ?? 'chronyd does not answer'}`);
    if (!before.feedConfigured) {
      throw unavailable(`chrony does not poll the product (no source 127.0.0.1 in its sources): its configuration needs "server 127.0.0.1 port ${this.settings.feedPort} minpoll 0 maxpoll 0" (kiosk/install.sh --time-server writes it)`);
    }
    const answers = this.answersNeeded();
    const first = this.nextAnswer(answers);
    this.feed.offer(this.feedSample(sample), answers);
    try {
      await first;
    } catch {
      this.feed.withdraw();
      throw unavailable(`chrony did not ask the product for the time within ${formatDuration(FEED_ASK_TIMEOUT_MS)} (is its source 127.0.0.1 port ${this.settings.feedPort} offline?)`);
    }
    // chrony has the reading: it corrects the clock when it selects it, at once for a source it already knows.
    // Its reference time changes at every update (compared as it is: chrony's clock may be days off before the step).
    const taken = await this.until((v) => v.state === 'serving' && v.refTimeMs !== before.refTimeMs, TAKE_TIMEOUT_MS);
    if (!taken) {
      const v = this.current;
      throw unavailable(`chrony was given the time but did not use it within ${formatDuration(TAKE_TIMEOUT_MS)} (${v ? describe(v) : this.problem ?? 'no answer'})`, 'unknown');
    }
    if (this.settings.backend === 'system' && Math.abs(taken.offsetMs) > 1) await this.stepNow();
  }

  status(): TimeServerStatus {
    const v = this.current;
    const base = { engine: 'chrony' as const, following: this.settings.follow || null, leaderReachable: v?.leader ? v.leader.reachable : null };
    const error = this.feedProblem ?? (v ? null : this.problem);
    if (!v) {
      return { ...base, state: 'down', summary: `not serving: ${this.problem ?? 'chronyd has not answered yet'}`, reference: null, stratum: null, offsetMs: null, errorBoundMs: null, clients: null, error };
    }
    return { ...base, state: v.state, summary: summaryOf(v, this.settings.follow, this.clientsNote), reference: v.reference, stratum: v.stratum, offsetMs: this.offsetVsPi(v), errorBoundMs: v.errorBoundMs, clients: v.clients, error };
  }

  // ---- inside ------------------------------------------------------------------------------------------

  private async read(): Promise<ChronyView | null> {
    let view: ChronyView | null = null;
    try {
      const reports = parseReports(await this.chronyc.run(['-c', '-n', '-m', 'tracking', 'sources', 'sourcestats']));
      const clients = await this.readClients();
      view = chronyView({ ...reports, clients }, { feedName: '127.0.0.1', follow: this.followName, clientWindowS: CLIENT_WINDOW_S });
      this.problem = null;
    } catch (error) {
      this.problem = error instanceof ChronycError ? error.message : `chronyc's answer could not be read: ${messageOf(error)}`;
    }
    this.current = view;
    if (view) this.followSimulated(view);
    this.tell(view);
    if (this.follows) for (const l of this.listeners) l(view);
    return view;
  }

  private async readClients(): Promise<ChronyClient[] | null> {
    try {
      const clients = parseClients(await this.chronyc.run(['-c', '-n', 'clients']));
      this.clientsNote = null;
      return clients;
    } catch (error) {
      if (error instanceof ChronycError && error.reason === 'refused') {
        this.clientsNote = 'chronyd tells its clients only on its command socket';
        return null;
      }
      throw error;
    }
  }

  /** One log line per change of state, in words. */
  private tell(view: ChronyView | null): void {
    const words = view ? `chrony: ${summaryOf(view, this.settings.follow, this.clientsNote)}` : `TIME_SERVER=chrony: ${this.problem}`;
    const key = view ? `${view.state}:${view.reference}:${view.leader?.reachable}` : `down:${this.problem}`;
    if (key === this.told) return;
    this.told = key;
    if (view) this.logger.log(logText(words));
    else this.logger.error(logText(words));
  }

  /** The simulated clock is the clock chrony keeps: it follows chrony's view whenever chrony has a reference. */
  private followSimulated(view: ChronyView): void {
    if (!(this.clock instanceof SimulatedWallClock) || !this.follows) return;
    if (view.state !== 'serving' && view.state !== 'following') return;
    if (Math.abs(this.clock.offset - view.offsetMs) < 0.01) return;
    this.clock.stepTo(this.host.preciseNow() + view.offsetMs);
  }

  /** True time minus the product's clock (the Pi's), ms: chrony's System time, less what the simulated clock followed. */
  private offsetVsPi(view: ChronyView): number {
    const followed = this.clock instanceof SimulatedWallClock ? this.clock.offset : 0;
    return Math.round((view.offsetMs - followed) * 1000) / 1000;
  }

  private answersNeeded(): number {
    const samples = this.current?.feedSamples ?? 0;
    return samples >= SAMPLES_TO_SELECT ? 1 : SAMPLES_TO_SELECT;
  }

  private feedSample(s: TimeServerSample): FeedSample {
    const ref = REFERENCE[s.source] ?? REFERENCE.none;
    return { targetMinusMonoMs: s.targetMinusMonoMs, errorBoundMs: s.errorBoundMs ?? MANUAL_BOUND_MS, atMono: s.atMono, stratum: ref.stratum, refId: ref.refId };
  }

  /** Resolves with the first answer once `count` answers went out (or the feed's answers stop with fewer); rejects after the timeout. */
  private nextAnswer(count: number): Promise<FeedAnswer> {
    return new Promise((resolve, reject) => {
      let first: FeedAnswer | null = null;
      const timer = setTimeout(() => {
        stop();
        if (first) resolve(first);
        else reject(new Error('no answer'));
      }, FEED_ASK_TIMEOUT_MS);
      const stop = this.feed.onAnswer((a) => {
        first ??= a;
        if (a.count >= count) {
          clearTimeout(timer);
          stop();
          resolve(first);
        }
      });
    });
  }

  /** Polls chrony's view (every 100 ms) until `ok` holds; the view, or null at the deadline. */
  private async until(ok: (v: ChronyView) => boolean, timeoutMs: number): Promise<ChronyView | null> {
    const end = this.clock.monotonic() + timeoutMs;
    for (;;) {
      const v = await this.refresh();
      if (v && ok(v)) return v;
      if (this.clock.monotonic() >= end) return null;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /**
   * The policy asked for a step: chrony steps the rest of its correction now (`chronyc makestep`) instead of slewing
   * it, which would leave the cameras set from a clock still on its way. chronyd allows it on its command socket only;
   * where it refuses, chrony slews (said once in the log).
   */
  private async stepNow(): Promise<void> {
    try {
      await this.chronyc.run(['makestep']);
      await this.refresh();
    } catch (error) {
      if (!this.warnedNoStep) this.logger.warn(logText(`chrony slews the clock instead of stepping it: ${messageOf(error)}`));
      this.warnedNoStep = true;
    }
  }
}

/** chrony's state in words. */
export function summaryOf(v: ChronyView, follow: string, clientsNote: string | null = null): string {
  const bound = `±${formatDuration(v.errorBoundMs)}`;
  const serving = v.clients === null ? `serving to clients (how many is not known: ${clientsNote ?? 'chronyd did not say'})` : `serving to ${v.clients} client${v.clients === 1 ? '' : 's'}`;
  if (follow) {
    const leader = v.leader!;
    if (ntpKeepsClock(v)) return `following ${follow} over NTP, ${bound}; ${serving}`;
    if (!leader.reachable) return `the leader ${follow} does not answer; ${v.state === 'serving' ? `the Pi's own source keeps the time (${bound})` : v.state === 'following' ? `chrony keeps the time it had (${bound})` : v.state === 'local' ? `the clock runs on its own (local stratum ${v.stratum})` : 'no time yet'}; ${serving}`;
  }
  switch (v.state) {
    case 'serving':
      return `${serving}, stratum ${v.stratum}, ${bound}`;
    case 'following':
      return `following ${v.reference ?? 'an NTP server'} over NTP, ${bound}; ${serving}`;
    case 'local':
      return `no fresh source: the clock runs on its own, served at local stratum ${v.stratum}; ${serving}`;
    case 'unsynchronised':
      return 'no time to serve yet (chrony has no source)';
  }
}

function describe(v: ChronyView): string {
  return `chrony ${v.state}${v.reference ? ` from ${v.reference}` : ''}, stratum ${v.stratum}, ${v.feedSamples ?? 0} sample(s) of the product's time`;
}

/** The policy's view of NTP through chrony, for the `ntp` source adapter. */
export { ntpKeepsClock } from './chrony-report';
