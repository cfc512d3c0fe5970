import { Clock } from '../../time/clock';
import { SourceReading } from '../source-port';
import { BurstResult, BurstTracker, ProbeTarget } from './burst-tracker';

/** A page connected over the WebSocket, as the gateway describes it. */
export interface SyncConnection extends ProbeTarget {
  /** May be a time source: a page on the access point, never the Pi's own screen. */
  readonly trusted: boolean;
}

/** What a phone adapter hands on: a reading (with the connection it came from) or why a burst gave none. */
export interface PhoneHooks {
  measured(connId: string, reading: SourceReading): void;
  failed(failure: { connId: string; address: string; answered: number; sent: number; why: string }): void;
}

/**
 * The phones as a time source: the pages connected over the WebSocket and the probe bursts that measure them.
 * Unlike GPS or the hardware clock, a phone is measured when the policy asks (`measure`), since a burst costs the
 * page's battery and the Wi-Fi's air time; its reading is a `SourceReading` like theirs, with the phone's zone.
 */
export class PhoneSource {
  private readonly connections = new Map<string, SyncConnection>();
  private readonly bursts: BurstTracker;

  constructor(
    private readonly clock: Clock,
    rng: () => number,
    minAnswers: number,
    private readonly hooks: PhoneHooks,
    startTimer?: () => () => number,
  ) {
    this.bursts = new BurstTracker(clock, rng, minAnswers, (result) => this.done(result), startTimer);
  }

  connect(conn: SyncConnection): void {
    this.connections.set(conn.id, conn);
  }

  /** False when the connection was not known. */
  disconnect(connId: string): boolean {
    if (!this.connections.has(connId)) return false;
    this.bursts.forget(connId);
    this.connections.delete(connId);
    return true;
  }

  get(connId: string): SyncConnection | undefined {
    return this.connections.get(connId);
  }

  /** Pages on the access point (possible time sources) connected now. */
  trustedCount(): number {
    let n = 0;
    for (const c of this.connections.values()) if (c.trusted) n++;
    return n;
  }

  /** Starts a burst to this connection (aborting any other). */
  measure(connId: string): void {
    const conn = this.connections.get(connId);
    if (conn) this.bursts.start(conn);
  }

  abort(): void {
    this.bursts.abort();
  }

  /** A probe's answer, stamped at the socket. Anything wrong throws a coded DomainError and changes nothing. */
  answer(connId: string, data: { clientTime: unknown; serverTime: unknown; requestId: unknown; timezone?: unknown }, receivedMono: number, readLagMs = 0): void {
    this.bursts.answer(connId, data, receivedMono, readLagMs);
  }

  private done(result: BurstResult): void {
    const { target } = result;
    if (!result.ok) {
      this.hooks.failed({ connId: target.id, address: target.address, answered: result.answered, sent: result.sent, why: result.why });
      return;
    }
    this.hooks.measured(target.id, {
      source: 'client',
      who: target.address,
      sourceMinusMonoMs: result.estimate.clientMinusMonoMs,
      errorBoundMs: result.estimate.errorBoundMs,
      atMono: this.clock.monotonic(),
      ...(result.timezone ? { zone: result.timezone } : {}),
    });
  }
}
