/**
 * The WebSocket wire protocol, shared by the backend and the page. Every frame is `{ type, ... }` as in the
 * design document. The words (codes, levels, sources, frame and event types) live in `vocabulary.ts`.
 * Every time on the wire is an integer number of milliseconds or an ISO 8601 string.
 */
import type { ActivityType, CameraState, CameraSyncKind, ClockBackend, DecisionKind, Reliability, Screen, SyncSource } from './vocabulary';

export * from './vocabulary';

export const MAX_FRAME_BYTES = 16 * 1024;

export interface ActivityEntry {
  /** Increases by one per entry within a server run: the order things happened in, whatever the clock did. */
  seq: number;
  /** Wall time when it happened (the Pi's clock then, which may since have been stepped). */
  timestamp: string;
  /**
   * When it happened on the server's monotonic clock, ms. Plus the status's `piWallMinusMonotonicMs` it is the
   * moment in the Pi's current time, so a log that spans a step of the clock still reads in order.
   */
  monotonicMs?: number;
  type: ActivityType;
  message: string;
  success: boolean;
  details: { source?: string; offset?: number; error?: string; [key: string]: unknown };
}

export interface PiClockStatus {
  timestamp: string;
  epochMs: number;
  timezone: string;
  utcOffsetMinutes: number;
  isDst: boolean;
  source: SyncSource;
  reliability: Reliability;
  /** Error bound of the last sync (ms) when the source gave one; null if unknown. */
  estimatedErrorMs: number | null;
  ntpSynchronized: boolean;
  backend: ClockBackend;
  /** The Pi's drift against the phones that synced it (from successive client syncs); null until two agree. */
  drift?: ClockDrift | null;
  /**
   * A bound on the Pi's error against its source now, ms: the error left by the last client sync plus the drift
   * times the time since (an assumed 50 ppm while the drift is unknown); null before a client sync.
   */
  errorNowMs?: number | null;
}

/** How fast a clock drifts from its reference, from successive measurements (a weighted fit with a bound that holds if their bounds did). */
export interface ClockDrift {
  /** Parts per million, positive: the clock gains; the true rate lies within ±boundPpm. */
  ppm: number;
  boundPpm: number;
  /** The same in seconds per day. */
  sPerDay: number;
  boundSPerDay: number;
  samples: number;
  /** From the first to the last measurement, ms. */
  spanMs: number;
  /** The bound is small enough (at most 1 s/day) for the figure to mean something; until then show "not known yet". */
  known: boolean;
  /** While not `known`: about how much longer the measurements must span, ms; 0 once known. */
  knownInMs: number;
}

/** A camera's clock as its last read-only measurement found it, and what that means now. */
export interface CameraClockCheck {
  /** Camera minus Pi, ms, within ±boundMs, at `checkedAt` (the Pi's time then), `ageMs` ago (monotonic). */
  offsetMs: number;
  boundMs: number;
  checkedAt: string;
  ageMs: number;
  /** Against the Pi's clock; null until two measurements since the last write. */
  drift: ClockDrift | null;
  /**
   * A bound on |camera - Pi| now, ms: |offset + drift x age| + bound + drift bound x age (with an assumed 50 ppm
   * while `driftMeasured` is false), following any step of the Pi's clock since.
   */
  errorNowMs: number;
  driftMeasured: boolean;
}

export interface CameraInfo {
  productName?: string;
  serialNumber?: string;
  firmwareVersion?: string;
  manufacturer?: string;
  /** SSDP/UPnP unique id, when discovered. */
  guid?: string;
}

