/**
 * Errors the services throw. Each carries a stable code; one filter per transport maps codes to HTTP
 * statuses and WebSocket error frames, so domain code never throws HTTP exceptions.
 */
import { ErrorCode } from '../protocol/vocabulary';

export { ErrorCode };

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
  CAMERA_SYNC_PARTIAL: 207,
  CAMERA_SYNC_FAILED: 502,
  PI_CLOCK_STEPPED: 409,
  PI_TIME_UNRELIABLE: 409,
  BODY_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  UNSUPPORTED_MEDIA_TYPE: 415,
  FOREIGN_ORIGIN: 403,
  FOREIGN_HOST: 421,
  NO_TIME_SOURCE: 409,
  UNKNOWN_CAMERA: 404,
  SYNC_FAILED: 502,
  CLOCK_PERMISSION_DENIED: 500,
  CLOCK_WRITE_FAILED: 500,
  // 503, not 500: nothing is broken in the server; clock changes are unavailable until the operator fixes
  // DATA_DIR (read-only, full, a file, the journal a folder), and then work again without a restart.
  JOURNAL_UNWRITABLE: 503,
  JOURNAL_UNREADABLE: 503,
  TIME_SERVER_UNAVAILABLE: 503,
  CAMERA_BUSY: 503,
  CAMERA_REJECTED: 502,
  CAMERA_TIMEOUT: 504,
  CAMERA_CONNECTION_RESET: 502,
  CAMERA_AUTH_REQUIRED: 502,
  CAMERA_BAD_ANSWER: 502,
  CAMERA_UNREACHABLE: 502,
  SESSION_RUNNING: 409,
  NO_SESSION: 409,
  UNKNOWN_SESSION: 404,
  INVALID_SESSION_ID: 400,
  EMPTY_JOURNAL: 404,
  NO_CORRECTION: 404,
  SELECTION_REQUIRED: 400,
  NO_PHOTO: 400,
  TOO_MANY_PHOTOS: 400,
  PHOTO_TOO_LARGE: 413,
  EMPTY_PHOTO: 422,
  NOT_A_JPEG: 422,
  NO_SLATE_CODE: 422,
  NOT_A_SLATE_CODE: 422,
  SEVERAL_CODES: 422,
  FOREIGN_SLATE: 422,
  SLATE_TOO_SLOW: 422,
  NO_EXIF_TIME: 422,
  SLATE_CLOCK_UNKNOWN: 422,
  SLATE_IN_FUTURE: 422,
  SLATE_PHOTOS_REFUSED: 422,
  SHUTTER_REFUSED: 502,
  NO_NEW_PHOTO: 504,
  NO_JPEG_RECORDED: 409,
  INTERNAL: 500,
};

/** The message of anything thrown, for logs and plain-words answers. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
