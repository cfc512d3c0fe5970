import { randomUUID } from 'node:crypto';
import { DomainError, ErrorCode } from '../../common/domain-error';
import { Clock } from '../../time/clock';
import { parseClientTime } from '../../time/format';
import { assertValidTimezone } from '../../time/timezone';
import { assertPlausibleTime } from '../../time/validation';
import { DEFAULT_BURST, detectClockJump, estimateOffset, OffsetEstimate, planBurst, ProbeSample } from './estimator';

/** Responses later than this are refused. */
export const RESPONSE_TIMEOUT_MS = 5000;

/** Where probes go: the gateway's connection. Returns the monotonic time the frame was handed to the socket. */
export interface ProbeTarget {
  readonly id: string;
  readonly address: string;
  sendProbe(serverTime: number, requestId: string): number;
}

export type BurstResult =
  | { ok: true; target: ProbeTarget; estimate: OffsetEstimate; timezone?: string; answered: number; sent: number }
  | { ok: false; target: ProbeTarget; why: string; answered: number; sent: number };

interface Pending {
  connId: string;
  sentMono: number;
  serverTime: number;
  burst: Burst;
}

interface Burst {
  target: ProbeTarget;
  samples: ProbeSample[];
  timezone?: string;
  wallMinusMonoAtStart: number;
  sent: number;
  planned: number;
  timers: NodeJS.Timeout[];
  finish?: NodeJS.Timeout;
  done: boolean;
  stopTimer: () => number;
}

/**
 * The bookkeeping of probe bursts: one burst at a time, probes 20-40 ms apart (jittered), answers matched by
 * id and connection, unknown / duplicate / foreign / late answers refused with a coded error, and the burst's
 * estimate (or why there is none) handed to `onDone`. No policy: what a result means is the source policy's.
 */