export interface CameraSyncSummary {
  success: boolean;
  /** What the sync did (absent from servers before it): the word the log, the journal and the page share. */
  outcome?: CameraSyncKind;
  at: string;
  /** Pi minus camera before the write, ms. */
  offsetMs: number | null;
  /** Camera minus Pi after the write, ms, when it was measured with a bound that means something. */
  residualMs: number | null;
  residualBoundMs?: number | null;
  /** True when the write was read back and its residual measured; false: "set, not verified". */
  verified?: boolean;
  /** false: measured within CAMERA_SYNC_THRESHOLD, not written (`residualMs` is that measurement). */
  written?: boolean;
  /** Not written: the CAMERA_SYNC_THRESHOLD it was found within, ms. */
  thresholdMs?: number;
  error?: string;
}

export interface CameraStatus {
  /** The camera's key: its serial number, else its UPnP id, else a name made from its address. [A-Za-z0-9._-] only. */
  id: string;
  state: CameraState;
  /** `state === 'connected'`, kept for older clients. */
  connected: boolean;
  baseUrl: string | null;
  info: CameraInfo | null;
  /** Last camera clock sync, if any. */
  lastSync: CameraSyncSummary | null;
  lastError: string | null;
  /** The last read-only measurement of its clock (absent or null: none since it connected or was written unverified). */
  clock?: CameraClockCheck | null;
}

/** One camera's part of a "sync cameras" (POST /api/timesync/camera): its result, or why it failed. */
export type CameraSyncOutcome =
  | {
      cameraId: string;
      success: true;
      outcome?: CameraSyncKind;
      offset: number | null;
      residualMs: number | null;
      residualBoundMs?: number | null;
      verified?: boolean;
      newTime?: string;
      written?: boolean;
      thresholdMs?: number;
    }
  | { cameraId: string; success: false; outcome?: CameraSyncKind; code: string; error: string };

/** An automatic sync that measured but did not step: the operator decides (`use-client-time`). */
export interface PendingDecision {
  kind: DecisionKind;
  /** The client whose time disagrees (its address). */
  client: string;
  /** Client minus Pi, ms, and how far that can be off. */
  offsetMs: number;
  errorBoundMs: number;
  /** The client's and the Pi's time at the measurement (ISO), and zones, for the sentence on the page. */
  clientTime: string;
  piTime: string;
  clientZone: string | null;
  piZone: string;
  /** Where the Pi's current time came from (e.g. `manual`). */
  piSource: SyncSource;
  /** The source whose time disagrees (`client`: a phone; `gps`...). */
  source: SyncSource;
  at: string;
  /** The decision in plain words. */
  message: string;
}

/** What the first-run demo (DEMO, simulated clock only) put in place, for the page's banner. */
export interface DemoStatus {
  /** The simulated camera's CCAPI URL, when the demo started one (CAMERA_URL was empty). */
  cameraUrl: string | null;
  /** Loopback counts as a phone on the access point (AP_SUBNETS was not set). */
  loopbackTrusted: boolean;
  /** The connection that receives this status is loopback and so trusted by the demo (absent without a caller). */
  thisBrowserTrusted?: boolean;
}

/** A time source besides the phones, as the status shows it (GPS, the hardware clock, NTP). */
export interface SourceStatus {
  source: SyncSource;
  /** Which one: a GPS device, "rtc0", "timedated". */
  who: string;
  /** Its state in plain words: "3D fix, calibrated against a phone", "no fix", "gpsd not running". */
  state: string;
  /** Whether it gives time now. */
  active: boolean;
  /** The Pi has no such source at all (no gpsd running, no hardware clock): the page leaves it out, the API says it. */
  absent?: boolean;
  /** Its error bound now, ms; null when it gives no time. */
  errorBoundMs: number | null;
  facts?: Readonly<Record<string, string | number | boolean | null>>;
}

/**
 * The Pi as an NTP server (TIME_SERVER=chrony): chrony keeps the clock and serves it; this is chrony's own view,
 * read with chronyc. Absent with TIME_SERVER=off.
 */
