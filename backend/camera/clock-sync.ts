/**
 * One camera's clock sync over a CameraReader (inside the camera's exclusive CCAPI session): measure first, keep
 * a camera within the threshold, else write it so that its PUT lands on the boundary the cameras of a "sync all"
 * share, read it back, measure the residual, and write it again while a slow PUT left it beyond the spread goal.
 * What it learns goes to its SyncSink as it goes (the session keeps the clock model and reports); the timing
 * arithmetic is sync-timing.ts, clock-phase.ts and spread-goal.ts.
 */
import { DomainError, ErrorCode, messageOf } from '../common/domain-error';
import { logText } from '../common/escape';
import { CameraSyncKind } from '../protocol/messages';
import { formatCameraDateTime } from '../time/camera-datetime';
import { PiNow } from './camera-clock-model';
import { CameraMeasurement, CameraWrite, CertainMeasurement, MeasurementKind } from './camera-measurement';
import { Reading } from './camera-reader';
import { CameraRewrite, CameraSyncKept, CameraSyncResult, formatOffset, iso } from './camera-report';
import { isRenewedChallenge } from './ccapi-client';
import { ClockIo, conclude, measureClock, oneWayOf, Phase, piNow, roundTripOf, STEP_TOLERANCE_MS, targetBound, toMeasurement } from './clock-measure';
import { ErrorWindow, HINT_MARGIN_MS, writeDecision } from './clock-phase';
import { rewriteDecision, WriteResidual } from './spread-goal';
import { ClockReading, estimateClockError, Exchange, handledAt, planSecondAlignedSend, recentRoundTripMs, secondToWrite, SharedSecondBoundary } from './sync-timing';

/** A timer that fires this far from the planned instant makes the sync wait for the next second. */
const LANDING_TOLERANCE_MS = 20;
/**
 * Reads taken right before the write to measure the latency afresh (a median over minutes lags a changed round
 * trip): at least this many, more until the latest three agree with the estimate, at most LATENCY_MAX_READS.
 */
const LATENCY_READS = 3;
const LATENCY_MAX_READS = 9;
/** Room left between the last read while waiting and the PUT. */
const PUT_GUARD_MS = 15;
/** Pace of those reads, ms. */
const WAIT_READ_SPACING_MS = 25;
/** An old error known to this many ms is enough. */
const TIGHT_ENOUGH_MS = 10;
/** Room between planning a re-write's boundary and its send (reads go on meanwhile). */
const REWRITE_LEAD_MS = 100;
/** Longest wait for a planned send time: boundaries are planned a few seconds ahead at most. */
const MAX_PLANNED_WAIT_MS = 5000;
/** Before a write decided early (the camera is far off), reads this far apart, for at most REFINE_MAX_MS, pin its old error for the journal. */
const REFINE_MAX_MS = 1200;

/** What one sync is asked to do. */
export interface SyncJob {
  reason: string;
  /** The Pi's zone: what is written is its wall time there. */
  timezone: string;
  /** A camera measured within this of the Pi is not written; 0: always written. */
  thresholdMs: number;
  /** CAMERA_SPREAD_GOAL_MS; 0: no re-write. */
  spreadGoalMs: number;
}

/** What a sync tells its camera's session as it goes, in order. */
export interface SyncSink {
  /** The camera's id now (for the measurements and the outcome). */
  readonly cameraId: string;
  /** A measurement taken at Pi epoch `epoch`; `keep`: it is the camera's clock now (false: taken before the write, no longer true). */
  measured(measurement: CameraMeasurement, epoch: number, keep: boolean): void;
  /** A PUT reached the camera: what was known of its clock no longer holds. */
  clockSet(): void;
  /** One write, with the camera's error before and after it. */
  wrote(write: CameraWrite): void;
  /** A log line (its values escaped already). */
  warn(message: string): void;
}

/** A PUT sent to land on a boundary: the second written, the exchange, and the one-way time it was timed with. */
interface AlignedWrite {
  sent: { secondMs: number; datetime: string; dst: boolean };
  put: Exchange;
  oneWayMs: number;
}

/** What reading a camera back after a write found; `unverifiedBecause` null: `after` is its verified residual. */
interface WriteCheck {
  after: CameraMeasurement | null;
  unverifiedBecause: string | null;
  piStepped?: boolean;
  readings?: Reading[];
}

export class ClockSync {
  /** The camera's clock as first read, once it was (what a failure reports of it). */
  first: Reading | null = null;
  /** Whether the sync took its part in the shared boundary (arrived at it, or left it): else whoever ends it must leave. */
  joined = false;
  private io!: ClockIo;
  private started!: PiNow;

