/**
 * chrony's own view, from `chronyc -c` (CSV) reports, and what the product makes of it. Pure: text in, plain
 * values out; `chronyc` itself is run by `chronyc.ts`.
 *
 * Sign conventions of chronyc, kept here: tracking's "System time" is true time minus the system clock (positive:
 * the clock is slow, "slow of NTP time"); a source's offsets are the system clock minus the source (positive: the
 * clock is fast of it). Both are seconds.
 */

export interface ChronyTracking {
  /** The reference ID as chronyc prints it, 8 hex digits ("7F000001"; "7F7F0101" is the local reference). */
  refId: string;
  /** The selected source's address or name; empty for the local reference and refclocks. */
  refName: string;
  stratum: number;
  /** When the reference was last updated, Unix seconds (0: never). */
  refTimeS: number;
  /** True time minus the system clock now (the correction chrony still has to make), s. */
  systemTimeS: number;
  lastOffsetS: number;
  rmsOffsetS: number;
  frequencyPpm: number;
  residualFreqPpm: number;
  skewPpm: number;
  rootDelayS: number;
  rootDispersionS: number;
  updateIntervalS: number;
  /** "Normal", "Insert second", "Delete second", "Not synchronised". */
  leap: string;
}

export interface ChronySourceLine {
  /** `^` server, `=` peer, `#` reference clock. */
  mode: string;
  /** `*` selected, `+` combined, `-` not combined, `?` unreachable, `x` falseticker, `~` too variable. */
  state: string;
  name: string;
  stratum: number;
  poll: number;
  /** The reachability register (chronyc prints it in octal): one bit per poll, newest lowest. */
  reach: number;
  /** Seconds since the last good sample (4294967295 or more: none). */
  lastRxS: number;
  /** The system clock minus the source at the last sample, as adjusted since, s. */
  offsetS: number;
  /** The same as measured. */
  measuredS: number;
  /** Its error estimate, s. */
  errorS: number;
}

export interface ChronySourceStats {
  name: string;
  /** Sample points kept: chrony selects a source only once it has 3. */
  samples: number;
  runs: number;
  spanS: number;
  frequencyPpm: number;
  skewPpm: number;
  offsetS: number;
  stdDevS: number;
}

export interface ChronyClient {
  address: string;
  ntpRequests: number;
  ntpDropped: number;
  /** Seconds since its last NTP request (huge: none). */
  lastNtpAgoS: number;
}

/** The local reference's ID ("127.127.1.1"), and chrony's "no reference". */
export const LOCAL_REF_ID = '7F7F0101';
const NO_REF_ID = '00000000';

function fields(line: string, count: number, what: string): string[] {
  const f = line.trim().split(',');
  if (f.length !== count) throw new Error(`unexpected chronyc ${what} line (${f.length} fields, ${count} expected): ${JSON.stringify(line.slice(0, 200))}`);
  return f;
}

function num(text: string, what: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) throw new Error(`unexpected chronyc ${what} value ${JSON.stringify(text)}`);
  return n;
}

/** `chronyc -c tracking`: one line of 14 fields. */
export function parseTracking(text: string): ChronyTracking {
  const line = text.split(/\r?\n/).find((l) => l.trim());
  if (!line) throw new Error('chronyc tracking printed nothing');
  const f = fields(line, 14, 'tracking');
  return {
    refId: f[0].toUpperCase(),
    refName: f[1],
    stratum: num(f[2], 'stratum'),
    refTimeS: num(f[3], 'ref time'),
    systemTimeS: num(f[4], 'system time'),
    lastOffsetS: num(f[5], 'last offset'),
    rmsOffsetS: num(f[6], 'RMS offset'),
    frequencyPpm: num(f[7], 'frequency'),
    residualFreqPpm: num(f[8], 'residual frequency'),
    skewPpm: num(f[9], 'skew'),
    rootDelayS: num(f[10], 'root delay'),
    rootDispersionS: num(f[11], 'root dispersion'),
    updateIntervalS: num(f[12], 'update interval'),
    leap: f[13],
  };
}

/** `chronyc -c sources`: one line of 10 fields per source. */
export function parseSources(text: string): ChronySourceLine[] {
  return text
    .split(/\r?\n/)
    .filter((l) => l.trim())
    .map((line) => {
      const f = fields(line, 10, 'sources');
      return {
        mode: f[0],
        state: f[1],
        name: f[2],
        stratum: num(f[3], 'stratum'),
        poll: num(f[4], 'poll'),
        reach: parseInt(f[5], 8),
        lastRxS: num(f[6], 'last rx'),
        offsetS: num(f[7], 'offset'),
        measuredS: num(f[8], 'measured offset'),
        errorS: num(f[9], 'error'),
      };
    });
}

/** `chronyc -c sourcestats`: one line of 8 fields per source. */
export function parseSourceStats(text: string): ChronySourceStats[] {
  return text
    .split(/\r?\n/)
    .filter((l) => l.trim())
    .map((line) => {
      const f = fields(line, 8, 'sourcestats');
      return { name: f[0], samples: num(f[1], 'samples'), runs: num(f[2], 'runs'), spanS: num(f[3], 'span'), frequencyPpm: num(f[4], 'frequency'), skewPpm: num(f[5], 'skew'), offsetS: num(f[6], 'offset'), stdDevS: num(f[7], 'std dev') };
    });
}