export interface TimeServerStatus {
  engine: 'chrony';
  /**
   * `serving`: chrony follows the product's best source and serves it; `following`: it follows another NTP server
   * (the leader of NTP_FOLLOW, or the internet); `local`: no fresh source, it serves the clock as it runs (its local
   * stratum); `unsynchronised`: it has no time to serve yet; `down`: chronyd does not answer the product.
   */
  state: 'serving' | 'following' | 'local' | 'unsynchronised' | 'down';
  /** The state in words for the page ("serving to 3 clients", "following 10.42.0.1 over NTP, ±1.2 ms"). */
  summary: string;
  /** NTP_FOLLOW: the leader this Pi follows, or null (this Pi leads). */
  following: string | null;
  /** Whether that leader answers chrony now; null without a leader. */
  leaderReachable: boolean | null;
  /** The source chrony uses (an address), null when none. */
  reference: string | null;
  /** The stratum it serves (its source's plus one, or its local stratum); null when chronyd does not answer. */
  stratum: number | null;
  /** True time minus the Pi's clock, as chrony sees it, ms. */
  offsetMs: number | null;
  /** Root delay / 2 + root dispersion, ms: how far chrony's time may be from true time. */
  errorBoundMs: number | null;
  /** NTP clients heard from in the last hour; null when chronyd does not tell (it answers that on its command socket only). */
  clients: number | null;
  /** What is wrong, in words (chronyd not answering, the feed's port taken); null when nothing. */
  error: string | null;
}

export interface TimeSyncStatus {
  isSynchronized: boolean;
  lastSyncTime: string | null;
  syncSource: SyncSource;
  /** `syncSource` in plain words (SOURCE_LABELS), so a page shows a source it does not know by name. */
  sourceLabel: string;
  /** The sources that report by themselves (GPS, the hardware clock), with their state; absent from older servers. */
  sources?: SourceStatus[];
  reliability: Reliability;
  lastOffsetMs: number | null;
  errorBoundMs: number | null;
  /** Milliseconds since the last successful sync on the monotonic clock, null if never. */
  lastSyncAgeMs: number | null;
  sourceClient: string | null;
  /** Whether the connection that receives this status may set the time. */
  canSetTime?: boolean;
  /** Which screen the connection that receives this status is on (the Pi's own, a phone on its Wi-Fi, other). */
  screen?: Screen;
  /** Pages connected from the Pi's Wi-Fi access point (possible time sources) right now. */
  accessPointClients: number;
  /** The Pi's wall clock minus the server's monotonic clock now: maps an activity entry's `monotonicMs` to the Pi's current time. */
  piWallMinusMonotonicMs: number;
  /** The operator set the time by hand: automatic syncs measure but do not step until they choose a client's time. */
  operatorHold: boolean;
  /** A disagreement waiting for the operator, or null. */
  decision: PendingDecision | null;
  /** The capture session running (nothing is stepped automatically), or null. Absent from servers before sessions. */
  session?: { id: string; startedAt: string } | null;
  /** The last 100 activity entries (REST). Over the WebSocket they come in `activity_log` frames instead. */
  activityLog?: ActivityEntry[];
  /** Can clock changes be journaled? When not, every change of the Pi's clock is refused (JOURNAL_UNWRITABLE). */
  journal: { writable: boolean; path: string; error: string | null };
  pi: PiClockStatus;
  /** Every camera known, connected first. */
  cameras: CameraStatus[];
  /** The first-run demo (simulated clock, DEMO on), or null/absent outside it. */
  demo?: DemoStatus | null;
  /** The first of `cameras` (or a disconnected placeholder), for clients of protocol version 1. */
  camera: CameraStatus;
  /** The Pi as an NTP server (TIME_SERVER=chrony); absent when the product does not serve time. */
  timeServer?: TimeServerStatus;
}

