/**
 * The words the server and the page share: every code, level and source that crosses the wire, as `as const`
 * objects (no enums: the page compiles with erasableSyntaxOnly). DTOs, Swagger enums and the page derive
 * from these; nothing else spells them.
 */

/** Bumped whenever a frame changes shape; the server says it on connect and a page built for another reloads. */
export const PROTOCOL_VERSION = 3 as const;

export const ErrorCode = {
  BAD_REQUEST: 'BAD_REQUEST',
  INVALID_JSON: 'INVALID_JSON',
  UNKNOWN_MESSAGE_TYPE: 'UNKNOWN_MESSAGE_TYPE',
  FRAME_TOO_LARGE: 'FRAME_TOO_LARGE',
  BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  /** JSON nested deeper than MAX_JSON_DEPTH (checked before anything walks it). */
  TOO_DEEP: 'TOO_DEEP',
  /** A `__proto__`, `constructor` or `prototype` key, at any depth. */
  FORBIDDEN_KEY: 'FORBIDDEN_KEY',
  /** Over the per-connection frame/byte budget (then closed), or too many REST writes from one address. */
  RATE_LIMITED: 'RATE_LIMITED',
  /** A REST write whose body is not `application/json` (a form or text/plain: what another site's page can send). */
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  /** A write or a WebSocket from a page of another origin (Origin, or Sec-Fetch-Site: cross-site). */
  FOREIGN_ORIGIN: 'FOREIGN_ORIGIN',
  /** A request whose Host is none of the Pi's names (DNS rebinding). */
  FOREIGN_HOST: 'FOREIGN_HOST',
  INVALID_TIMESTAMP: 'INVALID_TIMESTAMP',
  IMPLAUSIBLE_TIME: 'IMPLAUSIBLE_TIME',
  INVALID_TIMEZONE: 'INVALID_TIMEZONE',
  NOT_ACCESS_POINT_CLIENT: 'NOT_ACCESS_POINT_CLIENT',
  UNKNOWN_REQUEST_ID: 'UNKNOWN_REQUEST_ID',
  LATE_RESPONSE: 'LATE_RESPONSE',
  DUPLICATE_RESPONSE: 'DUPLICATE_RESPONSE',
  NTP_SYNCHRONIZED: 'NTP_SYNCHRONIZED',
  NO_TIME_SOURCE: 'NO_TIME_SOURCE',
  SYNC_FAILED: 'SYNC_FAILED',
  CLOCK_PERMISSION_DENIED: 'CLOCK_PERMISSION_DENIED',
  CLOCK_WRITE_FAILED: 'CLOCK_WRITE_FAILED',
  JOURNAL_UNWRITABLE: 'JOURNAL_UNWRITABLE',
  JOURNAL_UNREADABLE: 'JOURNAL_UNREADABLE',
  /** A camera write while the Pi's reliability is none, without the operator's confirmation. */
  PI_TIME_UNRELIABLE: 'PI_TIME_UNRELIABLE',
  NO_CAMERA: 'NO_CAMERA',
  /** A "sync cameras" in which some cameras failed and others were set (HTTP 207; per-camera results in the body). */
  CAMERA_SYNC_PARTIAL: 'CAMERA_SYNC_PARTIAL',
  /** A "sync cameras" in which every camera failed, in different ways (HTTP 502; per-camera results in the body). */
  CAMERA_SYNC_FAILED: 'CAMERA_SYNC_FAILED',
  PI_CLOCK_STEPPED: 'PI_CLOCK_STEPPED',
  UNKNOWN_CAMERA: 'UNKNOWN_CAMERA',
  INVALID_CAMERA_ID: 'INVALID_CAMERA_ID',
  /** A photo fix asked for a camera whose serial number holds characters no camera body carries: not used to pick photos. */
  UNSAFE_CAMERA_SERIAL: 'UNSAFE_CAMERA_SERIAL',
  CAMERA_BUSY: 'CAMERA_BUSY',
  CAMERA_REJECTED: 'CAMERA_REJECTED',
  CAMERA_TIMEOUT: 'CAMERA_TIMEOUT',
  CAMERA_CONNECTION_RESET: 'CAMERA_CONNECTION_RESET',
  CAMERA_AUTH_REQUIRED: 'CAMERA_AUTH_REQUIRED',
  CAMERA_BAD_ANSWER: 'CAMERA_BAD_ANSWER',
  CAMERA_UNREACHABLE: 'CAMERA_UNREACHABLE',
  SESSION_RUNNING: 'SESSION_RUNNING',
  NO_SESSION: 'NO_SESSION',
  UNKNOWN_SESSION: 'UNKNOWN_SESSION',
  INVALID_SESSION_ID: 'INVALID_SESSION_ID',
  EMPTY_JOURNAL: 'EMPTY_JOURNAL',
  NO_CORRECTION: 'NO_CORRECTION',
  SELECTION_REQUIRED: 'SELECTION_REQUIRED',
  /** POST /api/slate/photos: no file in the form field `photos`, or more than the request may hold. */
  NO_PHOTO: 'NO_PHOTO',
  TOO_MANY_PHOTOS: 'TOO_MANY_PHOTOS',
  /** A slate photo over SLATE_MAX_PHOTO_BYTES (HTTP 413, the whole request). */
  PHOTO_TOO_LARGE: 'PHOTO_TOO_LARGE',
  /** A slate photo refused (HTTP 422 when every photo of the request is): what it lacks, in plain words. */
  EMPTY_PHOTO: 'EMPTY_PHOTO',
  NOT_A_JPEG: 'NOT_A_JPEG',
  NO_SLATE_CODE: 'NO_SLATE_CODE',
  NOT_A_SLATE_CODE: 'NOT_A_SLATE_CODE',
  SEVERAL_CODES: 'SEVERAL_CODES',
  FOREIGN_SLATE: 'FOREIGN_SLATE',
  SLATE_TOO_SLOW: 'SLATE_TOO_SLOW',
  NO_EXIF_TIME: 'NO_EXIF_TIME',
  SLATE_CLOCK_UNKNOWN: 'SLATE_CLOCK_UNKNOWN',
  SLATE_IN_FUTURE: 'SLATE_IN_FUTURE',
  /** Every photo of a request was refused, for different reasons (HTTP 422; each photo's refusal in `results`). */
  SLATE_PHOTOS_REFUSED: 'SLATE_PHOTOS_REFUSED',
  /** TIME_SERVER=chrony and chronyd is absent, does not answer, or does not take the time (see TIME_SERVER_FALLBACK). */
  TIME_SERVER_UNAVAILABLE: 'TIME_SERVER_UNAVAILABLE',
  /** Measure by photo: the camera did not take the picture (out of focus, a mode that cannot shoot, its card). */
  SHUTTER_REFUSED: 'SHUTTER_REFUSED',
  /** Measure by photo: no new image appeared in the camera's events within CAMERA_PHOTO_TIMEOUT of the shutter press. */
  NO_NEW_PHOTO: 'NO_NEW_PHOTO',
  /** Measure by photo: the camera recorded no JPEG (RAW only, or a movie): the slate is read from a JPEG. */
  NO_JPEG_RECORDED: 'NO_JPEG_RECORDED',
  INTERNAL: 'INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** How far the Pi's time can be trusted; ranked high > medium > low > none. */
export const Reliability = { High: 'high', Medium: 'medium', Low: 'low', None: 'none' } as const;
export type Reliability = (typeof Reliability)[keyof typeof Reliability];
export const RELIABILITY_LEVELS: readonly Reliability[] = [Reliability.None, Reliability.Low, Reliability.Medium, Reliability.High];

/**
 * Where the Pi's time came from. A new source is one value here, one label below, one ranking entry
 * (`backend/sources/ranking.ts`) and its adapter module under `backend/sources/`.
 */
export const SyncSource = { Ntp: 'ntp', Manual: 'manual', Gps: 'gps', Client: 'client', Camera: 'camera', Rtc: 'rtc', None: 'none' } as const;
export type SyncSource = (typeof SyncSource)[keyof typeof SyncSource];

/** Each source in plain words, as the log and the page say it ("the Pi keeps its time from GPS"). */
export const SOURCE_LABELS: Readonly<Record<SyncSource, string>> = {
  ntp: 'network time (NTP)',
  manual: 'the time set by hand',
  gps: 'GPS',
  client: 'a phone',
  camera: "a camera's clock",
  rtc: "the Pi's hardware clock",
  none: 'nowhere',
};

/**
 * Which screen a page is on, as the server sees it: the Pi's own touchscreen (proved by the kiosk secret, from
 * loopback), a phone on the Pi's Wi-Fi access point, or anything else (a laptop on another network, an SSH
 * tunnel, a local process). The Pi's own screen is never a time source: its browser reads the Pi's own clock.
 */
export const Screen = { Kiosk: 'kiosk', Phone: 'phone', Other: 'other' } as const;
export type Screen = (typeof Screen)[keyof typeof Screen];

/** The query parameter of the kiosk URL (`/?kiosk=<secret>`, and `/ws?kiosk=<secret>`) and the REST header carrying the secret. */
export const KIOSK_QUERY = 'kiosk' as const;
export const KIOSK_HEADER = 'x-kiosk-token' as const;

/**
 * The header a slate photo upload (multipart, the one write that is not JSON) must carry: a form on another
 * site can post multipart without asking, but cannot add a header without the browser asking the Pi first.
 */
export const UPLOAD_HEADER = 'x-timesync-upload' as const;

/** How a camera's clock was measured: over CCAPI (the default of older records) or from a photo of the time slate. */
export const CameraMeasureMethod = { Ccapi: 'ccapi', Slate: 'slate' } as const;
export type CameraMeasureMethod = (typeof CameraMeasureMethod)[keyof typeof CameraMeasureMethod];

export const ActivityType = { Sync: 'sync', Error: 'error', Manual: 'manual', Camera: 'camera' } as const;
export type ActivityType = (typeof ActivityType)[keyof typeof ActivityType];

export const ClockBackend = { Simulated: 'simulated', System: 'system' } as const;
export type ClockBackend = (typeof ClockBackend)[keyof typeof ClockBackend];

/**
 * A camera as the operator should understand it: answering and usable; answering but refusing our user
 * name and password (present, needs credentials); or not answering.
 */
export const CameraState = { Connected: 'connected', NeedsCredentials: 'needs-credentials', Disconnected: 'disconnected' } as const;
export type CameraState = (typeof CameraState)[keyof typeof CameraState];

/**
 * What one camera sync did to one camera, the one word the REST answer, the WebSocket frames, `lastSync`, the
 * activity log, the journal and the page all use: written and read back with a measured residual; written but
 * not verified; measured within CAMERA_SYNC_THRESHOLD of the Pi and so not written; failed.
 */
export const CameraSyncKind = {
  WrittenVerified: 'written-verified',
  WrittenUnverified: 'written-unverified',
  MeasuredKept: 'measured-kept',
  Failed: 'failed',
} as const;
export type CameraSyncKind = (typeof CameraSyncKind)[keyof typeof CameraSyncKind];

/** Each outcome in words (the activity log and the page say the same). */
export const CAMERA_SYNC_WORDS: Readonly<Record<CameraSyncKind, string>> = {
  'written-verified': 'set and verified',
  'written-unverified': 'set, not verified',
  'measured-kept': 'kept, not written',
  failed: 'not set, the sync failed',
};

/**
 * The journal record each outcome leaves: a write (verified or not) is `camera-write`; a camera kept within the
 * threshold was only measured, so `camera-measure`; a failed sync is a `camera-write` with `success: false`
 * (an attempt, never cited as a write by the photo fixes).
 */
export const JOURNAL_KIND_OF_CAMERA_SYNC = {
  'written-verified': 'camera-write',
  'written-unverified': 'camera-write',
  'measured-kept': 'camera-measure',
  failed: 'camera-write',
} as const satisfies Record<CameraSyncKind, 'camera-write' | 'camera-measure'>;

/** Why an automatic sync measured but did not step: the operator decides. */
export const DecisionKind = {
  /** The operator set the time by hand; a client's time disagrees. */
  ManualDisagrees: 'manual-disagrees',
  /** The Pi was synchronized and the client is off by about a whole number of quarter hours: a zone or DST mistake? */
  SuspectedZoneMistake: 'suspected-zone-mistake',
  /** A capture session runs: nothing is stepped automatically (a step mid-timelapse breaks the sequence). */
  SessionRunning: 'session-running',
} as const;
export type DecisionKind = (typeof DecisionKind)[keyof typeof DecisionKind];

export const EventType = {
  PiSync: 'pi-sync',
  CameraSync: 'camera-sync',
  ReliabilityLost: 'reliability-lost',
  CameraConnected: 'camera-connected',
  CameraDisconnected: 'camera-disconnected',
} as const;
export type EventType = (typeof EventType)[keyof typeof EventType];

export const ClientFrameType = {
  TimeSyncResponse: 'time-sync-response',
  ManualTimeSync: 'manual-time-sync',
  GetTimeSyncStatus: 'get-time-sync-status',
  SyncCamera: 'sync-camera',
  UseClientTime: 'use-client-time',
  SessionStart: 'session-start',
  SessionStop: 'session-stop',
} as const;
export type ClientFrameType = (typeof ClientFrameType)[keyof typeof ClientFrameType];
export const CLIENT_FRAME_TYPES: readonly ClientFrameType[] = Object.values(ClientFrameType);

export const ServerFrameType = {
  Hello: 'hello',
  TimeSyncRequest: 'time-sync-request',
  TimeSyncStatus: 'time-sync-status',
  ActivityLog: 'activity_log',
  Error: 'error',
  ManualTimeSyncResult: 'manual-time-sync-result',
  SessionResult: 'session-result',
  Event: 'event',
} as const;
export type ServerFrameType = (typeof ServerFrameType)[keyof typeof ServerFrameType];
