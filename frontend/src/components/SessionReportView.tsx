import { useEffect, useRef, useState } from 'react';
import type { CameraStatus } from '../../../backend/protocol/messages';
import { SOURCE_LABELS, type SyncSource } from '../../../backend/protocol/vocabulary';
import { describeError, type CorrectionPeriod, type SessionCameraReport, type SessionReport, type TimeSyncApi } from '../api';
import { formatBound, formatDateTime, formatDuration, formatOffset } from '../time-format';
import { ActionMessage } from './ActionMessage';
import { aheadOfPi, cameraAtStart, cameraAtStop, cameraLabel } from './SessionPanel';

interface Props {
  api: TimeSyncApi;
  id: string;
  /** The report as a stop answered it; without it, it is fetched. */
  report?: SessionReport;
  cameras: CameraStatus[] | null;
  timeZone: string;
  /** The Pi's own screen: the downloaded file would stay on the Pi. */
  onPiScreen?: boolean;
}

/**
 * A capture session's report in words, as the server made it from the journal: per camera where it stood at the
 * start and at the stop, its drift only where the report says it is known, what set its clock in between and
 * what the correction does to its photos; the Pi's steps in between; then "Fix my photos". Nothing is worked
 * out here that the report does not say.
 */
export function SessionReportView({ api, id, report: given, cameras, timeZone, onPiScreen = false }: Props) {
  const [fetched, setFetched] = useState<{ id: string; report: SessionReport } | null>(null);
  const [failed, setFailed] = useState<string | null>(null);
  useEffect(() => {
    if (given) return;
    let cancelled = false;
    api.sessionReport(id).then(
      (report) => {
        if (!cancelled) setFetched({ id, report });
      },
      (e: unknown) => {
        if (!cancelled) setFailed(describeError(e));
      },
    );
    return () => {
      cancelled = true;
    };
  }, [api, id, given]);
  const report = given ?? (fetched?.id === id ? fetched.report : null);
  if (!report) {
    return failed ? <ActionMessage result={{ ok: false, text: `The report could not be read: ${failed}` }} testId="session-report-error" /> : <p className="muted">Reading the report…</p>;
  }

  const at = (iso: string) => {
    const ms = Date.parse(iso);
    return Number.isFinite(ms) ? formatDateTime(ms, timeZone) : iso;
  };
  const unused = report.skipped.length + report.damaged.length;
  const startedAt = at(report.startedAt);
  const stoppedAt = report.stoppedAt ? at(report.stoppedAt) : null;

  return (
    <div className="session-report" data-testid="session-report" data-state={report.state}>
      <p className="report-summary" data-testid="report-summary">
        {report.label ? <strong>{report.label} · </strong> : null}
        <span className="report-id">{report.id}</span>
        <span className="detail">
          Started {startedAt} <span className="zone-label">{timeZone}</span> by {report.startedBy}
          {stoppedAt ? ` · stopped ${stoppedAt.slice(0, 10) === startedAt.slice(0, 10) ? stoppedAt.slice(11) : stoppedAt}` : ' · still running: the report so far'}
          {report.durationMs !== null ? ` · ${formatDuration(report.durationMs)}` : ''}
        </span>
      </p>

      {report.cameras.length ? (
        report.cameras.map((c) => <CameraReport key={`${c.cameraId}:${c.serial ?? ''}`} camera={c} name={cameraLabel(cameras ?? [], c.cameraId, c.serial)} at={at} />)
      ) : (
        <div className="card" data-testid="report-camera">
          <p className="muted">No camera was connected at the start or the stop.</p>
        </div>
      )}

      <div className="card" data-testid="report-pi">
        <h3>Pi's clock during the session</h3>
        <dl className="rows">
          <div className="row">
            <dt>Steps</dt>
            <dd data-testid="report-pi-steps">
              {report.piSteps.length ? (
                <ul className="plain">
                  {report.piSteps.map((s) => (
                    <li key={s.line}>
                      {at(s.at)}: stepped {formatOffset(s.stepMs)}, {s.kind === 'external-step' ? 'not by this product (network time, or someone set the clock)' : `to ${SOURCE_LABELS[s.source as SyncSource] ?? s.source ?? 'a source'} (the operator's choice)`}
                      {s.state !== 'confirmed' ? ` (${s.state})` : ''}
                    </li>
                  ))}
                </ul>
              ) : (
                'not stepped: automatic steps wait while a session runs'
              )}
            </dd>
          </div>
          {report.zoneChanges.length ? (
            <div className="row">
              <dt>Zone</dt>
              <dd data-testid="report-zone">
                {report.zoneChanges.map((z) => `${at(z.at)}: ${z.from} → ${z.to}${z.state !== 'confirmed' ? ` (${z.state})` : ''}`).join('; ')}
              </dd>
            </div>
          ) : null}
        </dl>
        {unused ? (
          <details className="detail" data-testid="report-unused">
            <summary>
              {unused} line{unused > 1 ? 's' : ''} of the journal could not be used
            </summary>
            <ul className="plain">
              {[...report.damaged.map((d) => ({ line: d.line, reason: `damaged: ${d.reason}` })), ...report.skipped].map((s) => (
                <li key={`${s.line}:${s.reason}`}>
                  line {s.line}: {s.reason}
                </li>
              ))}
            </ul>
          </details>
        ) : null}
      </div>

      <FixMyPhotos report={report} onPiScreen={onPiScreen} />
    </div>
  );
}