/** GET /api/screen/connect: how a phone joins the Pi's Wi-Fi and opens the page (shown on the Pi's own screen). */
export interface ConnectInfo {
  /** The access point's name; null when neither NetworkManager nor AP_SSID tells it. */
  ssid: string | null;
  /** The Wi-Fi password, only when AP_SHOW_PASSWORD is on and the caller is the Pi's screen or a phone on its Wi-Fi. */
  password: string | null;
  /** The page's address on the access point (`http://10.42.0.1/`); null when the access point's address is unknown. */
  pageUrl: string | null;
  /** `WIFI:T:WPA;S:<ssid>;P:<password>;;` as a QR code (SVG), for the Pi's screen or a phone on its Wi-Fi only; null otherwise or without SSID. */
  wifiQrSvg: string | null;
  /** `pageUrl` as a QR code (SVG); null without it. */
  pageQrSvg: string | null;
  /** Where the name and password came from. */
  from: 'settings' | 'networkmanager' | 'none';
}

// ---- client to server -------------------------------------------------------------------------

export interface TimeSyncResponseFrame {
  type: 'time-sync-response';
  data: { clientTime: number | string; serverTime: number; requestId: string; timezone?: string };
}
export interface ManualTimeSyncFrame {
  type: 'manual-time-sync';
  data: { timestamp: string; timezone?: string };
}
export interface GetTimeSyncStatusFrame {
  type: 'get-time-sync-status';
  data?: Record<string, never>;
}
export interface SyncCameraFrame {
  type: 'sync-camera';
  /** No id: every connected camera. `confirm`: write even though the Pi's reliability is none (else PI_TIME_UNRELIABLE). */
  data?: { id?: string; confirm?: boolean };
}
/** The operator's answer to a pending decision: take this client's time (a fresh burst, then a step). */
export interface UseClientTimeFrame {
  type: 'use-client-time';
  data?: Record<string, never>;
}
/** Start a capture session (the same authority as setting the clock); answered with `session-result`. */
export interface SessionStartFrame {
  type: 'session-start';
  /** `confirm`: correct the cameras even though the Pi's own time is not reliable (else PI_TIME_UNRELIABLE). */
  data?: { label?: string; confirm?: boolean };
}
/** Stop the capture session; answered with `session-result` carrying the report. */
export interface SessionStopFrame {
  type: 'session-stop';
  data?: Record<string, never>;
}
export type ClientFrame = TimeSyncResponseFrame | ManualTimeSyncFrame | GetTimeSyncStatusFrame | SyncCameraFrame | UseClientTimeFrame | SessionStartFrame | SessionStopFrame;

/**
 * The keys each client frame's `data` may hold. Anything else is refused (BAD_REQUEST) by the frame parser, for
 * every frame type alike and before any handler runs: a frame is either whole and known, or refused.
 */
export const CLIENT_FRAME_DATA_KEYS = {
  'time-sync-response': ['clientTime', 'serverTime', 'requestId', 'timezone'],
  'manual-time-sync': ['timestamp', 'timezone'],
  'get-time-sync-status': [],
  'sync-camera': ['id', 'confirm'],
  'use-client-time': [],
  'session-start': ['label', 'confirm'],
  'session-stop': [],
} as const satisfies { [F in ClientFrame as F['type']]: readonly (keyof NonNullable<F['data']> & string)[] };

// ---- server to client -------------------------------------------------------------------------

/** First frame on every connection. */
export interface HelloFrame {
  type: 'hello';
  protocolVersion: number;
  connectionId: string;
  /** Whether this connection may be a time source (a page on the Pi's Wi-Fi access point, not the Pi's own screen). */
  trusted: boolean;
  /** Whether it may set the time by hand, choose a phone's time and set the cameras (the Pi's own screen may; it is no source). */
  maySetTime: boolean;
  /** Which screen this page is on. */
  screen: Screen;
}
export interface TimeSyncRequestFrame {
  type: 'time-sync-request';
  serverTime: number;
  requestId: string;
}
export interface StatusFrame {
  type: 'time-sync-status';
  timestamp: string;
  data: TimeSyncStatus;
}
/**
 * The design's activity log frame. `full: true` (sent on connect): `entries` is the whole log, oldest first.
 * `full: false`: `entries` are new ones to append (by `seq`).
 */
