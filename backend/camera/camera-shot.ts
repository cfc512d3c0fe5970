/**
 * Taking one photo with a camera over CCAPI and bringing its JPEG back: the shutter, the camera's events
 * (`event/polling`, whose `addedcontents` names each file written to the card), the file (`?kind=original`).
 * Over a small port (`ShotIo`), so the sequence and its refusals are tested against scripted camera answers.
 *
 * What real cameras do (public client code and logs of R10, R50, R100, RP bodies):
 * - `GET event/polling` without a query answers at once with what changed since the last poll (the first poll of
 *   a connection: the whole state). Events left from before (an earlier shot) are drained first, so the file
 *   waited for is this shot's.
 * - Some firmware keeps event polling "started" between connections and answers 503 "Already started": a
 *   `DELETE event/polling` stops it, then polling works again.
 * - RAW+JPEG reports two files (`.CR3` and `.JPG`), sometimes in two polls: the JPEG is the one read.
 * - Just after writing, the camera may answer the download with 503, or with a JPEG that is not complete yet
 *   (200, cut short): both are tried again.
 */
import { DomainError, ErrorCode, messageOf } from '../common/domain-error';
import { isContentPath } from './ccapi-client';

/** What a shot needs of the camera (CcapiSession requests) and of time. */
export interface ShotIo {
  /** GET event/polling: the events since the last poll (JSON). */
  pollEvents(): Promise<unknown>;
  /** DELETE event/polling. */
  stopEvents(): Promise<void>;
  /** POST shooting/control/shutterbutton. */
  pressShutter(): Promise<void>;
  /** GET `path`?kind=original. */
  download(path: string): Promise<Buffer>;
  /** Monotonic ms. */
  monotonic(): number;
  sleep(ms: number): Promise<void>;
}

export interface ShotSettings {
  /** From the shutter press to the new image named by the camera (and again from then to its download), ms. */
  timeoutMs: number;
  /** Between two event polls, and two tries of a download, ms. */
  pollGapMs: number;
  /** After a RAW file, how long its JPEG may take to be named before the camera is taken to record RAW only, ms. */
  rawGraceMs: number;
  /** A camera still busy with its last picture ("Device busy") is asked again for this long before the press, ms. */
  busyRetryMs: number;
}

export const DEFAULT_SHOT_SETTINGS: Omit<ShotSettings, 'timeoutMs'> = { pollGapMs: 200, rawGraceMs: 2000, busyRetryMs: 2000 };

/** The photo taken: its file on the card, its bytes, and what it took. */
export interface Shot {
  /** The file name on the card, e.g. IMG_0001.JPG. */
  file: string;
  /** Its content path (`/ccapi/ver110/contents/card1/100CANON/IMG_0001.JPG`). */
  path: string;
  bytes: Buffer;
  /** Every file the camera named for this shot (RAW+JPEG: two). */
  added: string[];
  /** From the shutter press to the JPEG named by the camera, ms. */
  namedAfterMs: number;
  polls: number;
  downloads: number;
}

/** What the camera says while busy: try again. Any other 503 to a shutter press is a refusal to shoot. */
const BUSY_WORDS = /^(device busy|taken in preparation|during shooting or recording)$/i;
const JPEG = /\.jpe?g$/i;
const RAW = /\.(cr3|cr2|crw)$/i;

/** Presses the shutter, waits for the new image, downloads its JPEG. Throws coded errors in plain words. */
export async function takeShot(io: ShotIo, settings: ShotSettings): Promise<Shot> {
  // A camera still writing its last picture says "Device busy" for a second or two: ask again for a while.
  const busyUntil = io.monotonic() + settings.busyRetryMs;
  await whileBusy(io, settings, busyUntil, () => drainEvents(io));
  await whileBusy(io, settings, busyUntil, () => press(io));
  const pressedAt = io.monotonic();
  const named = await waitForJpeg(io, settings, pressedAt);
  const namedAt = io.monotonic();
  const { bytes, downloads } = await fetchJpeg(io, named.path, settings, namedAt);
  return { file: fileName(named.path), path: named.path, bytes, added: named.added, namedAfterMs: Math.round(namedAt - pressedAt), polls: named.polls, downloads };
}