  constructor(
    private readonly sink: SyncSink,
    private readonly job: SyncJob,
    private readonly boundary: SharedSecondBoundary,
  ) {}

  /**
   * Measures first (a camera already within the threshold is left alone: a write is never better than its latency
   * jitter), then writes and verifies. `hint`: where the camera's error should be, asked once the first read is in.
   * Throws the camera's error, PI_CLOCK_STEPPED, or CAMERA_REJECTED when it reads back far from what was written.
   */
  async run(io: ClockIo, hint: () => ErrorWindow | null): Promise<CameraSyncResult | CameraSyncKept> {
    this.io = io;
    this.started = piNow(io.clock);
    const first = (this.first = await io.reader.readClock());
    // A camera on another zone setting or DST flag is written whatever its clock says (the instant may be right, the wall time is not).
    const want = formatCameraDateTime(io.clock.now(), this.job.timezone);
    const zoneDiffers = want.dst !== first.dst || want.datetime.slice(-5) !== first.datetime.slice(-5);
    const before = (await measureClock(io, { hint: hint(), thresholdMs: zoneDiffers ? 0 : this.job.thresholdMs, seed: [first] }))!;
    if (!zoneDiffers && before.window && before.errorMs !== null && writeDecision(before.window, this.job.thresholdMs) === 'keep') {
      this.joined = true;
      this.boundary.leave();
      return this.kept(before);
    }
    return this.writeAndVerify(before.readings);
  }

  /** The camera is within the threshold: its measurement is the outcome. */
  private kept(phase: Phase): CameraSyncKept {
    const measurement = toMeasurement(phase, MeasurementKind.BeforeWrite, this.sink.cameraId) as CertainMeasurement;
    this.sink.measured(measurement, phase.epoch, true);
    return {
      cameraId: this.sink.cameraId,
      success: true,
      outcome: CameraSyncKind.MeasuredKept,
      written: false,
      reason: this.job.reason,
      previousTime: iso(phase.readings[0].cameraMs),
      offset: -measurement.offsetMs + 0,
      offsetBoundMs: measurement.boundMs,
      residualMs: measurement.offsetMs,
      residualBoundMs: measurement.boundMs,
      verified: true,
      thresholdMs: this.job.thresholdMs,
      measurement,
    };
  }

  /** Writes on the shared boundary, verifies, meets the spread goal. `readings`: the measurement's that decided to write. */
  private async writeAndVerify(readings: Reading[]): Promise<CameraSyncResult> {
    const previous = readings[0];
    const boundaryMs = await this.getReady(readings);
    // The error before the write, from every reading before it, as a measurement for the journal (taken now: it holds until the PUT).
    const beforePhase = conclude(readings, this.started, piNow(this.io.clock));
    const before = toMeasurement(beforePhase, MeasurementKind.BeforeWrite, this.sink.cameraId);
    const write = await this.putAligned(readings, boundaryMs);
    this.sink.measured(before, beforePhase.epoch, false);
    const old = beforePhase.errorMs !== null ? { errorMs: beforePhase.errorMs, boundMs: beforePhase.boundMs! } : estimateClockError(readings);
    const base = {
      cameraId: this.sink.cameraId,
      success: true as const,
      written: true as const,
      reason: this.job.reason,
      previousTime: iso(previous.cameraMs),
      offset: Math.round(-old.errorMs) + 0,
      offsetBoundMs: Math.ceil(old.boundMs + 0.5),
      timezone: this.job.timezone,
    };
    const check = await this.verify(write);
    this.journal(write, before, check);

    const last = await this.meetSpreadGoal(write, check);
    if (last.rewriteFailed !== null) {
      // The first write stands, but whether the last PUT reached the camera is not known: its clock is not claimed.
      return { ...base, ...resultOf(last.write), outcome: CameraSyncKind.WrittenUnverified, residualMs: null, residualBoundMs: null, verified: false, unverifiedBecause: `the re-write failed: ${last.rewriteFailed}`, rewrites: last.rewrites };
    }
    const extra = last.rewrites.length ? { rewrites: last.rewrites } : {};
    if (last.check.unverifiedBecause !== null) {
      return { ...base, ...resultOf(last.write), outcome: CameraSyncKind.WrittenUnverified, residualMs: null, residualBoundMs: null, verified: false, unverifiedBecause: last.check.unverifiedBecause, ...(last.check.piStepped ? { piSteppedDuring: true } : {}), ...extra };
    }
    const after = last.check.after!;
    return { ...base, ...resultOf(last.write), outcome: CameraSyncKind.WrittenVerified, residualMs: after.offsetMs, residualBoundMs: after.boundMs, verified: true, ...extra };
  }

