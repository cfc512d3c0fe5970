import { create as createQr } from 'qrcode';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { SlateApi, SlateInfo, SlatePhotosAnswer } from './slate-api';
import { FrameClock, PiTimeEstimate, slateView, type SlateView } from './slate-time';

/** How often the page measures the Pi's clock again (a burst of probes each time). */
export const PROBE_EVERY_MS = 5000;

/** What the page draws each frame, for tests (a browser test reads it beside the screenshot). */
declare global {
  interface Window {
    __timesyncSlate?: { text: string | null; frame: number; reason: string | null };
  }
}

export interface SlatePageProps {
  api: SlateApi;
  /** Seams for tests: the animation frame loop and the monotonic clock. */
  requestFrame?: (cb: (ts: number) => void) => number;
  cancelFrame?: (id: number) => void;
}

/**
 * The time slate: every animation frame a QR code of the Pi's time for that frame (TS1, see
 * backend/protocol/slate-code.ts) and the time in large digits; photographed by any camera, it gives that
 * camera's offset to the Pi, shutter included. Below it, photos of it are sent back to the Pi.
 */
const animationFrame = (cb: (ts: number) => void) => window.requestAnimationFrame(cb);
const cancelAnimation = (id: number) => window.cancelAnimationFrame(id);

export function SlatePage({ api, requestFrame = animationFrame, cancelFrame = cancelAnimation }: SlatePageProps) {
  const [info, setInfo] = useState<SlateInfo | null>(null);
  const [probeFailed, setProbeFailed] = useState(false);
  const [reason, setReason] = useState<string | null>("Reading the Pi's clock…");
  const canvasRef = useRef<HTMLCanvasElement | null>(null);
  const estimate = useRef(new PiTimeEstimate());
  const facts = useRef<{ info: SlateInfo | null; probeFailed: boolean }>({ info: null, probeFailed: false });
  facts.current = { info, probeFailed };

  // The Pi's clock, measured again every few seconds.
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const run = async () => {
      try {
        const { info: latest, samples } = await api.probe();
        if (stopped) return;
        for (const s of samples) estimate.current.add(s);
        setInfo(latest);
        setProbeFailed(false);
      } catch {
        if (!stopped) setProbeFailed(true);
      }
      if (!stopped) timer = setTimeout(run, PROBE_EVERY_MS);
    };
    void run();
    return () => {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
    };
  }, [api]);

  // Every animation frame: this frame's code and digits.
  useEffect(() => {
    const frames = new FrameClock();
    let frame = 0;
    let id = 0;
    let shownReason: string | null | undefined;
    const draw = (ts: number) => {
      frames.tick(ts);
      const { info: pi, probeFailed: failed } = facts.current;
      const view = slateView({
        piId: pi?.piId ?? null,
        reliability: pi?.reliability ?? null,
        frame,
        periodMs: frames.periodMs(),
        steady: frames.steady(ts),
        estimate: estimate.current.at(ts),
        probeFailed: failed,
      });
      paint(canvasRef.current, view, pi?.timezone ?? 'UTC');
      const nextReason = view.kind === 'code' ? null : view.reason;
      if (nextReason !== shownReason) {
        shownReason = nextReason;
        setReason(nextReason);
      }
      window.__timesyncSlate = { text: view.kind === 'code' ? view.text : null, frame, reason: nextReason };
      frame += 1;
      id = requestFrame(draw);
    };
    id = requestFrame(draw);
    return () => cancelFrame(id);
  }, [requestFrame, cancelFrame]);

  return (
    <div className="slate-page">
      <header className="slate-top">
        <a className="btn btn-small" href="/" data-testid="slate-back">
          ← TimeSync
        </a>
        <span className="slate-pi" data-testid="slate-pi">
          {info ? `Pi ${info.piId} · ${info.timezone}` : 'Pi …'}
        </span>
      </header>
      <section className="slate-stage" aria-label="Time slate">
        <canvas ref={canvasRef} className="slate-canvas" data-testid="slate-canvas" aria-hidden="true" />
        {reason ? (
          <p className="slate-reason" role="status" data-testid="slate-reason">
            {reason}
          </p>
        ) : null}
      </section>
      <SlatePhotos api={api} />
    </div>
  );
}

/** Drop zone and file picker: photos of the slate go to the Pi, each camera's offset comes back. */
function SlatePhotos({ api }: { api: SlateApi }) {
  const [busy, setBusy] = useState(false);
  const [answer, setAnswer] = useState<SlatePhotosAnswer | null>(null);
  const [over, setOver] = useState(false);
  const send = useCallback(
    async (list: FileList | File[] | null) => {
      const files = list ? Array.from(list) : [];
      if (!files.length) return;
      setBusy(true);
      try {
        setAnswer(await api.sendPhotos(files));
      } catch (e) {
        setAnswer({ results: [], cameras: [], refused: { code: 'NETWORK', message: `Could not reach the Pi (${e instanceof Error ? e.message : String(e)})` } });
      } finally {
        setBusy(false);
      }
    },
    [api],
  );
  return (
    <section className="panel slate-photos" aria-labelledby="slate-photos-title">
      <h2 id="slate-photos-title">Read slate photos</h2>
      <p className="muted">
        Photograph this slate with each camera (a few shots each, the code sharp and filling a good part of the picture), then send the camera's own JPEGs here: each
        camera's offset to the Pi, shutter included, goes into the journal and the photo fixes.
      </p>
      <label
        className={over ? 'slate-drop over' : 'slate-drop'}
        data-testid="slate-drop"
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => {
          e.preventDefault();
          setOver(false);
          void send(e.dataTransfer.files);
        }}
      >
        <input type="file" accept="image/jpeg" multiple data-testid="slate-file" disabled={busy} onChange={(e) => void send(e.target.files)} />
        <span>{busy ? 'Reading the photos…' : 'Drop JPEG photos here, or tap to choose'}</span>
      </label>
      {answer ? <SlateAnswerView answer={answer} /> : null}
    </section>
  );
}

