import type { ActivityEntry, CameraStatus, PendingDecision, ServerFrame, TimeSyncStatus } from '../../backend/protocol/messages';
import { ActivityType, CameraState, ClockBackend, DecisionKind, PROTOCOL_VERSION, Reliability, SyncSource, type Screen } from '../../backend/protocol/vocabulary';
import type { WebSocketLike } from '../src/ws-client';
import type { SessionCameraReport, SessionReport } from '../src/api';

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
  /** Opens, and says hello as the gateway does first on every connection. */
  serverOpen(protocolVersion: number = PROTOCOL_VERSION, screen: Screen = 'phone'): void {
    this.readyState = 1;
    this.onopen?.({});
    this.serverSend({ type: 'hello', protocolVersion, connectionId: `conn-${FakeWebSocket.instances.indexOf(this)}`, trusted: screen === 'phone', maySetTime: screen !== 'other', screen });
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

export function makeCamera(overrides: Partial<CameraStatus> = {}): CameraStatus {
  const state = overrides.state ?? CameraState.Connected;
  return {
    id: '012345678901',
    state,
    connected: state === CameraState.Connected,
    baseUrl: 'http://192.168.4.2:8080',
    info: { manufacturer: 'Canon Inc.', productName: 'Canon EOS R6', serialNumber: '012345678901' },
    lastSync: null,
    lastError: null,
    ...overrides,
  };
}

/** A status as the gateway sends it (no activity log: that comes in its own frames). */
export function makeStatus(overrides: Partial<TimeSyncStatus> = {}): TimeSyncStatus {
  const base: TimeSyncStatus = {
    isSynchronized: true,
    lastSyncTime: '2026-11-25T08:00:00.000Z',
    syncSource: SyncSource.Client,
    sourceLabel: 'a phone',
    reliability: Reliability.High,
    lastOffsetMs: 1502.4,
    errorBoundMs: 3.2,
    lastSyncAgeMs: 120_000,
    sourceClient: '10.42.0.5',
    canSetTime: true,
    screen: 'phone',
    accessPointClients: 1,
    // Monotonic 0 was 08:00:00 on the Pi's clock: an entry at monotonicMs 60 000 happened at 08:01:00.
    piWallMinusMonotonicMs: Date.parse('2026-11-25T08:00:00.000Z'),
    operatorHold: false,
    decision: null,
    journal: { writable: true, path: '/var/lib/pi-timesync/clock-journal.jsonl', error: null },
    pi: {
      timestamp: '2026-11-25T08:02:00.000Z',
      epochMs: Date.parse('2026-11-25T08:02:00.000Z'),
      timezone: 'Europe/Berlin',
      utcOffsetMinutes: 60,
      estimatedErrorMs: 3.2,
      isDst: false,
      source: SyncSource.Client,
      reliability: Reliability.High,
      ntpSynchronized: false,
      backend: ClockBackend.System,
    },
    cameras: [],
    camera: makeCamera({ id: 'none', state: CameraState.Disconnected, baseUrl: null, info: null }),
  };
  const status = { ...base, ...overrides, pi: { ...base.pi, ...overrides.pi } };
  if (overrides.cameras && !overrides.camera && overrides.cameras[0]) status.camera = overrides.cameras[0];
  return status;
}

export function makeDecision(overrides: Partial<PendingDecision> = {}): PendingDecision {
  return {
    kind: DecisionKind.ManualDisagrees,
    client: '10.42.0.5',
    offsetMs: 3_600_000,
    errorBoundMs: 3,
    clientTime: '2026-11-25T09:02:00.000Z',
    piTime: '2026-11-25T08:02:00.000Z',
    clientZone: 'Europe/Berlin',
    piZone: 'Europe/Berlin',
    piSource: SyncSource.Manual,
    source: SyncSource.Client,
    at: '2026-11-25T08:02:00.000Z',
    message: "10.42.0.5's clock is 1 h ahead of the time set by hand. Keep the Pi's time, or use the phone's?",
    ...overrides,
  };
}

let seq = 0;
export function makeEntry(overrides: Partial<ActivityEntry> = {}): ActivityEntry {
  return { seq: ++seq, timestamp: '2026-11-25T08:00:00.000Z', type: ActivityType.Sync, message: `entry ${seq}`, success: true, details: {}, ...overrides };
}

/** An in-memory sessionStorage whose items the test can read. */
export class FakeStorage implements Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> {
  readonly items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, String(value));
  }
  removeItem(key: string): void {
    this.items.delete(key);
  }
}

export const SESSION_ID = 's-20261125-070000-3f9a2c';

/** One camera of a session report: set 3 s back at the start, measured at the stop, its drift known. */
export function makeSessionCamera(overrides: Partial<SessionCameraReport> = {}): SessionCameraReport {
  return {
    cameraId: '012345678901',
    serial: '012345678901',
    start: { cameraId: '012345678901', serial: '012345678901', success: true, outcome: 'written-verified', correctedFromMs: 3012, offsetMs: 4, boundMs: 6, verified: true },
    end: { cameraId: '012345678901', serial: '012345678901', success: true, correctedFromMs: null, offsetMs: 16, boundMs: 6 },
    driftMsPerDay: 72,
    driftBoundMsPerDay: 84,
    driftKnown: true,
    driftSummary: '+72 ms/day (±84)',
    writes: [],
    correction: [
      {
        index: 2,
        extrapolated: false,
        unusable: null,
        segments: [
          { from: '2026:11:25 08:00:00.004', to: '2026:11:25 10:00:00.010', shiftMs: -7, boundMs: 12, offsetTime: null },
          { from: '2026:11:25 10:00:00.010', to: '2026:11:25 12:00:00.016', shiftMs: -13, boundMs: 12, offsetTime: null },
        ],
      },
    ],
    leftAlone: [],
    ...overrides,
  };
}

/** A stopped session's report as GET /api/session/<id>/report answers it (times: the Pi's clock, UTC). */
export function makeSessionReport(overrides: Partial<SessionReport> = {}): SessionReport {
  return {
    id: SESSION_ID,
    state: 'stopped',
    label: null,
    startedBy: '10.42.0.5',
    startedAt: '2026-11-25T07:00:00.000Z',
    stoppedAt: '2026-11-25T11:00:02.000Z',
    durationMs: 4 * 3_600_000 + 2000,
    cameras: [makeSessionCamera()],
    piSteps: [],
    zoneChanges: [],
    skipped: [],
    damaged: [],
    files: {
      exiftool: `/api/timesync/corrections?session=${SESSION_ID}&format=exiftool`,
      json: `/api/timesync/corrections?session=${SESSION_ID}`,
      geosync: { '012345678901': `/api/timesync/corrections?session=${SESSION_ID}&format=geosync&camera=012345678901` },
    },
    ...overrides,
  };
}
