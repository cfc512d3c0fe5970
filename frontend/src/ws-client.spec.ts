import type { ActivityEntry } from '../../backend/protocol/messages';
import { FakeWebSocket, makeStatus } from '../test-support/fakes';
import { mergeLog, TimeSyncSocket, type TimeSyncSocketOptions } from './ws-client';

const entry = (message: string, timestamp = '2026-11-25T08:00:00.000Z'): ActivityEntry => ({ timestamp, type: 'sync', message, success: true, details: {} });

describe(TimeSyncSocket.name, () => {
  let sut: TimeSyncSocket;
  let visible: boolean;
  let wall: number;

  const create = (options: TimeSyncSocketOptions = {}) =>
    new TimeSyncSocket({
      url: 'ws://pi.test/ws',
      WebSocketImpl: FakeWebSocket,
      random: () => 1,
      now: () => Date.now(),
      wallNow: () => wall,
      isVisible: () => visible,
      timeZone: () => 'Europe/Berlin',
      ...options,
    });

  beforeEach(() => {
    jest.useFakeTimers();
    FakeWebSocket.reset();
    visible = true;
    wall = 1_764_057_600_000;
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

  it('answers a time-sync request synchronously inside the message handler, echoing id and server time', () => {
    sut.start();
    const ws = FakeWebSocket.last;
    ws.serverOpen();
    ws.serverSend({ type: 'time-sync-request', serverTime: 123456.5, requestId: 'sync-1' });
    // No timers were run and no promise was awaited: the answer is already on the wire.
    expect(ws.sentFrames).toEqual([
      { type: 'time-sync-response', data: { clientTime: wall, serverTime: 123456.5, requestId: 'sync-1', timezone: 'Europe/Berlin' } },
    ]);
    expect(sut.answeredCount).toBe(1);
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

  it('records error frames with a sequence number and events', () => {
    sut.start();
    const ws = FakeWebSocket.last;
    ws.serverOpen();
    ws.serverSend({ type: 'error', data: { code: 'NOT_ACCESS_POINT_CLIENT', message: 'nope' } });
    ws.serverSend({ type: 'error', data: { code: 'NOT_ACCESS_POINT_CLIENT', message: 'nope' } });
    expect(sut.getSnapshot().lastError).toEqual({ code: 'NOT_ACCESS_POINT_CLIENT', message: 'nope', requestId: undefined, seq: 2 });
    const event = { type: 'event', eventType: 'reliability-lost', timestamp: '', data: { lastSyncTime: null, reliability: 'low' } } as const;
    ws.serverSend(event);
    expect(sut.getSnapshot().lastEvent).toEqual(event);
    expect(ws.sentFrames).toEqual([{ type: 'get-time-sync-status', data: {} }]);
  });

  it('asks for a fresh status after each event, and applies camera connection changes at once', () => {
    sut.start();
    const ws = FakeWebSocket.last;
    ws.serverOpen();
    ws.serverSend({ type: 'time-sync-status', timestamp: '', data: makeStatus() });
    const camera = { connected: true, baseUrl: 'http://192.168.4.2:8080', info: { productName: 'Canon EOS R50' }, lastSync: null, lastError: null };
    ws.serverSend({ type: 'event', eventType: 'camera-connected', timestamp: '', data: camera });
    expect(sut.getSnapshot().status?.camera).toEqual(camera);
    ws.serverSend({ type: 'event', eventType: 'camera-sync', timestamp: '', data: { success: true, previousTime: null, newTime: null, offset: 1000 } });
    expect(ws.sentFrames).toEqual([
      { type: 'get-time-sync-status', data: {} },
      { type: 'get-time-sync-status', data: {} },
    ]);
  });

  describe('activity log', () => {
    it('takes the first list of a connection as the whole log and merges later ones without duplicates', () => {
      sut.start();
      const ws = FakeWebSocket.last;
      ws.serverOpen();
      ws.serverSend({ type: 'activity_log', timestamp: '', data: { entries: [entry('a'), entry('b')] } });
      ws.serverSend({ type: 'activity_log', timestamp: '', data: { entries: [entry('a'), entry('b'), entry('c')] } });
      ws.serverSend({ type: 'activity_log', timestamp: '', data: { entries: [entry('d')] } });
      expect(sut.getSnapshot().activityLog.map((e) => e.message)).toEqual(['a', 'b', 'c', 'd']);
    });

    it('replaces the log after a reconnect (the server may have restarted with an empty log)', () => {
      sut.start();
      FakeWebSocket.last.serverOpen();
      FakeWebSocket.last.serverSend({ type: 'activity_log', timestamp: '', data: { entries: [entry('old')] } });
      FakeWebSocket.last.serverClose();
      jest.advanceTimersByTime(500);
      FakeWebSocket.last.serverOpen();
      FakeWebSocket.last.serverSend({ type: 'activity_log', timestamp: '', data: { entries: [entry('new')] } });
      expect(sut.getSnapshot().activityLog.map((e) => e.message)).toEqual(['new']);
    });

    it('keeps the last 100 entries', () => {
      const many = Array.from({ length: 150 }, (_, i) => entry(`m${i}`));
      expect(mergeLog([], many)).toHaveLength(100);
      expect(mergeLog([], many)[99].message).toBe('m149');
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
    expect(sut.requestStatus()).toBe(false);
    FakeWebSocket.last.serverOpen();
    expect(sut.requestStatus()).toBe(true);
    expect(FakeWebSocket.last.sentFrames).toEqual([{ type: 'get-time-sync-status', data: {} }]);
  });
});
