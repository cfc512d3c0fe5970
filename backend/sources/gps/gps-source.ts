import { OnModuleDestroy } from '@nestjs/common';
import { isIP } from 'node:net';
import { SyncSource } from '../../protocol/vocabulary';
import { Clock, HostClock } from '../../time/clock';
import { SourceContext, SourceSink, SourceStatus, TimeSourceAdapter } from '../source-port';
import { GpsdClient, GpsdClientOptions } from './gpsd-client';
import { GpsdMessage, GpsdVersion } from './gpsd-protocol';
import { GpsEnvironment, GpsEvent, GpsLossCode, GpsSettings, GpsTimeKeeper } from './gps-time';

export interface GpsSourceOptions {
  /** From GPSD_ADDRESS; null: no GPS (the adapter does nothing and has no status). */
  address: { host: string; port: number } | null;
  /** GPS_OFFSET_MS: the receiver's known NMEA delay, ms; 0: not known. */
  offsetMs: number;
  /** Thresholds (tests shorten them); see `DEFAULT_GPS_SETTINGS`. */
  settings?: Partial<Omit<GpsSettings, 'nmeaDelayMs'>>;
  client?: Partial<Omit<GpsdClientOptions, 'monotonic'>>;
  /** How often silence, calibration age and due readings are looked at, ms. */
  tickMs?: number;
}

type Connection = 'never' | 'absent' | 'up' | 'gone';

