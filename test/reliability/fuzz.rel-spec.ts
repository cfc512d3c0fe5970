/**
 * Properties over hostile WebSocket frames and REST bodies (fast-check, over 10 000 inputs per run), against one
 * app on listen(0) with a camera simulator connected. From the access point (127.0.0.1) only invalid input is
 * sent, from outside (127.0.0.2) anything: each input must get a coded error (never INTERNAL, never a 500),
 * the connection stays open, and at the end the clock, the zone, the journal and the camera are as they were,
 * nothing was logged at error level (no stack traces), and the activity log holds at most one refusal line per
 * client. Failing inputs are shrunk and printed with the seed by fast-check.
 */
import { ConsoleLogger } from '@nestjs/common';
import fc from 'fast-check';
import { existsSync, readFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { join } from 'node:path';
import WebSocket from 'ws';
import { FORBIDDEN_KEYS, MAX_JSON_DEPTH } from '../../backend/common/json-guard';
import { MAX_FRAME_BYTES } from '../../backend/protocol/messages';
import { CLIENT_FRAME_TYPES, ErrorCode } from '../../backend/protocol/vocabulary';
import { isValidTimezone } from '../../backend/time/timezone';
import { BUILD_DATE_MS, MAX_PLAUSIBLE_MS } from '../../backend/time/validation';
import { CameraSim, startCameraSim } from '../camera-sim/sim';
import { startApp, StartedApp } from '../support/app';
import { counts, record, tally } from './report';

jest.setTimeout(300_000);

const TRUSTED = '127.0.0.1';
const OUTSIDER = '127.0.0.2';
const RUNS = { wsTrusted: 3000, wsOutsider: 2000, restTrusted: 3000, restOutsider: 2000 };
const CODES = new Set<string>(Object.values(ErrorCode).filter((c) => c !== ErrorCode.INTERNAL));

// ---- generators -----------------------------------------------------------------------------------

type Breakage = 'none' | 'extra-key' | 'forbidden-key' | 'deep' | 'top-extra' | 'unknown-type' | 'data-not-object' | 'bad-field' | 'missing-field';

/** A frame or body as text, how it was broken, and the code it must get (null: any coded error). */
interface Case {
  text: string;
  breakage: Breakage;
  expect: string | null;
}

const jsonText = (v: unknown) => JSON.stringify(v) ?? 'null';
/** Adds `"key": valueText` to the JSON object text `obj` (as text: a `__proto__` key set on an object would not serialize). */
const withKey = (obj: string, key: string, valueText: string) => (obj === '{}' ? `{${jsonText(key)}:${valueText}}` : `{${jsonText(key)}:${valueText},${obj.slice(1)}`);
const nest = (levels: number, inner: string, asObject: boolean) => (asObject ? '{"a":'.repeat(levels) + inner + '}'.repeat(levels) : '['.repeat(levels) + inner + ']'.repeat(levels));

const plausibleIso = fc.integer({ min: 0, max: MAX_PLAUSIBLE_MS - BUILD_DATE_MS - 1 }).map((ms) => new Date(BUILD_DATE_MS + ms).toISOString());
const goodZone = fc.constantFrom('UTC', 'Europe/Berlin', 'Asia/Tokyo', 'America/Los_Angeles');
const badZone = fc.string({ maxLength: 80 }).filter((z) => !isValidTimezone(z));
const badTimestamp = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer({ min: -1e15, max: BUILD_DATE_MS - 1 }),
  fc.double({ min: MAX_PLAUSIBLE_MS, noNaN: true }),
  fc.string({ maxLength: 40 }).filter((s) => !/\d/.test(s)),
  fc.date({ min: new Date(0), max: new Date(BUILD_DATE_MS - 1), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 6 }), fc.integer(), { maxKeys: 3 }),
);
/** Never a camera id: a character outside [A-Za-z0-9._-], too long, empty, or not a string. */
const badCameraId = fc.oneof(
  fc.tuple(fc.string({ maxLength: 20 }), fc.constantFrom('/', ' ', '..', '%', '\u0000', 'é', '"', '\\', '?'), fc.string({ maxLength: 20 })).map(([a, b, c]) => a + b + c),
  fc.string({ minLength: 65, maxLength: 120 }),
  fc.constant(''),
  fc.integer(),
  fc.boolean(),
  fc.array(fc.string(), { maxLength: 2 }),
);
const anyJson = fc.jsonValue({ maxDepth: 3 });
/** The test's own check, so that expectations do not lean on the code under test. */
function hasForbiddenKey(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return false;
  return Object.keys(v).some((k) => FORBIDDEN_KEYS.has(k)) || Object.values(v).some(hasForbiddenKey);
}
/** JSON without a forbidden key, where a test expects a specific other code. */
const cleanJson = anyJson.filter((v) => !hasForbiddenKey(v));
const CAMERA_SERIAL = '083021000123';
/** A well-formed id of no camera there is: UNKNOWN_CAMERA. */
const unknownCameraId = fc.stringMatching(/^[A-Za-z0-9._-]{1,20}$/).filter((id) => id !== CAMERA_SERIAL && !/^\.+$/.test(id));

