/**
 * Errors the services throw. Each carries a stable code; one filter per transport maps codes to HTTP
 * statuses and WebSocket error frames, so domain code never throws HTTP exceptions.
 */
export const ErrorCode = {
  BAD_REQUEST: 'BAD_REQUEST',
  INVALID_JSON: 'INVALID_JSON',
  UNKNOWN_MESSAGE_TYPE: 'UNKNOWN_MESSAGE_TYPE',
  FRAME_TOO_LARGE: 'FRAME_TOO_LARGE',
  INVALID_TIMESTAMP: 'INVALID_TIMESTAMP',
  IMPLAUSIBLE_TIME: 'IMPLAUSIBLE_TIME',
  INVALID_TIMEZONE: 'INVALID_TIMEZONE',
  NOT_ACCESS_POINT_CLIENT: 'NOT_ACCESS_POINT_CLIENT',
  UNKNOWN_REQUEST_ID: 'UNKNOWN_REQUEST_ID',
  LATE_RESPONSE: 'LATE_RESPONSE',
  DUPLICATE_RESPONSE: 'DUPLICATE_RESPONSE',
  NTP_SYNCHRONIZED: 'NTP_SYNCHRONIZED',
  CLOCK_PERMISSION_DENIED: 'CLOCK_PERMISSION_DENIED',
  CLOCK_WRITE_FAILED: 'CLOCK_WRITE_FAILED',
  JOURNAL_UNWRITABLE: 'JOURNAL_UNWRITABLE',
  JOURNAL_UNREADABLE: 'JOURNAL_UNREADABLE',
  NO_CAMERA: 'NO_CAMERA',
  CAMERA_BUSY: 'CAMERA_BUSY',
  CAMERA_REJECTED: 'CAMERA_REJECTED',
  CAMERA_TIMEOUT: 'CAMERA_TIMEOUT',
  CAMERA_CONNECTION_RESET: 'CAMERA_CONNECTION_RESET',
  CAMERA_AUTH_REQUIRED: 'CAMERA_AUTH_REQUIRED',
  CAMERA_BAD_ANSWER: 'CAMERA_BAD_ANSWER',
  CAMERA_UNREACHABLE: 'CAMERA_UNREACHABLE',
  INTERNAL: 'INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

/** HTTP status for each code; anything missing is a 400. */
export const HTTP_STATUS_OF: Partial<Record<ErrorCode, number>> = {
  NOT_ACCESS_POINT_CLIENT: 403,
  NTP_SYNCHRONIZED: 409,
  NO_CAMERA: 409,
  CLOCK_PERMISSION_DENIED: 500,
  CLOCK_WRITE_FAILED: 500,
  // 503, not 500: nothing is broken in the server; clock changes are unavailable until the operator fixes
  // DATA_DIR (read-only, full, a file, the journal a folder), and then work again without a restart.
  JOURNAL_UNWRITABLE: 503,
  JOURNAL_UNREADABLE: 503,
  CAMERA_BUSY: 503,
  CAMERA_REJECTED: 502,
  CAMERA_TIMEOUT: 504,
  CAMERA_CONNECTION_RESET: 502,
  CAMERA_AUTH_REQUIRED: 502,
  CAMERA_BAD_ANSWER: 502,
  CAMERA_UNREACHABLE: 502,
  INTERNAL: 500,
};

/** The message of anything thrown, for logs and plain-words answers. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