/** `chronyc -c clients`: one line of 10 fields per client (NTP and command clients alike). */
export function parseClients(text: string): ChronyClient[] {
  return text
    .split(/\r?\n/)
    .filter((l) => l.trim())
    .map((line) => {
      const f = fields(line, 10, 'clients');
      return { address: f[0], ntpRequests: num(f[1], 'NTP hits'), ntpDropped: num(f[2], 'NTP drops'), lastNtpAgoS: num(f[5], 'last NTP') };
    });
}

/**
 * `chronyc -c -m tracking sources sourcestats`: the three reports one after another, told apart by their fields
 * (tracking 14; a source 10 and a mode character first; a source's stats 8).
 */
export function parseReports(text: string): { tracking: ChronyTracking; sources: ChronySourceLine[]; stats: ChronySourceStats[] } {
  const lines = text.split(/\r?\n/).filter((l) => l.trim());
  const tracking = lines.filter((l) => l.split(',').length === 14);
  if (tracking.length !== 1) throw new Error(`unexpected chronyc output (no tracking line): ${JSON.stringify(text.slice(0, 200))}`);
  return {
    tracking: parseTracking(tracking[0]),
    sources: parseSources(lines.filter((l) => l.split(',').length === 10 && /^[\^=#],/.test(l)).join('\n')),
    stats: parseSourceStats(lines.filter((l) => l.split(',').length === 8).join('\n')),
  };
}

// ---- what the product makes of it ------------------------------------------------------------------------

export interface ChronyViewSettings {
  /** The product's own feed, as chrony names it in `sources` ("127.0.0.1"). */
  feedName: string;
  /** NTP_FOLLOW, as chrony names it (an address, or the name chrony resolved: compared as given); empty: leader. */
  follow: string;
  /** Clients heard from within this many seconds count as served. */
  clientWindowS: number;
}

/** What chrony is doing, in the product's terms. */
export type ChronyState =
  /** Synchronised to the product's feed (its best source): serving that time. */
  | 'serving'
  /** Synchronised to another NTP server or a reference clock (a leader, the internet). */
  | 'following'
  /** No source: the local reference (`local stratum N`) keeps serving the clock as it runs. */
  | 'local'
  /** Not synchronised and no local reference: clients are told it has no time. */
  | 'unsynchronised';

export interface ChronyView {
  state: ChronyState;
  /** The selected source's name (an address), or null. */
  reference: string | null;
  stratum: number;
  /** True time minus the system clock, ms (chrony's "System time"). */
  offsetMs: number;
  /** Root delay / 2 + root dispersion, ms: how far chrony's time may be from true time. */
  errorBoundMs: number;
  leap: string;
  /** The leader (NTP_FOLLOW), when following one: is it answering, and is it the source chrony uses? */
  leader: { name: string; reachable: boolean; selected: boolean; lastRxS: number | null } | null;
  /** Samples chrony keeps of the product's feed (it selects a source once it has 3); null when the feed is not configured. */
  feedSamples: number | null;
  /** Whether the feed is a source of this chrony at all (its `server 127.0.0.1 port N` line). */
  feedConfigured: boolean;
  /** NTP clients heard within the window; null when chronyd does not tell this product (not authorised). */
  clients: number | null;
  /** When the reference was last updated, Unix ms. */
  refTimeMs: number;
}

const ms = (s: number) => Math.round(s * 1e6) / 1e3;

/** One view from chrony's reports. */
export function chronyView(reports: { tracking: ChronyTracking; sources: ChronySourceLine[]; stats: ChronySourceStats[]; clients: ChronyClient[] | null }, settings: ChronyViewSettings): ChronyView {
  const t = reports.tracking;
  const selected = reports.sources.find((s) => s.state === '*') ?? null;
  const unsynchronised = /not synchroni[sz]ed/i.test(t.leap) || t.refId === NO_REF_ID;
  let state: ChronyState;
  if (unsynchronised) state = 'unsynchronised';
  else if (t.refId === LOCAL_REF_ID) state = 'local';
  else if ((selected?.name ?? t.refName) === settings.feedName) state = 'serving';
  else state = 'following';
  const leaderLine = settings.follow ? reports.sources.find((s) => s.name === settings.follow) : undefined;
  const feedLine = reports.sources.find((s) => s.name === settings.feedName);
  const feedStats = reports.stats.find((s) => s.name === settings.feedName);
  return {
    state,
    reference: state === 'serving' || state === 'following' ? selected?.name ?? (t.refName || null) : null,
    stratum: t.stratum,
    offsetMs: ms(t.systemTimeS),
    errorBoundMs: ms(t.rootDelayS / 2 + t.rootDispersionS),
    leap: t.leap,
    leader: settings.follow
      ? {
          name: settings.follow,
          reachable: !!leaderLine && leaderLine.reach !== 0,
          selected: !!leaderLine && leaderLine.state === '*',
          lastRxS: leaderLine && leaderLine.lastRxS < 2 ** 31 ? leaderLine.lastRxS : null,
        }
      : null,
    feedSamples: feedLine ? feedStats?.samples ?? 0 : null,
    feedConfigured: !!feedLine,
    clients: reports.clients === null ? null : reports.clients.filter((c) => c.ntpRequests > 0 && c.lastNtpAgoS <= settings.clientWindowS).length,
    refTimeMs: Math.round(t.refTimeS * 1000),
  };
}

/**
 * Whether NTP keeps the Pi's clock in the policy's sense (rank 50: measured, never stepped by the product): chrony
 * follows a server other than the product's own feed, and, when this Pi follows a leader, that leader answers.
 */
export function ntpKeepsClock(view: ChronyView | null): boolean {
  if (!view || view.state !== 'following') return false;
  if (view.leader) return view.leader.reachable && view.leader.selected;
  return true;
}
