import { DomainError, ErrorCode } from '../common/domain-error';
import { logText } from '../common/escape';

/**
 * A camera's key in statuses, events and REST: its serial number, else its UPnP id (GUID), else a name made
 * from its address. Only letters, digits, ".", "_" and "-", so an id is never a path, markup or a shell word.
 */
export const MAX_CAMERA_ID_LENGTH = 64;
export const CAMERA_ID_PATTERN = /^(?!\.+$)[A-Za-z0-9._-]{1,64}$/;

/** The id as given if it has the shape of one; throws INVALID_CAMERA_ID naming the problem otherwise. Checks shape only, not existence. */
export function assertCameraId(value: unknown): string {
  const bad = (why: string): never => {
    throw new DomainError(ErrorCode.INVALID_CAMERA_ID, `${quoteId(value)} is not a camera id: ${why}`);
  };
  if (typeof value !== 'string') return bad(Array.isArray(value) ? 'give one id, not a list' : 'expected text');
  if (value.length === 0) return bad('it is empty');
  if (value.length > MAX_CAMERA_ID_LENGTH) return bad(`it is longer than ${MAX_CAMERA_ID_LENGTH} characters`);
  const wrong = /[^A-Za-z0-9._-]/.exec(value);
  if (wrong) return bad(`"${logText(wrong[0])}" is not allowed (only letters, digits, ".", "_" and "-")`);
  if (!CAMERA_ID_PATTERN.test(value)) return bad('it is only dots');
  return value;
}

/** What is known about a camera that can name it. */
export interface CameraIdentity {
  serialNumber?: string;
  /** GUID from `deviceinformation`, or the UPnP UDN (`uuid:...`). */
  guid?: string;
}

/** The id of a camera: serial number, else GUID, else a name from its address (`192.168.4.2_8080`). */
export function cameraIdFor(identity: CameraIdentity, url: string): string {
  return safeId(identity.serialNumber) ?? safeId(identity.guid?.replace(/^uuid:/i, '')) ?? addressId(url);
}

/** `http://192.168.4.2:8080/ccapi` -> `192.168.4.2_8080`; `https://[fe80::1]` -> `fe80--1_443`. */
export function addressId(url: string): string {
  try {
    const parsed = new URL(url);
    const port = parsed.port || (parsed.protocol === 'https:' ? '443' : '80');
    return safeId(`${parsed.hostname.replace(/^\[|\]$/g, '')}_${port}`) ?? 'camera';
  } catch {
    return safeId(url) ?? 'camera';
  }
}

/** `text` with every character outside [A-Za-z0-9._-] replaced by "-", cut to the maximum length; null if nothing is left. */
function safeId(text: string | undefined): string | null {
  if (!text) return null;
  const id = text.trim().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, MAX_CAMERA_ID_LENGTH);
  return CAMERA_ID_PATTERN.test(id) && /[A-Za-z0-9]/.test(id) ? id : null;
}

function quoteId(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  const clean = text.replace(/[^\x20-\x7e]/g, '?');
  return JSON.stringify(clean.length > 80 ? `${clean.slice(0, 80)}…` : clean);
}
