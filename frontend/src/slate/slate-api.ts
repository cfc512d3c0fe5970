/**
 * What the slate page asks of the Pi: GET /api/slate (who it is, its clock now) timed on performance.now(),
 * and POST /api/slate/photos (multipart, with the upload header a form of another site cannot send).
 */
import { KIOSK_HEADER, UPLOAD_HEADER, type Reliability } from '../../../backend/protocol/vocabulary';
import type { ProbeSample } from './slate-time';

export interface SlateInfo {
  piId: string;
  epochMs: number;
  clock: string;
  reliability: Reliability;
  source: string;
  errorBoundMs: number | null;
  timezone: string;
  latencyFrames: number;
}

/** One photo's outcome and one camera's measurement, as POST /api/slate/photos answers them. */
export interface SlatePhotoOutcome {
  file: string;
  ok: boolean;
  code?: string;
  message?: string;
  cameraId?: string;
  offsetMs?: number;
  boundMs?: number;
}
export interface SlateCameraOutcome {
  cameraId: string;
  serial: string | null;
  make: string | null;
  model: string | null;
  scopable: boolean;
  offsetMs: number;
  boundMs: number;
  photos: number;
  consistent: boolean;
  zoneFrom: 'exif' | 'pi-zone';
}
export interface SlatePhotosAnswer {
  results: SlatePhotoOutcome[];
  cameras: SlateCameraOutcome[];
  /** Set when the Pi refused the whole request (the code and its words). */
  refused?: { code: string; message: string };
}

export interface SlateApi {
  /** A burst of probes of the Pi's clock; the answers (the last one's info) and every sample. */
  probe(count?: number): Promise<{ info: SlateInfo; samples: ProbeSample[] }>;
  sendPhotos(files: File[]): Promise<SlatePhotosAnswer>;
}

export function createSlateApi(fetchImpl: typeof fetch = (...args) => fetch(...args), now: () => number = () => performance.now(), kioskToken: string | null = null): SlateApi {
  const identity: Record<string, string> = kioskToken ? { [KIOSK_HEADER]: kioskToken } : {};
  return {
    async probe(count = 8) {
      const samples: ProbeSample[] = [];
      let info: SlateInfo | null = null;
      // Back to back: a phone's Wi-Fi stays awake through the burst, and the shortest round trip wins.
      for (let i = 0; i < count; i++) {
        const t0 = now();
        const res = await fetchImpl('/api/slate', { cache: 'no-store', headers: { Accept: 'application/json', ...identity } });
        const body = (await res.json()) as SlateInfo;
        const t1 = now();
        if (!res.ok || typeof body.epochMs !== 'number') throw new Error(`the Pi answered ${res.status}`);
        info = body;
        samples.push({ piMinusPerfMs: body.epochMs - (t0 + t1) / 2, rttMs: t1 - t0, atPerf: (t0 + t1) / 2, clock: body.clock });
      }
      return { info: info!, samples };
    },
    async sendPhotos(files) {
      const form = new FormData();
      for (const f of files) form.append('photos', f, f.name);
      const res = await fetchImpl('/api/slate/photos', { method: 'POST', body: form, headers: { Accept: 'application/json', [UPLOAD_HEADER]: '1', ...identity } });
      let body: Record<string, unknown> = {};
      try {
        body = (await res.json()) as Record<string, unknown>;
      } catch {
        body = {};
      }
      const results = Array.isArray(body.results) ? (body.results as SlatePhotoOutcome[]) : [];
      const cameras = Array.isArray(body.cameras) ? (body.cameras as SlateCameraOutcome[]) : [];
      if (res.ok) return { results, cameras };
      const code = typeof body.code === 'string' ? body.code : `HTTP_${res.status}`;
      const message = typeof body.message === 'string' ? body.message : `the Pi answered ${res.status}`;
      return { results, cameras, refused: { code, message } };
    },
  };
}
