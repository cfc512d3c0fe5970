// A client of the app run inside a network namespace (`ip netns exec NS node client.js PLAN`): it plays a
// phone on the access point or a device on the LAN, runs the plan's steps in order over REST and one
// WebSocket, and prints one JSON line with what each step got. Plain JS so it starts fast without ts-node.
// Addresses may be IPv6 link-local with a zone (fe80::1%ph0): URLs cannot carry a zone, so every socket is
// opened with net.connect on the host and port.
const net = require('node:net');
const http = require('node:http');
const WebSocket = require('ws');

const plan = JSON.parse(process.argv[2]);
const { host, port } = plan;
const wsFrames = [];
let socket = null;
let probes = 0;
let mark = 0;
let answering = false;
let offsetMs = 0;
const waiters = [];
// The Host a browser would send for this address (URLs carry no zone): the server answers only its own names.
const hostHeader = `${host.includes(':') ? `[${host.replace(/%.*$/, '')}]` : host}:${port}`;

function request(method, path, body) {
  return new Promise((resolve) => {
    const text = body === undefined ? '' : JSON.stringify(body);
    const t0 = Date.now();
    const req = http.request({ host, port, method, path, headers: { host: hostHeader, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }, timeout: 10_000 }, (res) => {
      let data = '';
      res.setEncoding('utf8').on('data', (c) => (data += c));
      res.on('end', () => {
        let parsed = data;
        try {
          parsed = JSON.parse(data);
        } catch {}
        resolve({ status: res.statusCode, body: parsed, t0, t1: Date.now() });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ status: 0, error: e.code || e.message, t0, t1: Date.now() }));
    req.end(text);
  });
}

function openSocket() {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://server:${port}/ws`, { headers: { host: hostHeader }, createConnection: () => net.connect({ host, port }) });
    ws.on('message', (raw) => {
      const frame = JSON.parse(raw.toString());
      wsFrames.push(frame);
      if (frame.type === 'time-sync-request') {
        probes++;
        if (answering) ws.send(JSON.stringify({ type: 'time-sync-response', data: { clientTime: Date.now() + offsetMs, serverTime: frame.serverTime, requestId: frame.requestId, timezone: plan.timezone } }));
      }
      for (const w of [...waiters]) {
        if (w.pred(frame)) {
          waiters.splice(waiters.indexOf(w), 1);
          clearTimeout(w.timer);
          w.resolve(frame);
        }
      }
    });
    ws.once('open', () => resolve({ ok: true }));
    ws.once('error', (e) => resolve({ ok: false, error: e.code || e.message }));
    socket = ws;
  });
}

/** The next frame (after this call) matching pred, or null after timeoutMs. */
function next(pred, timeoutMs) {
  return new Promise((resolve) => {
    const w = { pred, resolve, timer: setTimeout(() => (waiters.splice(waiters.indexOf(w), 1), resolve(null)), timeoutMs) };
    waiters.push(w);
  });
}
const errorFrame = (f) => f.type === 'error';
const summary = (f) => (f ? (f.type === 'error' ? { error: f.data.code, message: f.data.message } : f.type === 'event' ? { event: f.eventType, data: f.data } : { type: f.type, data: f.data }) : null);

async function step(s) {
  switch (s.do) {
    case 'get':
      return request('GET', s.path);
    case 'post':
      return request('POST', s.path, s.body);
    case 'ws-open': {
      answering = !!s.answer;
      offsetMs = s.offsetMs || 0;
      const hello = next((f) => f.type === 'hello', 5000);
      const opened = await openSocket();
      const h = await hello;
      return { ...opened, trusted: h ? h.trusted : null };
    }
    case 'ws-send': {
      // Waits for the first frame that answers it: an error, or what `until` names.
      const until = (f) => errorFrame(f) || (s.until === 'manual-result' && f.type === 'manual-time-sync-result') || (s.until && f.type === 'event' && f.eventType === s.until && (!s.synchronized || f.data.synchronized) && (s.stepped === undefined || f.data.stepped === s.stepped));
      const got = next(until, s.timeoutMs || 8000);
      socket.send(JSON.stringify(s.frame));
      return summary(await got);
    }
    case 'mark':
      mark = wsFrames.length;
      return { frames: mark };
    case 'ws-wait': {
      const matches = (f) => errorFrame(f) || (f.type === 'event' && f.eventType === s.event && (s.stepped === undefined || f.data.stepped === s.stepped) && (!s.synchronized || f.data.synchronized)) || (s.decision && f.type === 'time-sync-status' && f.data.decision);
      // From the last mark when asked: what may already have come while other steps ran.
      const seen = s.sinceMark ? wsFrames.slice(mark).find(matches) : undefined;
      if (seen) return summary(seen);
      const got = await next((f) => errorFrame(f) || (f.type === 'event' && f.eventType === s.event && (s.stepped === undefined || f.data.stepped === s.stepped) && (!s.synchronized || f.data.synchronized)) || (s.decision && f.type === 'time-sync-status' && f.data.decision), s.timeoutMs || 8000);
      return summary(got);
    }
    case 'sleep':
      await new Promise((r) => setTimeout(r, s.ms));
      return { probes };
    case 'probes':
      return { probes, answered: answering };
    default:
      return { error: `unknown step ${s.do}` };
  }
}

(async () => {
  const results = [];
  for (const s of plan.steps) results.push({ step: s.name || s.do, ...(await step(s)) });
  if (socket) socket.terminate();
  process.stdout.write(JSON.stringify({ results, probes }) + '\n');
  process.exit(0);
})().catch((e) => {
  process.stdout.write(JSON.stringify({ fatal: String(e && e.stack) }) + '\n');
  process.exit(1);
});
