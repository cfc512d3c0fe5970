import { SyncSource } from '../../protocol/vocabulary';
import { ntpKeepsClock } from '../../time-server/chrony-report';
import type { ChronyView } from '../../time-server/chrony-report';
import { TimeServer } from '../../time-server/time-server';
import { formatDuration } from '../../time/format';
import { SourceSink, SourceStatus, TimeSourceAdapter } from '../source-port';

/**
 * NTP through chrony (TIME_SERVER=chrony), as a source: chrony keeps the Pi's clock from an NTP server other than
 * the product's own feed (the leader of NTP_FOLLOW, or the internet). While it does, the policy treats it as NTP
 * (ranked first: it measures the phones and never steps); when the leader stops answering, it says so and the
 * phones may set the Pi again (their readings then go to chrony through the feed). With TIME_SERVER=off it does
 * nothing (`PiClockWatch` reads timedated's NTP state instead).
 */
export class ChronySource extends TimeSourceAdapter {
  readonly source = SyncSource.Ntp;
  private unlisten: (() => void) | null = null;
  private keeps = false;
  private who = '';

  constructor(
    private readonly server: TimeServer,
    private readonly follow: string,
  ) {
    super();
  }

  start(sink: SourceSink): void {
    if (this.server.engine !== 'chrony' || this.unlisten) return;
    this.unlisten = this.server.onView((view) => {
      const keeps = ntpKeepsClock(view);
      const who = this.follow || view?.reference || 'an NTP server';
      if (keeps === this.keeps) return;
      this.keeps = keeps;
      // The server it stopped following is the one it followed.
      if (keeps) this.who = who;
      sink.keeping?.(this.source, keeps, this.who);
    });
  }

  stop(): void {
    this.unlisten?.();
    this.unlisten = null;
  }

  status(): SourceStatus | null {
    if (this.server.engine !== 'chrony') return null;
    const view = this.server.view();
    if (!view) return null;
    return describe(view, this.follow);
  }
}

function describe(view: ChronyView, follow: string): SourceStatus | null {
  const keeps = ntpKeepsClock(view);
  const who = follow || view.reference || 'NTP';
  if (keeps) return { source: SyncSource.Ntp, who, state: `following ${who} over NTP`, active: true, errorBoundMs: view.errorBoundMs, facts: { stratum: view.stratum } };
  if (!follow) return null;
  const last = view.leader?.lastRxS;
  return { source: SyncSource.Ntp, who, state: `${who} does not answer${last !== null && last !== undefined ? ` (last heard ${formatDuration(last * 1000)} ago)` : ''}`, active: false, errorBoundMs: null };
}