function CameraReport({ camera: c, name, at }: { camera: SessionCameraReport; name: string; at: (iso: string) => string }) {
  const leftAlone = c.leftAlone ?? [];
  return (
    <div className="card" data-testid="report-camera" data-camera-id={c.cameraId}>
      <h3 data-testid="report-camera-name">{name}</h3>
      <dl className="rows">
        <div className="row">
          <dt>At start</dt>
          <dd data-testid="report-start">{c.start ? cameraAtStart(c.start) : 'not connected'}</dd>
        </div>
        <div className="row">
          <dt>At stop</dt>
          <dd data-testid="report-end">{c.end ? cameraAtStop(c.end) : 'not connected'}</dd>
        </div>
        <div className="row">
          <dt>Drift</dt>
          <dd data-testid="report-drift" data-known={c.driftKnown}>
            {c.driftKnown ? c.driftSummary : <span className="muted">{c.driftSummary.startsWith('not ') ? c.driftSummary : `not known: ${c.driftSummary}`}</span>}
          </dd>
        </div>
        <div className="row">
          <dt>Set during</dt>
          <dd data-testid="report-writes">
            {c.writes.length
              ? c.writes
                  .map((w) => `${at(w.at)}: ${!w.success ? `not set${w.reason ? ` (${w.reason})` : ''}` : `set${w.offsetMs !== null ? ` (it was ${aheadOfPi(w.offsetMs)})` : ''}${w.residualMs !== null ? `, then ${aheadOfPi(w.residualMs)}` : ', not verified'}`}`)
                  .join('; ')
              : 'not set during the session'}
          </dd>
        </div>
        <div className="row">
          <dt>Photos</dt>
          <dd data-testid="report-photos">
            <PhotoFix periods={c.correction} leftAlone={leftAlone} />
          </dd>
        </div>
      </dl>
    </div>
  );
}

/** What the correction does to this camera's photos of the session, period by period, and which it leaves alone. */
function PhotoFix({ periods, leftAlone }: { periods: CorrectionPeriod[]; leftAlone: Array<{ from: string; to: string; reason: string }> }) {
  const lines: string[] = [];
  for (const p of periods) {
    if (p.unusable) {
      lines.push(`not corrected: ${p.unusable}`);
      continue;
    }
    if (!p.segments.length) continue;
    const first = p.segments[0];
    const lastSeg = p.segments[p.segments.length - 1];
    const shifts = p.segments.map((s) => s.shiftMs);
    const lo = Math.min(...shifts);
    const hi = Math.max(...shifts);
    const bounds = p.segments.map((s) => s.boundMs);
    const bound = bounds.some((b) => b === null) ? null : Math.max(...(bounds as number[]));
    const shift = formatOffset(lo) === formatOffset(hi) ? formatOffset(lo) : `${formatOffset(lo)} to ${formatOffset(hi)}`;
    const zone = p.segments.find((s) => s.offsetTime)?.offsetTime;
    lines.push(
      `taken ${cameraTimeRange(first.from, lastSeg.to)} (camera time): shifted ${shift}${bound !== null ? ` (±${formatBound(bound)})` : ', bound unknown'}${zone ? `, zone set to ${zone}` : ''}${p.extrapolated ? ' (partly beyond the measurements: drift there unknown)' : ''}`,
    );
  }
  for (const w of leftAlone) lines.push(`left alone: ${cameraTimeRange(w.from, w.to)}: ${w.reason}`);
  if (!lines.length) return <>no correction: the camera was not measured against a known time</>;
  return (
    <ul className="plain">
      {lines.map((line, i) => (
        <li key={i}>{line}</li>
      ))}
    </ul>
  );
}