/** Fields of a valid payload of each frame type (the outsider may send these whole). */
const validData: Record<string, fc.Arbitrary<Record<string, unknown>>> = {
  'manual-time-sync': fc.record({ timestamp: plausibleIso, timezone: goodZone }, { requiredKeys: ['timestamp'] }),
  'time-sync-response': fc.record({ clientTime: fc.integer({ min: BUILD_DATE_MS, max: BUILD_DATE_MS + 1e11 }), serverTime: fc.integer({ min: 0, max: 1e9 }), requestId: fc.string({ maxLength: 30 }), timezone: goodZone }, { requiredKeys: ['clientTime', 'serverTime', 'requestId'] }),
  'sync-camera': fc.record({ id: fc.stringMatching(/^[A-Za-z0-9._-]{1,10}$/), confirm: fc.boolean() }, { requiredKeys: [] }),
  'use-client-time': fc.constant({}),
  'get-time-sync-status': fc.constant({}),
  'session-start': fc.record({ label: fc.string({ maxLength: 60 }) }, { requiredKeys: [] }),
  'session-stop': fc.constant({}),
};
const FIELDS: Record<string, string[]> = {
  'manual-time-sync': ['timestamp', 'timezone'],
  'time-sync-response': ['clientTime', 'serverTime', 'requestId', 'timezone'],
  'sync-camera': ['id', 'confirm'],
  'use-client-time': [],
  'get-time-sync-status': [],
  'session-start': ['label', 'confirm'],
  'session-stop': [],
};
/** A field set to a value its type refuses. */
const badField: Record<string, fc.Arbitrary<[string, unknown]> | null> = {
  'manual-time-sync': fc.oneof(badTimestamp.map((v) => ['timestamp', v] as [string, unknown]), badZone.map((v) => ['timezone', v] as [string, unknown])),
  'time-sync-response': fc.oneof(badTimestamp.map((v) => ['clientTime', v] as [string, unknown]), anyJson.filter((v) => typeof v !== 'number').map((v) => ['serverTime', v] as [string, unknown])),
  'sync-camera': fc.oneof(badCameraId.map((v) => ['id', v] as [string, unknown]), unknownCameraId.map((v) => ['id', v] as [string, unknown]), anyJson.filter((v) => typeof v !== 'boolean' && v !== null).map((v) => ['confirm', v] as [string, unknown])),
  'use-client-time': null,
  'get-time-sync-status': null,
  'session-start': anyJson.filter((v) => typeof v !== 'string' && v !== null).map((v) => ['label', v] as [string, unknown]),
  'session-stop': null,
};
const REQUIRED: Record<string, string | null> = { 'manual-time-sync': 'timestamp', 'time-sync-response': 'clientTime', 'sync-camera': null, 'use-client-time': null, 'get-time-sync-status': null, 'session-start': null, 'session-stop': null };