async function whileBusy(io: ShotIo, settings: ShotSettings, until: number, step: () => Promise<void>): Promise<void> {
  for (;;) {
    try {
      return await step();
    } catch (error) {
      const said = cameraMessageOf(error);
      const busy = codeOf(error) === ErrorCode.CAMERA_BUSY && (said === null || BUSY_WORDS.test(said));
      if (!busy || io.monotonic() + settings.pollGapMs * 2 > until) throw error;
      await io.sleep(settings.pollGapMs * 2);
    }
  }
}

/** Events left from before the press are not this shot's. */
async function drainEvents(io: ShotIo): Promise<void> {
  try {
    await io.pollEvents();
  } catch (error) {
    if (cameraMessageOf(error)?.toLowerCase() === 'already started') {
      await io.stopEvents().catch(() => undefined);
      await io.pollEvents();
      return;
    }
    if (codeOf(error) === ErrorCode.CAMERA_REJECTED) {
      throw new DomainError(ErrorCode.CAMERA_REJECTED, `The camera does not offer event polling (${messageOf(error)}), so it cannot say when its photo is on the card: photograph the slate with it and send the photo instead`, { cause: messageOf(error) });
    }
    throw error;
  }
}

async function press(io: ShotIo): Promise<void> {
  try {
    await io.pressShutter();
  } catch (error) {
    const said = cameraMessageOf(error);
    const code = codeOf(error);
    if (code === ErrorCode.CAMERA_BUSY && (said === null || BUSY_WORDS.test(said))) throw error;
    if (code === ErrorCode.CAMERA_BUSY || code === ErrorCode.CAMERA_REJECTED) {
      throw new DomainError(ErrorCode.SHUTTER_REFUSED, `The camera did not take the picture${said ? ` ("${said}")` : ''}: ${adviceFor(said)}`, { cameraMessage: said ?? undefined });
    }
    throw error;
  }
}

function adviceFor(said: string | null): string {
  if (said && /focus/i.test(said)) return 'it could not focus. Point it at the slate from a distance it can focus at, or focus by hand and set the lens to MF';
  if (said && /card/i.test(said)) return 'it cannot write to its card. Check that a card is in it, not full and not locked';
  if (said && /mode/i.test(said)) return 'its mode cannot shoot from here. Set it to take still photos (P, Av, Tv or M), not movies';
  return 'check that it is ready to shoot (a card in it, still photos, not in its menus or playback)';
}

/** Polls until the camera names this shot's JPEG (or only RAW files, for longer than `rawGraceMs`). */
async function waitForJpeg(io: ShotIo, settings: ShotSettings, pressedAt: number): Promise<{ path: string; added: string[]; polls: number }> {
  const added: string[] = [];
  let rawSince: number | null = null;
  let polls = 0;
  let lastError: unknown = null;
  const deadline = pressedAt + settings.timeoutMs;
  while (io.monotonic() < deadline) {
    await io.sleep(Math.min(settings.pollGapMs, Math.max(0, deadline - io.monotonic())));
    polls += 1;
    let answer: unknown;
    try {
      answer = await io.pollEvents();
      lastError = null;
    } catch (error) {
      // Busy writing the file, or a slow answer: the deadline decides.
      if (!isPassing(error)) throw error;
      lastError = error;
      continue;
    }
    added.push(...addedContents(answer));
    const jpeg = pickJpeg(added);
    if (jpeg) return { path: jpeg, added, polls };
    if (added.some((p) => RAW.test(p))) rawSince ??= io.monotonic();
    if (rawSince !== null && io.monotonic() - rawSince >= settings.rawGraceMs) break;
  }
  if (added.length) {
    throw new DomainError(ErrorCode.NO_JPEG_RECORDED, `The camera recorded ${added.map(fileName).join(' and ')}, no JPEG: set its image quality to JPEG or RAW+JPEG (the slate is read from the JPEG)`, { added });
  }
  const why = lastError ? ` (the last poll: ${messageOf(lastError)})` : '';
  throw new DomainError(
    ErrorCode.NO_NEW_PHOTO,
    `The camera named no new photo within ${formatSeconds(settings.timeoutMs)} of the shutter press${why}: check that it has a card with room, is set to take still photos and is not showing a menu or playing back`,
    { timeoutMs: settings.timeoutMs },
  );
}