/** Camera wall times as the photos carry them ("2026:12:02 10:00:02.995"), the date once when both ends share it. */
function cameraTimeRange(from: string | null, to: string | null): string {
  const show = (t: string) => t.replace(/^(\d{4}):(\d{2}):(\d{2}) /, '$1-$2-$3 ');
  if (from === null && to === null) return 'at any time';
  if (from === null) return `until ${show(to!)}`;
  if (to === null) return `from ${show(from)} on`;
  const a = show(from);
  const b = show(to);
  return `${a} – ${a.slice(0, 10) === b.slice(0, 10) ? b.slice(11) : b}`;
}

/** The session's ExifTool argument file and the one command that applies it. */
function FixMyPhotos({ report, onPiScreen }: { report: SessionReport; onPiScreen: boolean }) {
  const codeRef = useRef<HTMLElement>(null);
  const [copied, setCopied] = useState<boolean | null>(null);
  const fixable = report.cameras.some((c) => c.correction.some((p) => !p.unusable && p.segments.length > 0));
  const file = `corrections-${report.id}.args`;
  const command = `exiftool -@ ${file} -overwrite_original path/to/photos`;

  const copy = async () => {
    setCopied(await copyText(command, codeRef.current));
  };

  return (
    <section className="card fix-photos" data-testid="fix-photos" aria-labelledby="fix-photos-title">
      <h3 id="fix-photos-title">Fix my photos</h3>
      {fixable ? (
        <>
          <a className="btn btn-primary link-btn" href={report.files.exiftool} download={file} data-testid="fix-photos-download">
            Download the ExifTool file
          </a>
          {onPiScreen ? (
            <p className="reason" data-testid="fix-photos-on-pi">
              On the Pi's own screen the file stays on the Pi: open this page on the computer or phone with the photos to download it there.
            </p>
          ) : null}
          <p className="small">Then, on the computer with the photos, run this once (keep a copy of the originals: running it twice shifts them twice):</p>
          <div className="command-row">
            <code className="command" ref={codeRef} data-testid="fix-photos-command">
              {command}
            </code>
            <button type="button" className="btn btn-small" data-testid="fix-photos-copy" onClick={() => void copy()}>
              Copy
            </button>
          </div>
          {copied !== null ? (
            <ActionMessage result={copied ? { ok: true, text: 'Copied' } : { ok: false, text: 'This browser would not copy it: select the command and copy it by hand' }} testId="fix-photos-copy-message" />
          ) : null}
          <p className="muted small">
            path/to/photos: the folder with the session's photos. Only the photos of these cameras taken during the session are changed; the others "fail the condition" and are left as they are.
          </p>
        </>
      ) : (
        <p data-testid="fix-photos-nothing">Nothing to fix: no camera was measured against a known time during this session.</p>
      )}
    </section>
  );
}

/**
 * The clipboard where the browser allows it (a secure context), else the text selected and copied the old way
 * (the Pi's address over plain http is no secure context on a phone); false when neither worked.
 */
async function copyText(text: string, element: HTMLElement | null): Promise<boolean> {
  try {
    if (window.isSecureContext && navigator.clipboard) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // fall back to the selection
  }
  if (!element) return false;
  const selection = window.getSelection();
  const range = document.createRange();
  range.selectNodeContents(element);
  selection?.removeAllRanges();
  selection?.addRange(range);
  try {
    return typeof document.execCommand === 'function' && document.execCommand('copy');
  } catch {
    return false;
  }
}