/** A key the type does not have: random, or named after an Object.prototype member (class-transformer skips those silently). */
const unknownKey = (type: string) => fc.oneof(fc.string({ minLength: 1, maxLength: 16 }), fc.constantFrom(...Object.getOwnPropertyNames(Object.prototype))).filter((k) => !FIELDS[type].includes(k));

/** A payload of `type` broken in one way (or not at all), as JSON object text, with the code it must get. */
type Payload = { data: string; breakage: Breakage; expect: string | null };
function brokenPayload(type: string, breakages: Breakage[]): fc.Arbitrary<Payload> {
  const usable = breakages.filter((b) => (b !== 'bad-field' || badField[type]) && (b !== 'missing-field' || REQUIRED[type]));
  return fc.constantFrom(...usable).chain((breakage): fc.Arbitrary<Payload> => {
    const base = validData[type];
    switch (breakage) {
      case 'none':
        return base.map((d) => ({ data: jsonText(d), breakage, expect: null as string | null }));
      case 'extra-key':
        return fc.tuple(base, unknownKey(type), anyJson).map(([d, k, v]) => ({ data: withKey(jsonText(d), k, jsonText(v)), breakage, expect: null }));
      case 'forbidden-key':
        // At the top of the payload or inside a field's object value; any value.
        return fc.tuple(base, fc.constantFrom(...FORBIDDEN_KEYS), anyJson, fc.boolean()).map(([d, k, v, inside]) => {
          const field = Object.keys(d)[0];
          if (inside && field) {
            const rest = { ...d };
            delete rest[field];
            return { data: withKey(jsonText(rest), field, withKey('{}', k, jsonText(v))), breakage, expect: ErrorCode.FORBIDDEN_KEY };
          }
          return { data: withKey(jsonText(d), k, jsonText(v)), breakage, expect: ErrorCode.FORBIDDEN_KEY };
        });
      case 'deep':
        // Deeper than the limit counting the frame itself; up to the 3000 levels that overflowed class-transformer.
        return fc.tuple(base, fc.oneof(fc.integer({ min: MAX_JSON_DEPTH, max: 40 }), fc.integer({ min: 41, max: 3000 })), fc.boolean(), fc.constantFrom(...(FIELDS[type].length ? FIELDS[type] : ['x']))).map(([d, levels, asObject, field]) => {
          const rest = { ...d };
          delete rest[field];
          return { data: withKey(jsonText(rest), field, nest(levels, '1', asObject)), breakage, expect: ErrorCode.TOO_DEEP };
        });
      case 'bad-field':
        return fc.tuple(base, badField[type]!).map(([d, [k, v]]) => ({ data: jsonText({ ...d, [k]: v }), breakage, expect: null }));
      case 'missing-field':
        return base.map((d) => {
          const rest = { ...d };
          delete rest[REQUIRED[type]!];
          return { data: jsonText(rest), breakage, expect: null };
        });
      default:
        throw new Error(`payload breakage ${breakage}`);
    }
  });
}

const TYPES = CLIENT_FRAME_TYPES as readonly string[];