  /**
   * Pins the camera's old error to tens of ms (dense reads across one of its ticks, so the journal can put the
   * photos taken before the write on true time), takes fresh round trips (the PUT is timed with the link of now,
   * not of a minute ago), joins the shared boundary and keeps reading while it waits. Returns the boundary.
   */
  private async getReady(readings: Reading[]): Promise<number> {
    const { clock, waiter, reader } = this.io;
    const refineUntil = clock.monotonic() + REFINE_MAX_MS;
    while (estimateClockError(readings).boundMs > targetBound(2 * oneWayOf(readings), true) && clock.monotonic() < refineUntil) {
      readings.push(await reader.readClock());
      await waiter.until(clock.monotonic() + WAIT_READ_SPACING_MS);
    }
    await this.freshLatency(readings);
    const oneWayMs = oneWayOf(readings);
    this.joined = true;
    const boundaryMs = await this.boundary.arrive(oneWayMs);
    // While waiting, keep reading the camera's clock: its old error comes out to the millisecond, not ±500 ms,
    // and the round trips keep the latency fresh.
    await this.readWhileWaiting(readings, boundaryMs - oneWayOf(readings));
    return boundaryMs;
  }

  /**
   * One slow PUT lands the camera far from the boundary: write it again at the next one, timed with the latency of
   * then (spread-goal.ts). The last write and what its check found; `rewriteFailed`: why a re-write's PUT failed.
   */
  private async meetSpreadGoal(first: AlignedWrite, firstCheck: WriteCheck): Promise<{ write: AlignedWrite; check: WriteCheck; rewrites: CameraRewrite[]; rewriteFailed: string | null }> {
    const { clock } = this.io;
    let write = first;
    let check = firstCheck;
    const rewrites: CameraRewrite[] = [];
    let refined = false;
    for (;;) {
      const decision = rewriteDecision(residualOf(check), this.job.spreadGoalMs, rewrites.length, refined);
      if (decision === 'done') break;
      if (decision === 'refine') {
        refined = true;
        const tighter = await this.refineAfter(check.after!, check.readings ?? []);
        if (tighter) check = { ...check, after: tighter };
        continue;
      }
      refined = false;
      const was = check.after!;
      const fresh: Reading[] = [];
      await this.freshLatency(fresh);
      const target = planSecondAlignedSend(clock.now(), oneWayOf(fresh), REWRITE_LEAD_MS).boundaryMs;
      await this.readWhileWaiting(fresh, target - oneWayOf(fresh));
      try {
        write = await this.putAligned(fresh, target);
      } catch (error) {
        return { write, check, rewrites, rewriteFailed: messageOf(error) };
      }
      check = await this.verify(write);
      this.journal(write, was, check);
      const now = residualOf(check);
      rewrites.push({ goalMs: this.job.spreadGoalMs, residualBeforeMs: was.offsetMs!, residualBeforeBoundMs: was.boundMs!, residualAfterMs: now.residualMs, residualAfterBoundMs: now.residualBoundMs, latencyMs: resultOf(write).latencyMs, newTime: iso(write.sent.secondMs) });
    }
    return { write, check, rewrites, rewriteFailed: null };
  }

  /** Reads until the latest round trips agree (LATENCY_READS to LATENCY_MAX_READS more). */
  private async freshLatency(readings: Reading[]): Promise<void> {
    for (let i = 0; i < LATENCY_MAX_READS && (i < LATENCY_READS || !latencySettled(readings)); i++) readings.push(await this.io.reader.readClock());
  }

