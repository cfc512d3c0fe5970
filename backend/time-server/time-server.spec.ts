import { ChronyView } from './chrony-report';
import { summaryOf } from './time-server';

const view = (over: Partial<ChronyView>): ChronyView => ({
  state: 'serving',
  reference: '127.0.0.1',
  stratum: 3,
  offsetMs: 0,
  errorBoundMs: 1.6,
  leap: 'Normal',
  leader: null,
  feedSamples: 5,
  feedConfigured: true,
  clients: 3,
  refTimeMs: 0,
  ...over,
});
const leader = (reachable: boolean, selected = reachable) => ({ name: '10.42.0.1', reachable, selected, lastRxS: reachable ? 1 : 40 });

describe(summaryOf.name, () => {
  it.each([
    ['a leader serving', view({}), '', 'serving to 3 clients, stratum 3, ±1.6 ms'],
    ['one client', view({ clients: 1 }), '', 'serving to 1 client, stratum 3, ±1.6 ms'],
    ['clients not told', view({ clients: null }), '', 'serving to clients (how many is not known: chronyd did not say), stratum 3, ±1.6 ms'],
    ['a leader on the internet', view({ state: 'following', reference: '192.0.2.7', stratum: 2, errorBoundMs: 12 }), '', 'following 192.0.2.7 over NTP, ±12 ms; serving to 3 clients'],
    ['no fresh source', view({ state: 'local', reference: null, stratum: 10 }), '', 'no fresh source: the clock runs on its own, served at local stratum 10; serving to 3 clients'],
    ['no time at all', view({ state: 'unsynchronised', reference: null, stratum: 0 }), '', 'no time to serve yet (chrony has no source)'],
    ['a follower', view({ state: 'following', reference: '10.42.0.1', stratum: 4, errorBoundMs: 2.4, clients: 0, leader: leader(true) }), '10.42.0.1', 'following 10.42.0.1 over NTP, ±2.4 ms; serving to 0 clients'],
    ['its leader gone, a phone keeping the time', view({ leader: leader(false), clients: 0 }), '10.42.0.1', "the leader 10.42.0.1 does not answer; the Pi's own source keeps the time (±1.6 ms); serving to 0 clients"],
    ['its leader gone, chrony keeping its time', view({ state: 'following', reference: '10.42.0.1', leader: leader(false, true), clients: 0 }), '10.42.0.1', 'the leader 10.42.0.1 does not answer; chrony keeps the time it had (±1.6 ms); serving to 0 clients'],
    ['its leader gone long ago', view({ state: 'local', reference: null, stratum: 10, leader: leader(false), clients: 0 }), '10.42.0.1', 'the leader 10.42.0.1 does not answer; the clock runs on its own (local stratum 10); serving to 0 clients'],
  ])('%s', (_what, v, follow, words) => {
    expect(summaryOf(v, follow)).toBe(words);
  });
});