/** Downloads the JPEG, again while the camera is busy or hands a file not complete yet. */
async function fetchJpeg(io: ShotIo, path: string, settings: ShotSettings, namedAt: number): Promise<{ bytes: Buffer; downloads: number }> {
  const deadline = namedAt + settings.timeoutMs;
  let downloads = 0;
  let why = '';
  for (;;) {
    downloads += 1;
    try {
      const bytes = await io.download(path);
      if (isCompleteJpeg(bytes)) return { bytes, downloads };
      why = bytes.length ? `it was not a complete JPEG (${bytes.length} bytes)` : 'it was empty';
    } catch (error) {
      if (codeOf(error) === ErrorCode.CAMERA_BAD_ANSWER && (error as DomainError).details?.tooLarge === true) {
        throw new DomainError(ErrorCode.PHOTO_TOO_LARGE, `The camera's photo ${fileName(path)} is larger than a slate photo may be (SLATE_MAX_PHOTO_BYTES): set its JPEG to a smaller size`, { file: fileName(path) });
      }
      if (!isPassing(error)) throw error;
      why = messageOf(error);
    }
    if (io.monotonic() + settings.pollGapMs >= deadline) {
      throw new DomainError(ErrorCode.CAMERA_BAD_ANSWER, `The camera's photo ${fileName(path)} could not be downloaded within ${formatSeconds(settings.timeoutMs)}: ${why}`, { file: fileName(path) });
    }
    await io.sleep(settings.pollGapMs);
  }
}

/** `addedcontents` of an event poll: the content paths the camera gave, those that are paths of its card. */
export function addedContents(answer: unknown): string[] {
  const list = typeof answer === 'object' && answer !== null ? (answer as { addedcontents?: unknown }).addedcontents : undefined;
  return Array.isArray(list) ? list.filter(isContentPath) : [];
}

/** The JPEG among the files of a shot (RAW+JPEG: the .JPG); the last one named when several; null if none. */
export function pickJpeg(paths: string[]): string | null {
  for (let i = paths.length - 1; i >= 0; i--) if (JPEG.test(paths[i])) return paths[i];
  return null;
}

/** Starts as a JPEG does and has its end marker (a file still being written is cut short). */
export function isCompleteJpeg(bytes: Buffer): boolean {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8 || bytes[2] !== 0xff) return false;
  // Some cameras pad after the end marker.
  let end = bytes.length;
  while (end > 2 && (bytes[end - 1] === 0x00 || bytes[end - 1] === 0xff)) end--;
  return bytes[end - 2] === 0xff && bytes[end - 1] === 0xd9;
}

function isPassing(error: unknown): boolean {
  const code = codeOf(error);
  return code === ErrorCode.CAMERA_BUSY || code === ErrorCode.CAMERA_TIMEOUT || code === ErrorCode.CAMERA_CONNECTION_RESET;
}

function codeOf(error: unknown): string | null {
  return error instanceof DomainError ? error.code : null;
}

function cameraMessageOf(error: unknown): string | null {
  const said = error instanceof DomainError ? error.details?.cameraMessage : undefined;
  return typeof said === 'string' ? said : null;
}

function fileName(path: string): string {
  return path.split('/').at(-1) ?? path;
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