  /**
   * Sends the PUT so that it reaches the camera on `boundaryMs` (if the timer was off, on the next one), the body
   * built at the last moment for the second it will arrive in.
   */
  private async putAligned(readings: Reading[], boundaryMs: number): Promise<AlignedWrite> {
    const { clock, reader } = this.io;
    let oneWayMs = oneWayOf(readings);
    for (let attempt = 0; ; attempt++) {
      const target = attempt === 0 ? boundaryMs : planSecondAlignedSend(clock.now(), oneWayMs).boundaryMs;
      await this.waitForWall(target - oneWayMs);
      if (Math.abs(secondToWrite(clock.now(), oneWayMs).missMs) <= LANDING_TOLERANCE_MS || attempt >= 2) break;
    }
    let written: { secondMs: number; datetime: string; dst: boolean } | null = null;
    const body = () => {
      const { secondMs } = secondToWrite(clock.now(), oneWayMs);
      const value = formatCameraDateTime(secondMs, this.job.timezone);
      written = { secondMs, ...value };
      return value;
    };
    let put: Exchange;
    try {
      put = await reader.writeClock(body, { resendAfterChallenge: false });
    } catch (error) {
      if (!isRenewedChallenge(error)) throw error;
      // The camera wanted a fresh Digest nonce: resending now would land a round trip late. Plan the send
      // time again, for the next boundary, with the latency of now.
      oneWayMs = oneWayOf(readings);
      const target = planSecondAlignedSend(clock.now(), oneWayMs).boundaryMs;
      await this.waitForWall(target - oneWayMs);
      put = await reader.writeClock(body);
    }
    return { sent: written as unknown as { secondMs: number; datetime: string; dst: boolean }, put, oneWayMs };
  }

  /**
   * Reads the camera back and measures its residual. Throws CAMERA_REJECTED when it reads back far from what was
   * written; `unverifiedBecause` says why the residual is not claimed (null: verified).
   */
  private async verify(write: AlignedWrite): Promise<WriteCheck> {
    const { clock, reader } = this.io;
    // From the write on the camera's clock is a new one: its drift is measured afresh, from the read-back below.
    this.sink.clockSet();
    const { sent, put } = write;
    // Read back: the camera must now show the Pi's time, give or take its one-second resolution.
    let check: Reading;
    try {
      check = await reader.readClock();
    } catch (error) {
      // The camera took the time; it just cannot be checked now.
      return { after: null, unverifiedBecause: `the read-back failed: ${messageOf(error)}` };
    }
    const at = handledAt(check);
    const off = check.cameraMs + 500 - at.atMs;
    if (Math.abs(off) > 500 + at.boundMs + 250) {
      throw new DomainError(
        ErrorCode.CAMERA_REJECTED,
        `The camera accepted the new time but reads back ${iso(check.cameraMs)}, ${formatOffset(-off)} from the Pi's time`,
        { readBack: check.datetime, dst: check.dst },
      );
    }
    // Verify the same way as any measurement; where to look first is where the PUT should have put the phase
    // (only a guess: the readings alone decide what is claimed).
    let after: CameraMeasurement;
    let readings: Reading[];
    try {
      // No confirmation pair: nothing but this sync writes the camera's clock now (the exclusive session holds it).
      const hint = { low: sent.secondMs - put.receivedAtMs - HINT_MARGIN_MS, high: sent.secondMs - put.sentAtMs + HINT_MARGIN_MS };
      const phase = (await measureClock(this.io, { seed: [check], hint, confirm: false, loose: true }))!;
      after = toMeasurement(phase, MeasurementKind.AfterWrite, this.sink.cameraId);
      readings = phase.readings;
      this.sink.measured(after, phase.epoch, true);
    } catch (error) {
      this.sink.warn(`Measuring camera ${this.sink.cameraId} after its write failed: ${logText(messageOf(error))}`);
      return { after: null, unverifiedBecause: "the camera's next second tick was not seen" };
    }
    if (this.piStepped(clock)) {
      // The write used the Pi's time before or after a step, and the readings mix both: how good it is cannot be told.
      return { after, unverifiedBecause: 'the Pi clock was stepped during the sync', piStepped: true };
    }
    if (after.uncertain) return { after, unverifiedBecause: after.reason ?? 'the residual could not be measured' };
    return { after, unverifiedBecause: null, readings };
  }

  /**
   * A residual whose centre is beyond the spread goal but whose bound allows it within: more probes (not loose)
   * on the same readings. null if that failed or taught nothing certain (the first measurement stands).
   */
  private async refineAfter(after: CameraMeasurement, readings: Reading[]): Promise<CameraMeasurement | null> {
    try {
      // The clock has not been written since those readings: they still hold, and the new probes narrow them.
      const phase = (await measureClock(this.io, { seed: [...readings], confirm: false }))!;
      if (this.piStepped(this.io.clock) || phase.errorMs === null) return null;
      const tighter = toMeasurement(phase, MeasurementKind.AfterWrite, this.sink.cameraId);
      if (tighter.boundMs! >= after.boundMs!) return null;
      this.sink.measured(tighter, phase.epoch, true);
      return tighter;
    } catch (error) {
      this.sink.warn(`Measuring camera ${this.sink.cameraId} again after its write failed: ${logText(messageOf(error))}`);
      return null;
    }
  }

