import { chronyView, ChronyViewSettings, ntpKeepsClock, parseClients, parseReports, parseSources, parseSourceStats, parseTracking } from './chrony-report';

// Captured from chronyd 4.3 (Debian bookworm) with `chronyc -c -n -m tracking sources sourcestats` and `-c -n clients`.
const NEVER_SYNCED = [
  '00000000,,0,0.000000000,0.000000000,0.000000000,0.000000000,0.000,0.000,0.000,1.000000000,1.000000000,0.0,Not synchronised',
  '^,?,127.0.0.1,0,0,0,4294967295,0.000000000,0.000000000,0.000000000',
  '127.0.0.1,0,0,0,0.000,2000.000,0.000000000,4.000000000',
].join('\n');
const LOCAL = ['7F7F0101,,10,1796681499.528251905,0.000000000,0.000000000,0.000000000,0.000,0.000,0.000,0.000000000,0.000000000,0.0,Normal', '^,?,127.0.0.1,1,0,0,89,0.000011980,0.000019058,0.002125132', '127.0.0.1,2,2,1,0.000,2000.000,0.000000000,4.000000000'].join('\n');
// The leader, fed a phone 2.5 s ahead of this host (chronyd -x: the correction stays in "System time").
const SERVING = [
  '7F000001,127.0.0.1,3,1796682246.478000000,2.500220776,-2.500220776,2.500220776,0.000,-70.834,50.000,0.000438271,0.001379604,0.0,Normal',
  '^,*,127.0.0.1,2,0,7,0,-0.000012816,-2.500015075,0.000617077',
  '127.0.0.1,3,3,1,-70.834,31143.723,-0.000005338,0.000018000',
].join('\n');
// A follower of 10.185.197.3, with the product's feed idle beside it.
const FOLLOWING = [
  '0AB9C503,10.185.197.3,4,1796682657.027636405,2.500002259,0.000002259,0.000002259,0.000,-9.190,50.000,0.000633340,0.002314121,0.2,Normal',
  '^,*,10.185.197.3,3,-2,377,0,0.000012816,0.000015075,0.000317077',
  '^,?,127.0.0.1,0,0,0,4294967295,0.000000000,0.000000000,0.000000000',
  '10.185.197.3,12,5,3,-9.190,118.141,-0.000000439,0.000005776',
  '127.0.0.1,0,0,0,0.000,2000.000,0.000000000,4.000000000',
].join('\n');
const CLIENTS = ['10.185.197.2,25,0,-2,-2,0,0,0,127,4294967295', '127.0.0.1,3,0,-4,127,12,0,0,127,4294967295', '127.0.0.1,0,0,127,127,4294967295,5,0,1,2'].join('\n');

const LEADER: ChronyViewSettings = { feedName: '127.0.0.1', follow: '', clientWindowS: 3600 };
const FOLLOWER: ChronyViewSettings = { ...LEADER, follow: '10.185.197.3' };

describe(parseTracking.name, () => {
  it('reads every field, keeping chronyc signs (System time: true minus the clock)', () => {
    expect(parseTracking(SERVING.split('\n')[0])).toEqual({
      refId: '7F000001',
      refName: '127.0.0.1',
      stratum: 3,
      refTimeS: 1796682246.478,
      systemTimeS: 2.500220776,
      lastOffsetS: -2.500220776,
      rmsOffsetS: 2.500220776,
      frequencyPpm: 0,
      residualFreqPpm: -70.834,
      skewPpm: 50,
      rootDelayS: 0.000438271,
      rootDispersionS: 0.001379604,
      updateIntervalS: 0,
      leap: 'Normal',
    });
  });

  it.each([
    ['nothing', ''],
    ['a line of the wrong shape', '7F000001,127.0.0.1,3'],
    ['a number that is not one', SERVING.split('\n')[0].replace('2.500220776', 'slow')],
    ["chronyc's text report", 'Reference ID    : 7F000001 (localhost)'],
  ])('refuses %s, naming what it got', (_what, text) => {
    expect(() => parseTracking(text)).toThrow(/chronyc/);
  });
});

describe(parseSources.name, () => {
  it('reads mode, state, name, the octal reachability register and the offsets', () => {
    expect(parseSources(FOLLOWING.split('\n').slice(1, 3).join('\n'))).toEqual([
      { mode: '^', state: '*', name: '10.185.197.3', stratum: 3, poll: -2, reach: 0o377, lastRxS: 0, offsetS: 0.000012816, measuredS: 0.000015075, errorS: 0.000317077 },
      { mode: '^', state: '?', name: '127.0.0.1', stratum: 0, poll: 0, reach: 0, lastRxS: 4294967295, offsetS: 0, measuredS: 0, errorS: 0 },
    ]);
  });
});