export interface ActivityLogFrame {
  type: 'activity_log';
  timestamp: string;
  data: { entries: ActivityEntry[]; full: boolean };
}
export interface ErrorFrame {
  type: 'error';
  timestamp?: string;
  data: { code: string; message: string; requestId?: string };
}
export interface ManualTimeSyncResultFrame {
  type: 'manual-time-sync-result';
  timestamp: string;
  data: { success: boolean; offsetMs: number; newTime: string };
}
/** One camera at the start or the end of a capture session (answer, journal record, report): camera minus Pi, ms. */
export interface SessionCameraResult {
  cameraId: string;
  serial: string | null;
  success: boolean;
  /** At the start: what its sync did (a camera within CAMERA_SYNC_THRESHOLD is `measured-kept`, not corrected). */
  outcome?: CameraSyncKind;
  code?: string;
  error?: string;
  /** Before a correction; null when the camera was not written. */
  correctedFromMs: number | null;
  /** After it (or as measured); null when not known (set, not verified; or uncertain). */
  offsetMs: number | null;
  boundMs: number | null;
  verified?: boolean;
}
/** The answer to `session-start` (the session and each camera after the start's corrections) or `session-stop` (the report, as GET /api/session/<id>/report). */
export interface SessionResultFrame {
  type: 'session-result';
  timestamp: string;
  data: {
    action: 'start' | 'stop';
    /** start: the session and each camera after the start's corrections. */
    session?: { id: string; startedAt: string; label: string | null; cameras: SessionCameraResult[] };
    /** stop: the report (its other fields as GET /api/session/<id>/report). */
    report?: { id: string; state: 'running' | 'stopped'; startedAt: string; stoppedAt: string | null };
  };
}
export interface PiSyncEvent {
  type: 'event';
  eventType: 'pi-sync';
  timestamp: string;
  data: { synchronized: boolean; source: SyncSource; offset: number | null; reliability: Reliability; errorBoundMs?: number; stepped?: boolean; error?: string };
}
export interface CameraSyncEvent {
  type: 'event';
  eventType: 'camera-sync';
  timestamp: string;
  data: {
    cameraId: string;
    success: boolean;
    /** What the sync did: written-verified, written-unverified, measured-kept or failed. */
    outcome: CameraSyncKind;
    previousTime: string | null;
    newTime: string | null;
    offset: number | null;
    residualMs?: number | null;
    error?: string;
    /** false: measured within `thresholdMs` of the Pi and not written (`residualMs ± residualBoundMs` is that measurement). */
    written?: boolean;
    residualBoundMs?: number | null;
    verified?: boolean;
    thresholdMs?: number;
    /** How far off `offset` can be, ms. */
    offsetBoundMs?: number | null;
    /** The Pi's time when it took effect: the second written, or the measurement of a camera kept. */
    at?: string;
    /** The Pi's clock was stepped during the write: its offsets straddle two references. */
    piSteppedDuring?: boolean;
  };
}
export interface ReliabilityLostEvent {
  type: 'event';
  eventType: 'reliability-lost';
  timestamp: string;
  data: { lastSyncTime: string | null; reliability: Reliability };
}
export interface CameraConnectionEvent {
  type: 'event';
  eventType: 'camera-connected' | 'camera-disconnected';
  timestamp: string;
  data: CameraStatus & { cameraId: string };
}
export type ServerEvent = PiSyncEvent | CameraSyncEvent | ReliabilityLostEvent | CameraConnectionEvent;
export type ServerFrame = HelloFrame | TimeSyncRequestFrame | StatusFrame | ActivityLogFrame | ErrorFrame | ManualTimeSyncResultFrame | ServerEvent;
/** Every frame a page can receive, the session answer included (kept apart from ServerFrame, whose fakes in the page's specs it would tighten). */
export type AnyServerFrame = ServerFrame | SessionResultFrame;