  /** One write, with the camera's error before it and what its check found after, to whoever journals it. */
  private journal(w: AlignedWrite, before: { offsetMs: number | null; boundMs: number | null }, check: WriteCheck): void {
    const verified = check.unverifiedBecause === null;
    this.sink.wrote({
      cameraId: this.sink.cameraId,
      at: iso(w.sent.secondMs),
      atMono: w.sent.secondMs - this.started.epoch,
      newTime: iso(w.sent.secondMs),
      datetime: w.sent.datetime,
      dst: w.sent.dst,
      timezone: this.job.timezone,
      reason: this.job.reason,
      beforeOffsetMs: before.offsetMs,
      beforeBoundMs: before.boundMs,
      afterOffsetMs: verified ? (check.after?.offsetMs ?? null) : null,
      afterBoundMs: verified ? (check.after?.boundMs ?? null) : null,
      verified,
    });
  }

  /**
   * Waits until the Pi's wall clock reads `wallMs`. The plan was made on the wall clock: if the Pi's clock was
   * stepped since the sync began (a phone's sync, someone's `date`), the plan means nothing any more (a step back
   * by days would wait days, holding every camera write): the sync stops with PI_CLOCK_STEPPED, and the cameras
   * are set again after the step, as after every step. No wait is longer than MAX_PLANNED_WAIT_MS either.
   */
  private async waitForWall(wallMs: number): Promise<void> {
    const { clock, waiter } = this.io;
    this.assertPiNotStepped();
    const wait = wallMs - clock.now();
    if (wait > MAX_PLANNED_WAIT_MS) throw piSteppedError(`a send time ${Math.round(wait)} ms ahead`);
    await waiter.until(clock.monotonic() + wait);
    this.assertPiNotStepped();
  }

  private assertPiNotStepped(): void {
    const shift = this.io.clock.epochOfMonotonic() - this.started.epoch;
    if (Math.abs(shift) > STEP_TOLERANCE_MS) throw piSteppedError(`stepped by ${Math.round(shift)} ms`);
  }

  private piStepped(clock: ClockIo['clock']): boolean {
    return Math.abs(clock.epochOfMonotonic() - this.started.epoch) > STEP_TOLERANCE_MS;
  }

  /**
   * Reads the camera's clock, paced, until its old error is known to TIGHT_ENOUGH_MS, while a read twice as
   * slow as the slowest of the latest still ends before `sendAtMs` (Pi time): the old error comes out to about a
   * round trip, the round trips stay fresh, and no read can hold up the PUT.
   */
  private async readWhileWaiting(readings: Reading[], sendAtMs: number): Promise<void> {
    const { clock, waiter, reader } = this.io;
    while (estimateClockError(readings).boundMs > TIGHT_ENOUGH_MS) {
      this.assertPiNotStepped();
      const room = 2 * Math.max(...readings.slice(-5).map(roundTripOf)) + PUT_GUARD_MS;
      if (clock.now() + room >= sendAtMs) return;
      readings.push(await reader.readClock());
      const pause = Math.min(WAIT_READ_SPACING_MS, sendAtMs - clock.now() - room);
      if (pause > 0) await waiter.until(clock.monotonic() + pause);
    }
  }
}

function piSteppedError(what: string): DomainError {
  return new DomainError(ErrorCode.PI_CLOCK_STEPPED, `The Pi's clock was changed while the camera was being set (${what}); the cameras are set again after every change of the Pi's clock`);
}

function residualOf(check: WriteCheck): WriteResidual {
  const verified = check.unverifiedBecause === null && check.after !== null && !check.after.uncertain;
  return { verified, residualMs: verified ? check.after!.offsetMs : null, residualBoundMs: verified ? check.after!.boundMs : null };
}

function resultOf(write: AlignedWrite): { newTime: string; datetime: string; dst: boolean; latencyMs: number } {
  return { newTime: iso(write.sent.secondMs), datetime: write.sent.datetime, dst: write.sent.dst, latencyMs: Math.round(write.oneWayMs * 10) / 10 };
}

/** Whether the latest three round trips agree with the estimate from all of them (the link is not changing right now). */
function latencySettled(readings: readonly ClockReading[]): boolean {
  const rtts = readings.map(roundTripOf);
  const estimate = recentRoundTripMs(rtts);
  if (estimate === null || rtts.length < 3) return false;
  return rtts.slice(-3).every((r) => Math.abs(r - estimate) <= Math.max(4, 0.3 * estimate));
}