/** A whole WebSocket frame. `trusted`: never one that is valid (it could change something by design). */
function frameCase(trusted: boolean): fc.Arbitrary<Case> {
  const payloadBreakages: Breakage[] = ['extra-key', 'forbidden-key', 'deep', 'bad-field', 'missing-field', ...(trusted ? [] : (['none'] as Breakage[]))];
  const inFrame = fc.constantFrom(...TYPES).chain((type) =>
    brokenPayload(type, type === 'get-time-sync-status' ? payloadBreakages.filter((b) => b !== 'none') : payloadBreakages).map(({ data, breakage, expect }) => ({
      text: `{"type":${jsonText(type)},"data":${data}}`,
      breakage,
      // A whole valid frame from outside: refused for authority (get-time-sync-status is left out above).
      expect: breakage === 'none' ? (['time-sync-response', 'manual-time-sync', 'sync-camera', 'use-client-time', 'session-start', 'session-stop'].includes(type) ? ErrorCode.NOT_ACCESS_POINT_CLIENT : null) : expect,
    })),
  );
  const frameLevel: fc.Arbitrary<Case> = fc.oneof(
    fc.tuple(fc.string({ maxLength: 40 }).filter((t) => !TYPES.includes(t)), cleanJson).map(([type, data]) => ({ text: jsonText({ type, data }), breakage: 'unknown-type' as Breakage, expect: ErrorCode.UNKNOWN_MESSAGE_TYPE })),
    fc.tuple(fc.constantFrom(...TYPES), fc.string({ minLength: 1, maxLength: 12 }).filter((k) => k !== 'type' && k !== 'data' && !FORBIDDEN_KEYS.has(k)), cleanJson).map(([type, key, v]) => ({
      text: withKey(`{"type":${jsonText(type)},"data":{}}`, key, jsonText(v)),
      breakage: 'top-extra' as Breakage,
      expect: ErrorCode.BAD_REQUEST,
    })),
    fc.tuple(fc.constantFrom(...TYPES), fc.oneof(fc.integer(), fc.string(), fc.array(cleanJson, { maxLength: 3 }), fc.boolean())).map(([type, data]) => ({ text: jsonText({ type, data }), breakage: 'data-not-object' as Breakage, expect: ErrorCode.BAD_REQUEST })),
    // Text that is not a frame at all: garbage, JSON that is not an object, or an object without a type.
    fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: "binary", maxLength: 60 }), anyJson.map(jsonText)).filter((t) => !/"type"/.test(t)).map((text) => ({ text, breakage: 'unknown-type' as Breakage, expect: null })),
  );
  return fc.oneof({ weight: 4, arbitrary: inFrame }, { weight: 2, arbitrary: frameLevel }).map((c) => (Buffer.byteLength(c.text) > MAX_FRAME_BYTES ? { ...c, expect: ErrorCode.FRAME_TOO_LARGE } : c));
}

/** A REST request: method, path with query, body text. */
interface RestCase extends Case {
  path: string;
  contentType: string;
}

