/**
 * The WebSocket wire protocol, shared by the backend and the page (imported type-only by the frontend).
 * Every frame is `{ type, ... }` as in the design document; no enums, so the frontend can erase it.
 */
export const PROTOCOL_VERSION = 1 as const;
export const MAX_FRAME_BYTES = 16 * 1024;

export type Reliability = 'high' | 'medium' | 'low' | 'none';
export type SyncSource = 'client' | 'manual' | 'ntp' | 'camera' | 'none';
export type ActivityType = 'sync' | 'error' | 'manual' | 'camera';
export type ClockBackend = 'simulated' | 'system';

export interface ActivityEntry {
  timestamp: string;
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
}

export interface CameraInfo {
  productName?: string;
  serialNumber?: string;
  firmwareVersion?: string;
  manufacturer?: string;
}

export interface CameraStatus {
  connected: boolean;
  baseUrl: string | null;
  info: CameraInfo | null;
  /** Last camera clock sync, if any. */
  lastSync: {
    success: boolean;
    at: string;
    offsetMs: number | null;
    residualMs: number | null;
    error?: string;
  } | null;
  lastError: string | null;
}

export interface TimeSyncStatus {
  isSynchronized: boolean;
  lastSyncTime: string | null;
  syncSource: SyncSource;
  reliability: Reliability;
  lastOffsetMs: number | null;
  errorBoundMs: number | null;
  /** Seconds since the last successful sync on the monotonic clock, null if never. */
  lastSyncAgeMs: number | null;
  sourceClient: string | null;
  /** Whether the connection that receives this status may set the time. */
  canSetTime?: boolean;
  activityLog: ActivityEntry[];
  pi: PiClockStatus;
  camera: CameraStatus;
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
  data?: Record<string, never>;
}
export type ClientFrame = TimeSyncResponseFrame | ManualTimeSyncFrame | GetTimeSyncStatusFrame | SyncCameraFrame;
export const CLIENT_FRAME_TYPES = ['time-sync-response', 'manual-time-sync', 'get-time-sync-status', 'sync-camera'] as const;

// ---- server to client -------------------------------------------------------------------------

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
export interface ActivityLogFrame {
  type: 'activity_log';
  timestamp: string;
  data: { entries: ActivityEntry[] };
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
export interface PiSyncEvent {
  type: 'event';
  eventType: 'pi-sync';
  timestamp: string;
  data: { synchronized: boolean; source: SyncSource; offset: number; reliability: Reliability; errorBoundMs?: number; stepped?: boolean };
}
export interface CameraSyncEvent {
  type: 'event';
  eventType: 'camera-sync';
  timestamp: string;
  data: { success: boolean; previousTime: string | null; newTime: string | null; offset: number | null; residualMs?: number | null; error?: string };
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
  data: CameraStatus;
}
export type ServerEvent = PiSyncEvent | CameraSyncEvent | ReliabilityLostEvent | CameraConnectionEvent;
export type ServerFrame =
  | TimeSyncRequestFrame
  | StatusFrame
  | ActivityLogFrame
  | ErrorFrame
  | ManualTimeSyncResultFrame
  | ServerEvent;