describe(parseSourceStats.name, () => {
  it('reads the samples chrony keeps of each source', () => {
    expect(parseSourceStats(SERVING.split('\n')[2])).toEqual([{ name: '127.0.0.1', samples: 3, runs: 3, spanS: 1, frequencyPpm: -70.834, skewPpm: 31143.723, offsetS: -0.000005338, stdDevS: 0.000018 }]);
  });
});

describe(parseClients.name, () => {
  it('reads NTP requests and the age of the last one, command clients included', () => {
    expect(parseClients(CLIENTS)).toEqual([
      { address: '10.185.197.2', ntpRequests: 25, ntpDropped: 0, lastNtpAgoS: 0 },
      { address: '127.0.0.1', ntpRequests: 3, ntpDropped: 0, lastNtpAgoS: 12 },
      { address: '127.0.0.1', ntpRequests: 0, ntpDropped: 0, lastNtpAgoS: 4294967295 },
    ]);
  });
});

describe(parseReports.name, () => {
  it('tells the three reports of one `chronyc -m` apart by their fields', () => {
    const r = parseReports(FOLLOWING);
    expect(r.tracking.refName).toBe('10.185.197.3');
    expect(r.sources.map((s) => s.name)).toEqual(['10.185.197.3', '127.0.0.1']);
    expect(r.stats.map((s) => [s.name, s.samples])).toEqual([
      ['10.185.197.3', 12],
      ['127.0.0.1', 0],
    ]);
  });

  it('refuses output without a tracking line (chronyd said something else)', () => {
    expect(() => parseReports('506 Cannot talk to daemon')).toThrow(/no tracking line/);
  });
});

describe(chronyView.name, () => {
  const view = (text: string, settings = LEADER, clients: string | null = '') => chronyView({ ...parseReports(text), clients: clients === null ? null : parseClients(clients) }, settings);

  it('serving: synchronised to the product feed; offset and bound in ms (root delay / 2 + root dispersion)', () => {
    expect(view(SERVING, LEADER, CLIENTS)).toEqual({
      state: 'serving',
      reference: '127.0.0.1',
      stratum: 3,
      offsetMs: 2500.221,
      errorBoundMs: 1.599,
      leap: 'Normal',
      leader: null,
      feedSamples: 3,
      feedConfigured: true,
      // Two addresses asked for time within the hour; a command client (no NTP request) is not served.
      clients: 2,
      refTimeMs: 1796682246478,
    });
  });

  it('local: the local reference, no source; unsynchronised: no time at all', () => {
    expect(view(LOCAL)).toMatchObject({ state: 'local', reference: null, stratum: 10, feedSamples: 2 });
    expect(view(NEVER_SYNCED)).toMatchObject({ state: 'unsynchronised', reference: null, stratum: 0, feedSamples: 0, feedConfigured: true });
  });

  it('following: the leader answers and is selected, and NTP keeps the clock', () => {
    const v = view(FOLLOWING, FOLLOWER);
    expect(v).toMatchObject({ state: 'following', reference: '10.185.197.3', stratum: 4, leader: { name: '10.185.197.3', reachable: true, selected: true, lastRxS: 0 }, feedSamples: 0 });
    expect(ntpKeepsClock(v)).toBe(true);
  });

  it('a leader that stopped answering is not followed, even while chrony still keeps its time', () => {
    const gone = FOLLOWING.replace('^,*,10.185.197.3,3,-2,377,0,', '^,*,10.185.197.3,3,0,0,14,');
    const v = view(gone, FOLLOWER);
    expect(v.leader).toEqual({ name: '10.185.197.3', reachable: false, selected: true, lastRxS: 14 });
    expect(ntpKeepsClock(v)).toBe(false);
  });

  it("the leader's own chrony, synchronised to the product feed, is not NTP keeping the clock; another server is", () => {
    expect(ntpKeepsClock(view(SERVING))).toBe(false);
    expect(ntpKeepsClock(view(LOCAL))).toBe(false);
    expect(ntpKeepsClock(view(FOLLOWING, LEADER))).toBe(true);
    expect(ntpKeepsClock(null)).toBe(false);
  });

  it('clients unknown (chronyd tells them on its command socket only) is null, not 0', () => {
    expect(view(SERVING, LEADER, null).clients).toBeNull();
  });

  it('without the feed among its sources, the product cannot give chrony time (said by feedConfigured)', () => {
    const v = view(FOLLOWING.split('\n').filter((l) => !l.includes('127.0.0.1')).join('\n'), FOLLOWER);
    expect(v).toMatchObject({ feedConfigured: false, feedSamples: null });
  });
});