function restCase(trusted: boolean): fc.Arbitrary<RestCase> {
  const breakages: Breakage[] = ['extra-key', 'forbidden-key', 'deep', 'bad-field', 'missing-field', ...(trusted ? [] : (['none'] as Breakage[]))];
  const setTime = brokenPayload('manual-time-sync', breakages).map(({ data, breakage, expect }) => ({
    path: '/api/system/time',
    contentType: 'application/json',
    text: data,
    breakage,
    expect: breakage === 'none' ? ErrorCode.NOT_ACCESS_POINT_CLIENT : expect,
  }));
  const garbage = fc.tuple(fc.oneof(fc.string({ maxLength: 200 }), anyJson.map(jsonText)), fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded')).map(([text, contentType]) => ({
    path: '/api/system/time',
    contentType,
    text,
    breakage: 'bad-field' as Breakage,
    expect: null,
  }));
  // POST /api/timesync/camera?...: a bad id or a forbidden key in the query, so it never reaches the camera.
  const q = (k: string, v: unknown) => `${encodeURIComponent(k)}=${encodeURIComponent(typeof v === 'string' ? v : jsonText(v))}`;
  // In a query every value is a string: only strings that are no camera id (an integer would be one).
  const badQueryId = badCameraId.filter((id) => typeof id === 'string' && !/^(?!\.+$)[A-Za-z0-9._-]{1,64}$/.test(id));
  const cameraQuery = fc.oneof(
    fc.tuple(fc.oneof(badQueryId, fc.array(badQueryId, { minLength: 2, maxLength: 3 })), fc.constantFrom('', '&confirm=true', '&confirm=1')).map(([id, confirm]) => ({ query: Array.isArray(id) ? id.map((v) => q('id', v)).join('&') : q('id', id), confirm, expect: null as string | null, breakage: 'bad-field' as Breakage })),
    fc.tuple(unknownCameraId, fc.constantFrom('', '&confirm=true')).map(([id, confirm]) => ({ query: q('id', id), confirm, expect: ErrorCode.UNKNOWN_CAMERA as string | null, breakage: 'bad-field' as Breakage })),
    fc.tuple(fc.constantFrom(...FORBIDDEN_KEYS), fc.string({ maxLength: 10 }), fc.constantFrom('', '&confirm=true', '&id=cam1')).map(([k, v, more]) => ({ query: q(k, v), confirm: more, expect: ErrorCode.FORBIDDEN_KEY as string | null, breakage: 'forbidden-key' as Breakage })),
  );
  // Authority comes before the id: from outside, only a forbidden key in the query is answered otherwise.
  const camera = fc.tuple(cameraQuery, fc.constantFrom('', '{}')).map(([c, body]) => ({
    path: `/api/timesync/camera?${c.query}${c.confirm}`,
    contentType: 'application/json',
    text: body,
    breakage: c.breakage,
    expect: trusted || c.expect === ErrorCode.FORBIDDEN_KEY ? c.expect : ErrorCode.NOT_ACCESS_POINT_CLIENT,
  }));
  const cases: fc.Arbitrary<RestCase>[] = [setTime, garbage, camera];
  if (!trusted) {
    // Valid or not, from outside: refused (403) or a coded 400.
    cases.push(fc.tuple(fc.constantFrom('/api/timesync/use-client-time', '/api/timesync/camera', '/api/timesync/camera?confirm=true', '/api/timesync/camera?id=083021000123&confirm=true'), fc.oneof(fc.constant('{}'), anyJson.map(jsonText))).map(([path, text]) => ({ path, contentType: 'application/json', text, breakage: 'none' as Breakage, expect: null })));
  }
  return fc.oneof(...cases).map((c) => (Buffer.byteLength(c.text) > MAX_FRAME_BYTES ? { ...c, expect: ErrorCode.BODY_TOO_LARGE } : c));
}

// ---- clients ---------------------------------------------------------------------------------------

/** One WebSocket kept open for a whole property; each input waits for its error frame. */
class FuzzSocket {
  private waiting: ((frame: { code: string; message: string }) => void) | null = null;
  closed = false;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (raw) => {
      const frame = JSON.parse(raw.toString());
      if (frame.type === 'error' && this.waiting) {
        const resolve = this.waiting;
        this.waiting = null;
        resolve(frame.data);
      }
    });
    ws.on('close', () => (this.closed = true));
  }

  static open(url: string, localAddress: string): Promise<FuzzSocket> {
    const ws = new WebSocket(url, { localAddress });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new FuzzSocket(ws)));
      ws.once('error', reject);
    });
  }

  exchange(text: string): Promise<{ code: string; message: string }> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no error frame within 5 s for ${text.slice(0, 200)}`)), 5000);
      this.waiting = (frame) => {
        clearTimeout(timer);
        resolve(frame);
      };
      this.ws.send(text);
    });
  }
}

function rest(base: string, agent: Agent, localAddress: string, c: RestCase): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${c.path}`, { method: 'POST', agent, localAddress, headers: { 'content-type': c.contentType, 'content-length': Buffer.byteLength(c.text) } }, (res) => {
      let data = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (data += chunk));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: data ? JSON.parse(data) : undefined });
        } catch {
          resolve({ status: res.statusCode ?? 0, body: data });
        }
      });
    });
    req.on('error', reject);
    req.end(c.text);
  });
}

// ---- the properties --------------------------------------------------------------------------------

