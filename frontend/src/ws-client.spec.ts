import type { ActivityEntry, ServerFrame } from '../../backend/protocol/messages';
import { ClientFrameType, ErrorCode, EventType, PROTOCOL_VERSION, Reliability, ServerFrameType } from '../../backend/protocol/vocabulary';
import { FakeStorage, FakeWebSocket, makeCamera, makeStatus } from '../test-support/fakes';
import { defaultSocketUrl, mergeLog, RELOADED_FOR_KEY, TimeSyncSocket, type TimeSyncSocketOptions } from './ws-client';

const entry = (seq: number, message = `m${seq}`): ActivityEntry => ({ seq, timestamp: '2026-11-25T08:00:00.000Z', type: 'sync', message, success: true, details: {} });
const log = (full: boolean, ...entries: ActivityEntry[]): ServerFrame => ({ type: ServerFrameType.ActivityLog, timestamp: '', data: { entries, full } });

describe(TimeSyncSocket.name, () => {
  let sut: TimeSyncSocket;
  let visible: boolean;
  let wall: number;
  let reload: jest.Mock<void, []>;
  let storage: FakeStorage;

  const create = (options: TimeSyncSocketOptions = {}) =>
    new TimeSyncSocket({
      url: 'ws://pi.test/ws',
      WebSocketImpl: FakeWebSocket,
      random: () => 1,
      now: () => Date.now(),
      wallNow: () => wall,
      isVisible: () => visible,
      timeZone: () => 'Europe/Berlin',
      reload,
      storage,
      ...options,
    });

  beforeEach(() => {
    jest.useFakeTimers();
    FakeWebSocket.reset();
    visible = true;
    wall = 1_764_057_600_000;
    reload = jest.fn();
    storage = new FakeStorage();
    sut = create();
  });

  afterEach(() => {
    sut.stop();
    jest.useRealTimers();
  });

  it('connects to the given url and reports connecting, then open', () => {
    const states: string[] = [];
    sut.subscribe(() => states.push(sut.getSnapshot().connection));
    sut.start();
    expect(FakeWebSocket.instances).toHaveLength(1);
    expect(FakeWebSocket.last.url).toBe('ws://pi.test/ws');
    expect(sut.getSnapshot().connection).toBe('connecting');
    FakeWebSocket.last.serverOpen();
    expect(sut.getSnapshot().connection).toBe('open');
    expect(states).toContain('open');
  });

  it("keeps what the hello says of this page (the Pi's own screen), and presents the kiosk secret in the socket's address", () => {
    expect(defaultSocketUrl({ protocol: 'http:', host: 'localhost:3000' }, 'a b')).toBe('ws://localhost:3000/ws?kiosk=a%20b');
    expect(defaultSocketUrl({ protocol: 'https:', host: 'pi' })).toBe('wss://pi/ws');
    sut.start();
    expect(sut.getSnapshot().hello).toBeNull();
    FakeWebSocket.last.serverOpen(PROTOCOL_VERSION, 'kiosk');
    expect(sut.getSnapshot().hello).toEqual({ screen: 'kiosk', maySetTime: true, trusted: false });
  });

  it('answers a time-sync request synchronously inside the message handler, echoing id and server time', () => {
    sut.start();
    const ws = FakeWebSocket.last;
    ws.serverOpen();
    ws.serverSend({ type: 'time-sync-request', serverTime: 123456.5, requestId: 'sync-1' });
    // No timers were run and no promise was awaited: the answer is already on the wire.
    expect(ws.sentFrames).toEqual([
      { type: 'time-sync-response', data: { clientTime: wall, serverTime: 123456.5, requestId: 'sync-1', timezone: 'Europe/Berlin' } },
    ]);
  });

  it('stamps the client time when the answer is sent, not earlier', () => {
    let calls = 0;
    sut = create({ wallNow: () => wall + 1000 * ++calls });
    sut.start();
    const ws = FakeWebSocket.last;
    ws.serverOpen();
    ws.serverSend({ type: 'time-sync-request', serverTime: 1, requestId: 'a' });
    ws.serverSend({ type: 'time-sync-request', serverTime: 2, requestId: 'b' });
    expect(ws.sentFrames.map((f) => f.data?.clientTime)).toEqual([wall + 1000, wall + 2000]);
  });

  it('does not answer while the page is hidden', () => {
    sut.start();
    const ws = FakeWebSocket.last;
    ws.serverOpen();
    visible = false;
    ws.serverSend({ type: 'time-sync-request', serverTime: 1, requestId: 'hidden' });
    expect(ws.sent).toHaveLength(0);
    visible = true;
    ws.serverSend({ type: 'time-sync-request', serverTime: 2, requestId: 'shown' });
    expect(ws.sentFrames.map((f) => f.data?.requestId)).toEqual(['shown']);
  });

  it('does not notify subscribers when it only answers a request', () => {
    const listener = jest.fn();
    sut.start();
    FakeWebSocket.last.serverOpen();
    sut.subscribe(listener);
    FakeWebSocket.last.serverSend({ type: 'time-sync-request', serverTime: 1, requestId: 'x' });
    expect(listener).not.toHaveBeenCalled();
  });

  it('keeps the latest status with the monotonic time it arrived', () => {
    sut.start();
    FakeWebSocket.last.serverOpen();
    const before = sut.getSnapshot();
    const status = makeStatus({ reliability: 'medium' });
    FakeWebSocket.last.serverSend({ type: 'time-sync-status', timestamp: '', data: status });
    const after = sut.getSnapshot();
    expect(after).not.toBe(before);
    expect(after.status).toEqual(status);
    expect(after.statusAt).toBe(Date.now());
  });

  it('ignores frames that are not JSON', () => {
    sut.start();
    const ws = FakeWebSocket.last;
    ws.serverOpen();
    const before = sut.getSnapshot();
    ws.onmessage?.({ data: 'not json{' });
    expect(sut.getSnapshot()).toBe(before);
  });

  it('records error frames with a sequence number', () => {
    sut.start();
    const ws = FakeWebSocket.last;
    ws.serverOpen();
    ws.serverSend({ type: 'error', data: { code: ErrorCode.NOT_ACCESS_POINT_CLIENT, message: 'nope' } });
    ws.serverSend({ type: 'error', data: { code: ErrorCode.NOT_ACCESS_POINT_CLIENT, message: 'nope' } });
    expect(sut.getSnapshot().lastError).toEqual({ code: ErrorCode.NOT_ACCESS_POINT_CLIENT, message: 'nope', action: undefined, seq: 2 });
  });

  it('takes an error that comes before the next status as the answer to the request just sent', () => {
    sut.start();
    const ws = FakeWebSocket.last;
    ws.serverOpen();
    expect(sut.send({ type: ClientFrameType.UseClientTime, data: {} })).toBe(true);
    ws.serverSend({ type: 'error', data: { code: ErrorCode.NO_TIME_SOURCE, message: 'no phone' } });
    expect(sut.getSnapshot().lastError).toMatchObject({ code: ErrorCode.NO_TIME_SOURCE, action: ClientFrameType.UseClientTime });
    // Answered: a later error is not.
    ws.serverSend({ type: 'error', data: { code: ErrorCode.LATE_RESPONSE, message: 'late' } });
    expect(sut.getSnapshot().lastError?.action).toBeUndefined();
    // A status is the answer of a request that worked: an error after it is not the request's.
    sut.send({ type: ClientFrameType.UseClientTime, data: {} });
    ws.serverSend({ type: 'time-sync-status', timestamp: '', data: makeStatus() });
    ws.serverSend({ type: 'error', data: { code: ErrorCode.LATE_RESPONSE, message: 'late' } });
    expect(sut.getSnapshot().lastError?.action).toBeUndefined();
  });

  it('never asks for the status: events and manual-set results change nothing, the status frame that follows does', () => {
    sut.start();
    const ws = FakeWebSocket.last;
    ws.serverOpen();
    ws.serverSend({ type: 'time-sync-status', timestamp: '', data: makeStatus() });
    const listener = jest.fn();
    sut.subscribe(listener);
    const before = sut.getSnapshot();
    const camera = makeCamera();
    ws.serverSend({ type: 'event', eventType: EventType.CameraConnected, timestamp: '', data: { ...camera, cameraId: camera.id } });
    ws.serverSend({ type: 'event', eventType: EventType.CameraSync, timestamp: '', data: { cameraId: camera.id, success: true, previousTime: null, newTime: null, offset: 1000 } });
    ws.serverSend({ type: 'event', eventType: EventType.ReliabilityLost, timestamp: '', data: { lastSyncTime: null, reliability: Reliability.Low } });
    ws.serverSend({ type: 'event', eventType: EventType.PiSync, timestamp: '', data: { synchronized: false, source: 'client', offset: null, reliability: Reliability.Low } });
    ws.serverSend({ type: 'manual-time-sync-result', timestamp: '', data: { success: true, offsetMs: 5, newTime: '' } });
    expect(sut.getSnapshot()).toBe(before);
    expect(listener).not.toHaveBeenCalled();
    expect(ws.sent).toEqual([]);
    const next = makeStatus({ cameras: [camera] });
    ws.serverSend({ type: 'time-sync-status', timestamp: '', data: next });
    expect(sut.getSnapshot().status).toEqual(next);
    expect(listener).toHaveBeenCalledTimes(1);
  });

  describe('protocol version', () => {
    it('runs on when the Pi speaks its version, and forgets an earlier reload', () => {
      storage.setItem(RELOADED_FOR_KEY, String(PROTOCOL_VERSION + 1));
      sut.start();
      FakeWebSocket.last.serverOpen(PROTOCOL_VERSION);
      expect(reload).not.toHaveBeenCalled();
      expect(storage.items.size).toBe(0);
      expect(sut.getSnapshot()).toMatchObject({ connection: 'open', versionMismatch: null });
    });

    it('reloads itself once when the Pi speaks another version, and stops talking to it', () => {
      sut.start();
      const ws = FakeWebSocket.last;
      ws.serverOpen(PROTOCOL_VERSION + 1);
      expect(reload).toHaveBeenCalledTimes(1);
      expect(storage.getItem(RELOADED_FOR_KEY)).toBe(String(PROTOCOL_VERSION + 1));
      expect(ws.closed).toBe(true);
      ws.serverSend({ type: 'time-sync-request', serverTime: 1, requestId: 'x' });
      expect(ws.sent).toEqual([]);
      jest.advanceTimersByTime(60_000);
      expect(FakeWebSocket.instances).toHaveLength(1);
    });

    it('does not reload again for the same version (the reloaded page is still stale): it says so instead', () => {
      storage.setItem(RELOADED_FOR_KEY, String(PROTOCOL_VERSION + 1));
      sut.start();
      FakeWebSocket.last.serverOpen(PROTOCOL_VERSION + 1);
      expect(reload).not.toHaveBeenCalled();
      expect(sut.getSnapshot()).toMatchObject({ connection: 'open', versionMismatch: { page: PROTOCOL_VERSION, server: PROTOCOL_VERSION + 1 } });
      // A newer server after that is another update: one more reload.
      FakeWebSocket.last.serverClose();
      jest.advanceTimersByTime(500);
      FakeWebSocket.last.serverOpen(PROTOCOL_VERSION + 2);
      expect(reload).toHaveBeenCalledTimes(1);
      expect(storage.getItem(RELOADED_FOR_KEY)).toBe(String(PROTOCOL_VERSION + 2));
    });

    it('does not reload without storage to remember it (no loop), and clears the notice once the versions agree', () => {
      sut = create({ storage: null });
      sut.start();
      FakeWebSocket.last.serverOpen(PROTOCOL_VERSION - 1);
      expect(reload).not.toHaveBeenCalled();
      expect(sut.getSnapshot().versionMismatch).toEqual({ page: PROTOCOL_VERSION, server: PROTOCOL_VERSION - 1 });
      FakeWebSocket.last.serverClose();
      jest.advanceTimersByTime(500);
      FakeWebSocket.last.serverOpen(PROTOCOL_VERSION);
      expect(sut.getSnapshot().versionMismatch).toBeNull();
    });

    it('does not reload when storage throws', () => {
      const throwing = { getItem: () => { throw new Error('denied'); }, setItem: jest.fn(), removeItem: jest.fn() };
      sut = create({ storage: throwing });
      sut.start();
      FakeWebSocket.last.serverOpen(PROTOCOL_VERSION + 1);
      expect(reload).not.toHaveBeenCalled();
      expect(sut.getSnapshot().versionMismatch).not.toBeNull();
    });

    it('reloads when the operator asks', () => {
      sut.reloadPage();
      expect(reload).toHaveBeenCalledTimes(1);
    });
  });

  describe('activity log', () => {
    const messages = () => sut.getSnapshot().activityLog.map((e) => e.message);

    it('takes the full list, then appends updates by seq without duplicates', () => {
      sut.start();
      const ws = FakeWebSocket.last;
      ws.serverOpen();
      ws.serverSend(log(true, entry(1), entry(2)));
      ws.serverSend(log(false, entry(3)));
      ws.serverSend(log(false, entry(2), entry(3))); // already there
      ws.serverSend(log(false, entry(4, 'd')));
      expect(sut.getSnapshot().activityLog.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
      expect(messages()).toEqual(['m1', 'm2', 'm3', 'd']);
    });

    it('orders by seq whatever order the entries come in', () => {
      sut.start();
      FakeWebSocket.last.serverOpen();
      FakeWebSocket.last.serverSend(log(true, entry(2), entry(1)));
      FakeWebSocket.last.serverSend(log(false, entry(5)));
      FakeWebSocket.last.serverSend(log(false, entry(3)));
      expect(sut.getSnapshot().activityLog.map((e) => e.seq)).toEqual([1, 2, 3, 5]);
    });

    it('keeps the snapshot when an update adds nothing new', () => {
      sut.start();
      FakeWebSocket.last.serverOpen();
      FakeWebSocket.last.serverSend(log(true, entry(1)));
      const before = sut.getSnapshot().activityLog;
      FakeWebSocket.last.serverSend(log(false, entry(1)));
      expect(sut.getSnapshot().activityLog).toBe(before);
    });

    it('replaces the log with a full list (after a reconnect the server may have restarted: seq starts again)', () => {
      sut.start();
      FakeWebSocket.last.serverOpen();
      FakeWebSocket.last.serverSend(log(true, entry(7, 'old'), entry(8, 'older run')));
      FakeWebSocket.last.serverClose();
      jest.advanceTimersByTime(500);
      FakeWebSocket.last.serverOpen();
      FakeWebSocket.last.serverSend(log(true, entry(1, 'new')));
      expect(messages()).toEqual(['new']);
      FakeWebSocket.last.serverSend(log(true));
      expect(messages()).toEqual([]);
    });

    it('lets a full list that follows an early update replace it', () => {
      sut.start();
      FakeWebSocket.last.serverOpen();
      FakeWebSocket.last.serverSend(log(false, entry(3)));
      FakeWebSocket.last.serverSend(log(true, entry(1), entry(2), entry(3)));
      expect(sut.getSnapshot().activityLog.map((e) => e.seq)).toEqual([1, 2, 3]);
    });

    it('keeps the last 100 entries, by seq', () => {
      sut.start();
      FakeWebSocket.last.serverOpen();
      FakeWebSocket.last.serverSend(log(true, ...Array.from({ length: 100 }, (_, i) => entry(i + 1))));
      FakeWebSocket.last.serverSend(log(false, entry(101), entry(102)));
      const seqs = sut.getSnapshot().activityLog.map((e) => e.seq);
      expect(seqs).toHaveLength(100);
      expect(seqs[0]).toBe(3);
      expect(seqs[99]).toBe(102);
      const many = Array.from({ length: 150 }, (_, i) => entry(150 - i));
      expect(mergeLog([], many).map((e) => e.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 51));
    });

    it('ignores entries without a seq and a frame without entries', () => {
      sut.start();
      FakeWebSocket.last.serverOpen();
      FakeWebSocket.last.serverSend(log(true, entry(1)));
      FakeWebSocket.last.serverSend({ type: ServerFrameType.ActivityLog, timestamp: '', data: { entries: [{ message: 'no seq' }], full: false } });
      FakeWebSocket.last.serverSend({ type: ServerFrameType.ActivityLog, timestamp: '', data: { full: false } });
      expect(messages()).toEqual(['m1']);
    });
  });

  describe('reconnecting', () => {
    it('retries with capped exponential backoff and resets it once open', () => {
      sut.start();
      const delays: number[] = [];
      for (let i = 0; i < 7; i++) {
        FakeWebSocket.last.serverClose();
        expect(sut.getSnapshot().connection).toBe('reconnecting');
        const count = FakeWebSocket.instances.length;
        const start = Date.now();
        while (FakeWebSocket.instances.length === count) jest.advanceTimersByTime(10);
        delays.push(Date.now() - start);
      }
      // random() = 1 gives the full capped delay: 0.5 s doubling up to 10 s.
      expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 10000, 10000]);
      FakeWebSocket.last.serverOpen();
      expect(sut.getSnapshot()).toMatchObject({ connection: 'open', attempt: 0 });
      FakeWebSocket.last.serverClose();
      const count = FakeWebSocket.instances.length;
      jest.advanceTimersByTime(500);
      expect(FakeWebSocket.instances.length).toBe(count + 1);
    });

    it('jitters the delay between half and all of the cap', () => {
      sut = create({ random: () => 0 });
      sut.start();
      FakeWebSocket.last.serverClose();
      jest.advanceTimersByTime(249);
      expect(FakeWebSocket.instances).toHaveLength(1);
      jest.advanceTimersByTime(1);
      expect(FakeWebSocket.instances).toHaveLength(2);
    });

    it('abandons an attempt that never opens', () => {
      sut = create({ connectTimeoutMs: 3000 });
      sut.start();
      jest.advanceTimersByTime(3000);
      expect(FakeWebSocket.instances[0].closed).toBe(true);
      expect(sut.getSnapshot().connection).toBe('reconnecting');
      jest.advanceTimersByTime(500);
      expect(FakeWebSocket.instances).toHaveLength(2);
    });

    it('reconnects at once when asked, skipping the wait', () => {
      sut.start();
      for (let i = 0; i < 5; i++) {
        FakeWebSocket.last.serverClose();
        jest.advanceTimersByTime(10_000);
      }
      FakeWebSocket.last.serverClose();
      const count = FakeWebSocket.instances.length;
      sut.reconnectNow();
      expect(FakeWebSocket.instances.length).toBe(count + 1);
    });

    it('when the page becomes visible: reconnects at once if down, asks for a fresh status if up', () => {
      sut.start();
      FakeWebSocket.last.serverClose();
      visible = false;
      document.dispatchEvent(new Event('visibilitychange'));
      expect(FakeWebSocket.instances).toHaveLength(1);
      visible = true;
      document.dispatchEvent(new Event('visibilitychange'));
      expect(FakeWebSocket.instances).toHaveLength(2);
      FakeWebSocket.last.serverOpen();
      document.dispatchEvent(new Event('visibilitychange'));
      expect(FakeWebSocket.last.sentFrames).toEqual([{ type: 'get-time-sync-status', data: {} }]);
    });

    it('stops for good when stopped', () => {
      sut.start();
      const ws = FakeWebSocket.last;
      ws.serverOpen();
      sut.stop();
      expect(ws.closed).toBe(true);
      jest.advanceTimersByTime(60_000);
      expect(FakeWebSocket.instances).toHaveLength(1);
    });
  });

  it('sends frames only while open', () => {
    sut.start();
    expect(sut.send({ type: ClientFrameType.UseClientTime, data: {} })).toBe(false);
    FakeWebSocket.last.serverOpen();
    expect(sut.send({ type: ClientFrameType.UseClientTime, data: {} })).toBe(true);
    expect(FakeWebSocket.last.sentFrames).toEqual([{ type: 'use-client-time', data: {} }]);
  });
});