/** gpsd on this machine: its clock stamps (TOFF, PPS) are this host's clock, so they can be used. */
export function isLocalGpsd(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

/**
 * GPS through gpsd, as a time source (source `gps`): reads gpsd's reports with `GpsdClient`, judges the time with
 * `GpsTimeKeeper`, and tells the sink. Readings: NMEA time coarse (±500 ms) or calibrated against a fresher source,
 * PPS fine (see `gps-time.ts`); at most one every 5 s unless their kind changes. Losses: `GpsLossCode`. gpsd absent at
 * start is one info line; going away is one loss (GPS_GONE), coming back one line; reconnection in between is quiet.
 *
 * Time stamps. TOFF and PPS carry gpsd's host clock (CLOCK_REALTIME) at arrival or pulse. The product's `Clock` may
 * be a SimulatedWallClock (host time plus an offset), so they are turned into monotonic time with `hostClock`, the
 * host's own clock, at the moment they are read. A TPV without its TOFF (gpsd sends none after its time went
 * backwards, or for a remote gpsd, whose clock is not ours) is stamped when its chunk was read from the socket.
 */
export class GpsSource extends TimeSourceAdapter implements OnModuleDestroy {
  readonly source = SyncSource.Gps;
  private readonly keeper: GpsTimeKeeper;
  private client: GpsdClient | null = null;
  private sink: SourceSink | null = null;
  private context: SourceContext | null = null;
  private ticker: NodeJS.Timeout | null = null;
  private connection: Connection = 'never';
  private version: string | null = null;
  private readonly devices = new Map<string, boolean>();
  /** The receiver followed (gpsd may serve several): the first to give a TPV. */
  private device: string | null = null;
  private lastToff: { realMs: number; monoMs: number } | null = null;
  private lastTpvTimeMs: number | null = null;

  constructor(
    private readonly options: GpsSourceOptions,
    private readonly clock: Clock,
    private readonly hostClock: Clock = new HostClock(),
  ) {
    super();
    this.keeper = new GpsTimeKeeper({ ...options.settings, nmeaDelayMs: options.offsetMs });
  }

  /** `host:port` of gpsd, or null when GPS is off. */
  get address(): string | null {
    const a = this.options.address;
    return a ? (isIP(a.host) === 6 ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`) : null;
  }

  start(sink: SourceSink, context: SourceContext): void {
    const address = this.options.address;
    if (!address || this.client) return;
    this.sink = sink;
    this.context = context;
    this.client = new GpsdClient(
      address.host,
      address.port,
      {
        connected: (version) => this.onConnected(version),
        message: (message, at) => this.onMessage(message, at),
        gone: () => this.onGone(),
        unreachable: () => this.onUnreachable(),
      },
      { ...this.options.client, monotonic: () => this.clock.monotonic() },
    );
    this.client.start();
    this.ticker = setInterval(() => this.tick(), this.options.tickMs ?? 1000);
    this.ticker.unref();
  }

  stop(): void {
    this.client?.stop();
    this.client = null;
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = null;
    this.sink = null;
    this.context = null;
  }

  onModuleDestroy(): void {
    this.stop();
  }

  status(): SourceStatus | null {
    const address = this.address;
    if (!address) return null;
    const base = { source: this.source, who: this.who() };
    const gpsd = { gpsd: address, gpsdVersion: this.version, device: this.device, said: this.lastTpvTimeMs === null ? null : new Date(this.lastTpvTimeMs).toISOString() };
    switch (this.connection) {
      case 'never':
        return { ...base, state: `connecting to gpsd at ${address}`, active: false, absent: true, errorBoundMs: null, facts: gpsd };
      case 'absent':
        return { ...base, state: `gpsd not running at ${address}`, active: false, absent: true, errorBoundMs: null, facts: gpsd };
      case 'gone':
        return { ...base, state: `gpsd at ${address} went away; trying again`, active: false, errorBoundMs: null, facts: gpsd };
    }
    if (!this.device && ![...this.devices.values()].some(Boolean)) {
      return { ...base, state: 'gpsd running, no receiver', active: false, errorBoundMs: null, facts: gpsd };
    }
    const d = this.keeper.describe(this.clock.monotonic());
    return { ...base, state: d.state, active: d.active, errorBoundMs: d.errorBoundMs, facts: { ...gpsd, ...d.facts } };
  }

  // ---- gpsd ---------------------------------------------------------------------------------------------

  private onConnected(version: GpsdVersion): void {
    const was = this.connection;
    this.connection = 'up';
    this.version = version.release;
    const address = this.address!;
    if (was === 'absent') this.info(`gpsd ${version.release} at ${address} appeared: GPS on`);
    else if (was === 'gone') this.info(`gpsd at ${address} is back`);
    else this.info(`GPS through gpsd ${version.release} at ${address}`);
  }

  private onUnreachable(): void {
    if (this.connection !== 'never') return;
    this.connection = 'absent';
    this.info(`no gpsd at ${this.address}: GPS off until it appears`);
  }

  private onGone(): void {
    this.connection = 'gone';
    const who = this.who();
    this.forget();
    this.sink?.lost({ source: this.source, who, code: GpsLossCode.Gone, why: `gpsd at ${this.address} went away: GPS off until it comes back` });
  }

  private forget(): void {
    this.keeper.reset();
    this.devices.clear();
    this.device = null;
    this.lastToff = null;
    this.lastTpvTimeMs = null;
  }

  private onMessage(message: GpsdMessage, receivedMono: number): void {
    switch (message.class) {
      case 'DEVICES':
        this.devices.clear();
        for (const d of message.devices) this.devices.set(d.path, d.active);
        return;
      case 'DEVICE':
        this.devices.set(message.path, message.active);
        if (!message.active && message.path === this.device) {
          this.device = null;
          this.lastToff = null;
        }
        return;
      case 'TOFF':
        if (!this.follows(message.device)) return;
        if (this.local()) this.lastToff = { realMs: message.realMs, monoMs: this.toMono(message.clockMs) };
        return;
      case 'PPS': {
        if (!this.follows(message.device) || !this.local()) return;
        const monoMs = this.toMono(message.clockMs);
        // A pulse is timed before its report is read, by less than a second; anything else (the host clock stepped
        // between gpsd's stamp and ours) is not used.
        if (monoMs > receivedMono + 5 || monoMs < receivedMono - 1500) return;
        this.dispatch(this.keeper.sample({ kind: 'pps', gpsMs: message.realMs, monoMs }, this.environment(), receivedMono));
        return;
      }
      case 'TPV': {
        if (message.device) {
          if (this.device === null) this.device = message.device;
          else if (message.device !== this.device) return;
        }
        this.dispatch(this.keeper.fix(message.mode));
        if (message.mode >= 2 && message.timeMs !== null && message.timeMs !== this.lastTpvTimeMs) {
          this.lastTpvTimeMs = message.timeMs;
          const toff = this.lastToff;
          // TOFF's stamp when it names this very second and reads as earlier than the TPV (by under 2 s).
          const useToff = toff !== null && toff.realMs === message.timeMs && toff.monoMs <= receivedMono + 5 && toff.monoMs > receivedMono - 2000;
          const monoMs = useToff ? toff.monoMs : receivedMono;
          this.dispatch(this.keeper.sample({ kind: 'nmea', gpsMs: message.timeMs, monoMs, eptMs: message.eptMs }, this.environment(), receivedMono));
        }
        this.tick();
        return;
      }
      default:
        return;
    }
  }

  private follows(device: string | null): boolean {
    return device === null || this.device === null || device === this.device;
  }

  private local(): boolean {
    return isLocalGpsd(this.options.address!.host);
  }

  /** A CLOCK_REALTIME stamp of this host (gpsd's) on the monotonic clock. */
  private toMono(clockMs: number): number {
    return clockMs - (this.hostClock.now() - this.hostClock.monotonic());
  }

  // ---- telling ------------------------------------------------------------------------------------------

  private tick(): void {
    if (!this.sink || this.connection !== 'up') return;
    this.dispatch(this.keeper.tick(this.environment(), this.clock.monotonic()));
  }

  private environment(): GpsEnvironment {
    const ctx = this.context!;
    return { reference: ctx.reference(), wallMinusMonoMs: ctx.wallMinusMonoMs(), plausibleAfterMs: ctx.plausibleAfterMs() };
  }

  private dispatch(events: GpsEvent[]): void {
    const sink = this.sink;
    if (!sink) return;
    for (const e of events) {
      if (e.kind === 'reading') {
        sink.reading({
          source: this.source,
          who: this.who(),
          sourceMinusMonoMs: e.sourceMinusMonoMs,
          errorBoundMs: e.errorBoundMs,
          atMono: this.clock.monotonic(),
          fine: e.fine,
          facts: { ...e.facts, device: this.device },
        });
      } else if (e.kind === 'lost') sink.lost({ source: this.source, who: this.who(), code: e.code, why: e.why });
      else sink.info(this.source, e.message);
    }
  }

  private info(message: string): void {
    this.sink?.info(this.source, message);
  }

  private who(): string {
    return this.device ?? `gpsd at ${this.address}`;
  }
}