function SlateAnswerView({ answer }: { answer: SlatePhotosAnswer }) {
  return (
    <div className="slate-answer" data-testid="slate-answer" role="status">
      {answer.refused ? <p className="notice error">{capitalize(answer.refused.message)}</p> : null}
      {answer.cameras.map((c) => (
        <p key={`${c.cameraId}-${c.offsetMs}`} className="slate-camera" data-testid="slate-camera">
          <strong>{cameraName(c.make, c.model)}</strong>
          {c.serial ? ` ${c.serial}` : ' (no serial number in its photos: its photos cannot be picked out for a fix)'}: camera {signed(c.offsetMs)} from the Pi, ±{Math.ceil(c.boundMs)} ms, from{' '}
          {c.photos} photo{c.photos === 1 ? '' : 's'}
          {c.consistent ? '' : ' (the photos disagree: their median)'}
          {c.zoneFrom === 'pi-zone' ? ". The photos carry no zone: read in the Pi's" : ''}
        </p>
      ))}
      {answer.results
        .filter((r) => !r.ok)
        .map((r) => (
          <p key={r.file} className="slate-refused" data-testid="slate-refused">
            {r.file}: {r.message}
          </p>
        ))}
    </div>
  );
}

/** "Canon EOS R5" (the model often starts with the make: it is not said twice). */
function cameraName(make: string | null, model: string | null): string {
  if (model && make && model.toLowerCase().startsWith(make.toLowerCase())) return model;
  return [make, model].filter(Boolean).join(' ') || 'A camera';
}

function signed(ms: number): string {
  const abs = Math.abs(ms);
  const text = abs >= 10_000 ? `${(abs / 1000).toFixed(2)} s` : `${Math.round(abs)} ms`;
  return `${ms < 0 ? '−' : '+'}${text}`;
}

const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

// ---- drawing ---------------------------------------------------------------------------------------

/** Quiet zone around the code, in modules (the QR standard asks for 4). */
const QUIET = 4;

/** One frame: the code (black on white, whole pixels per module) and the Pi's time in digits, or the code's place left blank. */
function paint(canvas: HTMLCanvasElement | null, view: SlateView, zone: string): void {
  const ctx = canvas?.getContext('2d');
  if (!canvas || !ctx) return;
  const dpr = window.devicePixelRatio || 1;
  const width = Math.max(1, Math.round(canvas.clientWidth * dpr));
  const height = Math.max(1, Math.round(canvas.clientHeight * dpr));
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  }
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, width, height);
  const landscape = width >= height;
  const side = Math.floor(landscape ? Math.min(height, width * 0.58) : Math.min(width, height * 0.7));
  if (view.kind === 'code') {
    const qr = createQr(view.text, { errorCorrectionLevel: 'M' });
    const n = qr.modules.size;
    const module = Math.max(1, Math.floor(side / (n + 2 * QUIET)));
    const x0 = Math.floor((side - module * n) / 2);
    const y0 = landscape ? Math.floor((height - module * n) / 2) : x0;
    ctx.fillStyle = '#000000';
    const data = qr.modules.data;
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < n; c++) if (data[r * n + c]) ctx.fillRect(x0 + c * module, y0 + r * module, module, module);
    }
  }
  if (view.piMs === null) return;
  const text = clockText(view.piMs, zone);
  const [boxX, boxY, boxW, boxH] = landscape ? [side, 0, width - side, height] : [0, side, width, height - side];
  const size = Math.floor(Math.min(boxW / 7.2, boxH / 3.2));
  ctx.fillStyle = view.kind === 'code' ? '#000000' : '#777777';
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  ctx.font = `700 ${size}px ui-monospace, "DejaVu Sans Mono", monospace`;
  ctx.fillText(text.time, boxX + boxW / 2, boxY + boxH / 2 - size * 0.45);
  ctx.font = `700 ${Math.floor(size * 0.9)}px ui-monospace, "DejaVu Sans Mono", monospace`;
  ctx.fillText(text.ms, boxX + boxW / 2, boxY + boxH / 2 + size * 0.6);
}

const offsets = new Map<string, { minute: number; offsetMs: number }>();

/** "12:34:56" and ".789" of the Pi's time in its zone (the zone's offset looked up once a minute, not every frame). */
function clockText(ms: number, zone: string): { time: string; ms: string } {
  const minute = Math.floor(ms / 60_000);
  let cached = offsets.get(zone);
  if (!cached || cached.minute !== minute) {
    cached = { minute, offsetMs: zoneOffsetMs(zone, ms) };
    offsets.set(zone, cached);
  }
  const local = new Date(ms + cached.offsetMs);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return { time: `${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}`, ms: `.${pad(local.getUTCMilliseconds(), 3)}` };
}

function zoneOffsetMs(zone: string, ms: number): number {
  try {
    const parts = new Intl.DateTimeFormat('en-GB', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).formatToParts(new Date(ms));
    const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
    const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
    return asUtc - Math.floor(ms / 1000) * 1000;
  } catch {
    return 0;
  }
}
