import type { ServerFrame, TimeSyncStatus } from '../../backend/protocol/messages';
import type { WebSocketLike } from '../src/ws-client';

/** A WebSocket the test drives by hand: it records what the page sends and opens/closes on request. */
export class FakeWebSocket implements WebSocketLike {
  static instances: FakeWebSocket[] = [];
  static get last(): FakeWebSocket {
    return FakeWebSocket.instances[FakeWebSocket.instances.length - 1];
  }
  static reset(): void {
    FakeWebSocket.instances = [];
  }

  readyState = 0;
  sent: string[] = [];
  closed = false;
  onopen: ((ev: unknown) => void) | null = null;
  onclose: ((ev: unknown) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;

  readonly url: string;

  constructor(url: string) {
    this.url = url;
    FakeWebSocket.instances.push(this);
  }

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('send on a socket that is not open');
    this.sent.push(data);
  }

  close(): void {
    this.closed = true;
    this.readyState = 3;
  }

  get sentFrames(): Array<{ type: string; data?: Record<string, unknown> }> {
    return this.sent.map((s) => JSON.parse(s));
  }

  // ---- driven by the test ----
  serverOpen(): void {
    this.readyState = 1;
    this.onopen?.({});
  }

  serverSend(frame: ServerFrame | Record<string, unknown>): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }

  serverClose(): void {
    this.readyState = 3;
    this.onerror?.({});
    this.onclose?.({ code: 1006 });
  }
}

export function makeStatus(overrides: Partial<TimeSyncStatus> = {}): TimeSyncStatus {
  const base: TimeSyncStatus = {
    isSynchronized: true,
    lastSyncTime: '2026-11-25T08:00:00.000Z',
    syncSource: 'client',
    reliability: 'high',
    lastOffsetMs: 1502.4,
    errorBoundMs: 3.2,
    lastSyncAgeMs: 120_000,
    sourceClient: '10.42.0.5',
    canSetTime: true,
    activityLog: [],
    pi: {
      timestamp: '2026-11-25T08:02:00.000Z',
      epochMs: Date.parse('2026-11-25T08:02:00.000Z'),
      timezone: 'Europe/Berlin',
      utcOffsetMinutes: 60,
      estimatedErrorMs: 3.2,
      isDst: false,
      source: 'client',
      reliability: 'high',
      ntpSynchronized: false,
      backend: 'system',
    },
    camera: { connected: false, baseUrl: null, info: null, lastSync: null, lastError: null },
  };
  return { ...base, ...overrides, pi: { ...base.pi, ...overrides.pi }, camera: { ...base.camera, ...overrides.camera } };
}