export class BurstTracker {
  private readonly pending = new Map<string, Pending>();
  /** Answered request ids → monotonic time they may be forgotten, to tell duplicates from unknown ids. */
  private readonly answered = new Map<string, number>();
  /** Requests of a burst that closed before they were answered: a slow answer is dropped quietly. */
  private readonly closed = new Map<string, { connId: string; sentMono: number }>();
  private burst: Burst | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly rng: () => number,
    private readonly minAnswers: number,
    private readonly onDone: (result: BurstResult) => void,
    private readonly startTimer: () => () => number = () => () => 0,
  ) {}

  get running(): string | null {
    return this.burst?.target.id ?? null;
  }

  start(target: ProbeTarget): void {
    if (this.burst) this.abort();
    const gaps = planBurst(this.rng);
    const burst: Burst = {
      target,
      samples: [],
      wallMinusMonoAtStart: this.clock.epochOfMonotonic(),
      sent: 0,
      planned: gaps.length + 1,
      timers: [],
      done: false,
      stopTimer: this.startTimer(),
    };
    this.burst = burst;
    // The first probe goes out at once; the rest follow at the planned, jittered gaps.
    let at = 0;
    this.sendProbe(burst);
    for (const gap of gaps) {
      at += gap;
      burst.timers.push(setTimeout(() => this.sendProbe(burst), at));
    }
    burst.finish = setTimeout(() => this.finish(burst), at + DEFAULT_BURST.replyGraceMs);
  }

  /** Stops the running burst; its late answers are dropped quietly. */
  abort(): void {
    if (this.burst) this.close(this.burst);
  }

  /** A connection left: its pending requests are forgotten. */
  forget(connId: string): void {
    for (const [id, p] of this.pending) if (p.connId === connId) this.pending.delete(id);
    if (this.burst?.target.id === connId) this.close(this.burst);
  }

  /**
   * A `time-sync-response` from `connId`, stamped `receivedMono` at the socket's read, which came `readLagMs`
   * into a busy stretch of the event loop (0: read at once). Anything wrong throws a coded DomainError and
   * changes nothing.
   */
  answer(connId: string, data: { clientTime: unknown; serverTime: unknown; requestId: unknown; timezone?: unknown }, receivedMono: number, readLagMs = 0): void {
    const requestId = typeof data.requestId === 'string' ? data.requestId : '';
    this.forgetOld(receivedMono);
    const closed = this.closed.get(requestId);
    if (closed?.connId === connId && receivedMono - closed.sentMono <= RESPONSE_TIMEOUT_MS) {
      this.closed.delete(requestId);
      return;
    }
    const pending = this.pending.get(requestId);
    if (!pending || pending.connId !== connId) {
      if (closed?.connId === connId) throw late(requestId, receivedMono - closed.sentMono);
      if (this.answered.has(requestId)) throw new DomainError(ErrorCode.DUPLICATE_RESPONSE, `requestId "${requestId}" was already answered`);
      throw new DomainError(ErrorCode.UNKNOWN_REQUEST_ID, `requestId ${JSON.stringify(data.requestId).slice(0, 80)} matches no time-sync-request sent to this connection`);
    }
    if (receivedMono - pending.sentMono > RESPONSE_TIMEOUT_MS) {
      this.pending.delete(requestId);
      throw late(requestId, receivedMono - pending.sentMono);
    }
    if (data.serverTime !== pending.serverTime) {
      throw new DomainError(ErrorCode.BAD_REQUEST, `serverTime ${JSON.stringify(data.serverTime)} is not the serverTime ${pending.serverTime} of request "${requestId}"`);
    }
    const clientTime = parseClientTime(data.clientTime);
    assertPlausibleTime(clientTime, 'clientTime');
    const timezone = data.timezone === undefined ? undefined : assertValidTimezone(data.timezone);

    this.pending.delete(requestId);
    this.answered.set(requestId, receivedMono + RESPONSE_TIMEOUT_MS * 2);
    const burst = pending.burst;
    if (burst.done) return;
    burst.samples.push({ requestId, sentMono: pending.sentMono, receivedMono, clientTime, readLagMs });
    if (timezone) burst.timezone = timezone;
    if (burst.samples.length === burst.planned && burst.sent === burst.planned) this.finish(burst);
  }

  private sendProbe(burst: Burst): void {
    if (burst.done) return;
    const requestId = `sync-${randomUUID()}`;
    // Whole milliseconds on the wire: a client that keeps its timestamps as integers echoes exactly this.
    const serverTime = Math.round(this.clock.now());
    const pending: Pending = { connId: burst.target.id, sentMono: 0, serverTime, burst };
    this.pending.set(requestId, pending);
    pending.sentMono = burst.target.sendProbe(serverTime, requestId);
    burst.sent++;
  }

  private close(burst: Burst): void {
    burst.done = true;
    burst.timers.forEach(clearTimeout);
    clearTimeout(burst.finish);
    for (const [id, p] of this.pending) {
      if (p.burst !== burst) continue;
      this.pending.delete(id);
      this.closed.set(id, { connId: p.connId, sentMono: p.sentMono });
    }
    if (this.burst === burst) this.burst = null;
  }

  private finish(burst: Burst): void {
    if (burst.done) return;
    this.close(burst);
    burst.stopTimer();
    const base = { target: burst.target, answered: burst.samples.length, sent: burst.sent };
    const jump = detectClockJump(burst.samples, { serverWallMinusMonoStart: burst.wallMinusMonoAtStart, serverWallMinusMonoEnd: this.clock.epochOfMonotonic() });
    if (jump) return this.onDone({ ok: false, ...base, why: `discarded: ${jump.message}` });
    const estimate = burst.samples.length >= this.minAnswers ? estimateOffset(burst.samples) : null;
    if (!estimate) return this.onDone({ ok: false, ...base, why: `${burst.samples.length} of ${burst.sent} probes answered` });
    this.onDone({ ok: true, ...base, estimate, timezone: burst.timezone });
  }

  /** Answered ids are kept 10 s to recognise replays, closed ones until their answer would be late anyway. */
  private forgetOld(nowMono: number): void {
    for (const [id, until] of this.answered) {
      if (until > nowMono) break;
      this.answered.delete(id);
    }
    for (const [id, c] of this.closed) {
      if (nowMono - c.sentMono <= RESPONSE_TIMEOUT_MS * 2) break;
      this.closed.delete(id);
    }
  }
}

function late(requestId: string, afterMs: number): DomainError {
  return new DomainError(ErrorCode.LATE_RESPONSE, `requestId "${requestId}" answered after ${Math.round(afterMs)} ms (limit ${RESPONSE_TIMEOUT_MS} ms)`);
}