describe('Hostile frames and bodies (fast-check, one app, a camera connected)', () => {
  let sim: CameraSim;
  let app: StartedApp;
  const sockets: FuzzSocket[] = [];
  const agents: Record<string, Agent> = { [TRUSTED]: new Agent({ keepAlive: true, maxSockets: 1 }), [OUTSIDER]: new Agent({ keepAlive: true, maxSockets: 1 }) };
  const errorLogs: unknown[] = [];
  let before: Awaited<ReturnType<typeof snapshot>>;

  async function snapshot() {
    const t0 = Date.now();
    const res = await fetch(`${app.url}/api/timesync/status`);
    const t1 = Date.now();
    const status: any = await res.json();
    const journalFile = join(app.dataDir, 'clock-journal.jsonl');
    return {
      piMinusHostMs: status.pi.epochMs - (t0 + t1) / 2,
      zone: status.pi.timezone as string,
      syncSource: status.syncSource as string,
      journal: existsSync(journalFile) ? readFileSync(journalFile, 'utf8') : '',
      cameraWrites: sim.requests.filter((r) => r.method === 'PUT').length,
      cameraErrorMs: sim.clock.errorMs(),
      activity: status.activityLog as Array<{ details: { error?: string; client?: string } }>,
    };
  }

  function expectUnchanged(now: Awaited<ReturnType<typeof snapshot>>) {
    expect(Math.abs(now.piMinusHostMs - before.piMinusHostMs)).toBeLessThan(250);
    expect({ zone: now.zone, source: now.syncSource, journal: now.journal, cameraWrites: now.cameraWrites }).toEqual({ zone: before.zone, source: before.syncSource, journal: before.journal, cameraWrites: before.cameraWrites });
    expect(Math.abs(now.cameraErrorMs - before.cameraErrorMs)).toBeLessThan(50);
  }

  beforeAll(async () => {
    jest.spyOn(ConsoleLogger.prototype, 'error').mockImplementation((...args: unknown[]) => void errorLogs.push(args));
    sim = await startCameraSim({ httpsPort: false });
    app = await startApp({
      AP_SUBNETS: `${TRUSTED}/32`,
      AUTO_SYNC: 'false',
      CAMERA_URL: sim.httpUrl,
      CAMERA_POLL_INTERVAL: '1000',
      CAMERA_SYNC_ON_CONNECT: 'false',
      // The budgets are tested by the load suite; here they would only slow the properties down.
      WS_MAX_FRAMES_PER_SECOND: '1000000',
      WS_MAX_BYTES_PER_SECOND: '1073741824',
      HTTP_MAX_WRITES_PER_SECOND: '1000000',
    });
    // The camera connects and the Pi takes its time (reliability none): let that settle before the baseline.
    for (let i = 0; i < 100; i++) {
      const s: any = await (await fetch(`${app.url}/api/timesync/status`)).json();
      if (s.camera.connected && s.syncSource === 'camera') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    before = await snapshot();
    expect(before.syncSource).toBe('camera');
  });

  afterAll(async () => {
    for (const s of sockets) s.ws.terminate();
    for (const a of Object.values(agents)) a.destroy();
    await app?.close();
    await sim?.close();
    jest.restoreAllMocks();
  });

  const ws = (address: string) => async () => {
    const s = await FuzzSocket.open(app.wsUrl, address);
    sockets.push(s);
    return s;
  };

  it.each([
    ['from the access point, invalid only', TRUSTED, RUNS.wsTrusted],
    ['from outside, anything', OUTSIDER, RUNS.wsOutsider],
  ])('WebSocket frames %s: a coded error each, the connection stays open', async (label, address, numRuns) => {
    const socket = await ws(address)();
    const seen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(frameCase(address === TRUSTED), async (c) => {
        const error = await socket.exchange(c.text);
        tally(seen, error.code);
        expect(CODES).toContain(error.code);
        if (c.expect) expect(error.code).toBe(c.expect);
        expect(socket.closed).toBe(false);
      }),
      {
        numRuns,
        examples: [
          [{ text: `{"type":"manual-time-sync","data":{"timestamp":${nest(3000, '1', false)}}}`, breakage: 'deep', expect: ErrorCode.TOO_DEEP }],
          [{ text: '{"type":"manual-time-sync","data":{"timestamp":"2027-01-01T00:00:00Z","constructor":"x"}}', breakage: 'forbidden-key', expect: ErrorCode.FORBIDDEN_KEY }],
          [{ text: '{"type":"manual-time-sync","data":{"timestamp":"2027-01-01T00:00:00Z","__proto__":{"admin":true}}}', breakage: 'forbidden-key', expect: ErrorCode.FORBIDDEN_KEY }],
          [{ text: `{"type":"get-time-sync-status","data":{"pad":"${'x'.repeat(20_000)}"}}`, breakage: 'bad-field', expect: ErrorCode.FRAME_TOO_LARGE }],
        ],
      },
    );
    record({ suite: 'fuzz', what: `WebSocket frames ${label} (fast-check)`, times: numRuns + 4, outcome: `a coded error for every one, connection kept: ${counts(seen)}` });
    expectUnchanged(await snapshot());
  });

  it.each([
    ['from the access point, invalid only', TRUSTED, RUNS.restTrusted],
    ['from outside, anything', OUTSIDER, RUNS.restOutsider],
  ])('REST bodies and queries %s: a coded 4xx each, never a 500', async (label, address, numRuns) => {
    const seen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(restCase(address === TRUSTED), async (c) => {
        const res = await rest(app.url, agents[address], address, c);
        tally(seen, `${res.status} ${res.body?.code}`);
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
        expect(CODES).toContain(res.body?.code);
        if (c.expect) expect(res.body.code).toBe(c.expect);
      }),
      {
        numRuns,
        examples: [
          [{ path: '/api/system/time', contentType: 'application/json', text: `{"timestamp":${nest(3000, '1', false)}}`, breakage: 'deep', expect: ErrorCode.TOO_DEEP }],
          [{ path: '/api/system/time', contentType: 'application/json', text: '{"timestamp":"2027-01-01T00:00:00Z","__proto__":{"x":1}}', breakage: 'forbidden-key', expect: ErrorCode.FORBIDDEN_KEY }],
          [{ path: '/api/timesync/camera?constructor=x&confirm=true', contentType: 'application/json', text: '', breakage: 'forbidden-key', expect: ErrorCode.FORBIDDEN_KEY }],
        ],
      },
    );
    record({ suite: 'fuzz', what: `REST bodies and queries ${label} (POST /api/system/time, /api/timesync/camera${address === OUTSIDER ? ', /api/timesync/use-client-time' : ''}; fast-check)`, times: numRuns + 3, outcome: `a coded 4xx for every one: ${counts(seen)}` });
    expectUnchanged(await snapshot());
  });

  it('after all of it: nothing changed, nothing logged at error level, one refusal line per client in the activity log', async () => {
    const after = await snapshot();
    expectUnchanged(after);
    expect(errorLogs).toEqual([]);
    const refusals = after.activity.filter((e) => e.details.error === ErrorCode.NOT_ACCESS_POINT_CLIENT);
    // The properties run in well under a minute; a client gets one line per 10 s interval at most.
    expect(refusals.length).toBeLessThanOrEqual(12);
    const health = await fetch(`${app.url}/api/health`);
    expect(health.status).toBe(200);
    record({
      suite: 'fuzz',
      what: 'state after every property: clock, zone, source, journal, camera writes; error-level log lines; refusal lines in the activity log',
      times: 1,
      outcome: `unchanged (Pi minus host ${Math.round(after.piMinusHostMs - before.piMinusHostMs)} ms from the baseline, journal ${after.journal.length} bytes as before, ${after.cameraWrites} camera writes as before); ${errorLogs.length} error lines; ${refusals.length} refusal lines in the activity log`,
    });
  });
});
