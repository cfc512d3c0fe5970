import { CLIENT_FRAME_DATA_KEYS, CLIENT_FRAME_TYPES, MAX_FRAME_BYTES } from '../protocol/messages';
import { Logger } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import { lastValueFrom, of } from 'rxjs';
import { arrivalOf, createFrameParser, GuardedWsAdapter, INVALID_FRAME, LoopWatch, readLagOf, shed, stampReads } from './ws-frames';

describe(createFrameParser.name, () => {
  let mono = 100;
  const sut = createFrameParser(() => mono);

  it('maps the design frame {type, data} to a Nest event and stamps its arrival', () => {
    mono = 123.456;
    const parsed = sut(Buffer.from(JSON.stringify({ type: 'time-sync-response', data: { clientTime: 1, serverTime: 2, requestId: 'r' } })));
    expect(parsed.event).toBe('time-sync-response');
    expect(parsed.data).toEqual({ clientTime: 1, serverTime: 2, requestId: 'r' });
    expect(arrivalOf(parsed.data as object)).toBe(123.456);
  });

  it('gives a frame without data an empty payload', () => {
    expect(sut('{"type":"get-time-sync-status"}')).toMatchObject({ event: 'get-time-sync-status', data: {} });
  });

  describe('refuses unknown keys in "data" on every client frame type alike', () => {
    it.each(CLIENT_FRAME_TYPES.map((type) => [type]))('%s', (type) => {
      const parsed = sut(JSON.stringify({ type, data: { unexpectedKey: 1 } }));
      expect(parsed.event).toBe(INVALID_FRAME);
      expect(parsed.data).toEqual({ code: 'BAD_REQUEST', message: expect.stringMatching(new RegExp(`^${type}: unexpected field\\(s\\) "unexpectedKey" in "data"; it takes`)) });
    });

    it.each(CLIENT_FRAME_TYPES.map((type) => [type]))('%s: every key it knows passes the parser', (type) => {
      const data = Object.fromEntries(CLIENT_FRAME_DATA_KEYS[type].map((k) => [k, 1]));
      expect(sut(JSON.stringify({ type, data })).event).toBe(type);
    });

    it('knows the data keys of every frame type, and no other type', () => {
      expect(Object.keys(CLIENT_FRAME_DATA_KEYS).sort()).toEqual([...CLIENT_FRAME_TYPES].sort());
    });
  });

  it.each([
    ['{nope', 'INVALID_JSON'],
    ['"text"', 'BAD_REQUEST'],
    ['null', 'BAD_REQUEST'],
    ['{"data":{}}', 'BAD_REQUEST'],
    ['{"type":"shutdown"}', 'UNKNOWN_MESSAGE_TYPE'],
    ['{"type":"get-time-sync-status","data":5}', 'BAD_REQUEST'],
    ['{"type":"get-time-sync-status","data":{},"event":"x"}', 'BAD_REQUEST'],
    [`{"type":"manual-time-sync","data":{"timestamp":${'['.repeat(3000)}1${']'.repeat(3000)}}}`, 'TOO_DEEP'],
    ['{"type":"manual-time-sync","data":{"timestamp":1,"__proto__":{"admin":true}}}', 'FORBIDDEN_KEY'],
    ['{"type":"manual-time-sync","data":{"timestamp":1,"constructor":"x"}}', 'FORBIDDEN_KEY'],
    ['{"type":"sync-camera","data":{"id":{"prototype":1}}}', 'FORBIDDEN_KEY'],
    ['{"type":"sync-camera","__proto__":{}}', 'FORBIDDEN_KEY'],
  ])('turns %s into an error event %s instead of throwing', (raw, code) => {
    const parsed = sut(raw);
    expect(parsed.event).toBe(INVALID_FRAME);
    expect(parsed.data).toMatchObject({ code });
  });

  it('refuses frames over 16 KiB, naming the size', () => {
    const raw = JSON.stringify({ type: 'get-time-sync-status', data: { pad: 'x'.repeat(MAX_FRAME_BYTES) } });
    const parsed = sut(Buffer.from(raw));
    expect(parsed).toEqual({ event: INVALID_FRAME, data: { code: 'FRAME_TOO_LARGE', message: expect.stringContaining(String(Buffer.byteLength(raw))) } });
  });
});

describe(GuardedWsAdapter.name, () => {
  const handlers = () => new Map([['get-time-sync-status', { message: 'get-time-sync-status', callback: jest.fn().mockReturnValue('answered'), methodName: 'x' }]]);
  const sut = () => new GuardedWsAdapter({} as never, () => 0);

  it('drops frames of a connection that was shed for flooding, unparsed', async () => {
    const adapter = sut();
    const client = {} as never;
    const map = handlers();
    const frame = { data: '{"type":"get-time-sync-status"}', target: client };
    await expect(lastValueFrom(adapter.bindMessageHandler(frame, map as never, (d) => of(d)))).resolves.toBe('answered');
    shed(client);
    await expect(lastValueFrom(adapter.bindMessageHandler(frame, map as never, (d) => of(d)), { defaultValue: 'nothing' })).resolves.toBe('nothing');
    expect(map.get('get-time-sync-status')!.callback).toHaveBeenCalledTimes(1);
  });

  it("logs a client's socket error as one warn line with ws's code, no stack, once per address and window", () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const server = new EventEmitter();
    sut().bindErrorHandler(server as never);
    for (let i = 0; i < 3; i++) {
      const client = new EventEmitter();
      server.emit('connection', client, { socket: { remoteAddress: '::ffff:10.0.0.7' } });
      client.emit('error', Object.assign(new RangeError('Invalid WebSocket frame: invalid UTF-8 sequence'), { code: 'WS_ERR_INVALID_UTF8' }));
    }
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toBe('client 10.0.0.7: WS_ERR_INVALID_UTF8 Invalid WebSocket frame: invalid UTF-8 sequence; ws closed the connection');
    expect(error).not.toHaveBeenCalled();
    warn.mockRestore();
    error.mockRestore();
  });
});

describe(LoopWatch.name, () => {
  afterEach(() => jest.useRealTimers());

  it('counts the busy time since its last sample, and nothing while it is not watching', () => {
    jest.useFakeTimers();
    let now = 1000;
    let idle = 50;
    const sut = new LoopWatch(() => now, () => idle);
    expect(sut.busyBefore(now)).toBe(0);
    sut.watch(10);
    // 3 ms later, of which 1 ms spent waiting in epoll: busy for 2 ms.
    now += 3;
    idle += 1;
    expect(sut.busyBefore(now)).toBe(2);
    // Its timer samples again: right after that nothing has been busy.
    jest.advanceTimersByTime(1);
    expect(sut.busyBefore(now)).toBe(0);
    now += 20;
    jest.advanceTimersByTime(2);
    expect(sut.busyBefore(now + 5)).toBe(0);
  });
});

describe(stampReads.name, () => {
  it('stamps a frame with the time its socket was read, before ws parses it, and with the loop lag then', () => {
    let mono = 10;
    const socket = new EventEmitter();
    const parse = createFrameParser(() => mono);
    let parsed: { data: unknown } | undefined;
    // ws's own listener, already there when the connection is announced.
    socket.on('data', () => {
      mono = 14; // parsing the earlier frames of the chunk took a while
      parsed = parse(JSON.stringify({ type: 'time-sync-response', data: { clientTime: 1, serverTime: 2, requestId: 'r' } }));
    });
    stampReads(socket, () => mono, { busyBefore: (at: number) => (at === 10 ? 0.7 : NaN) } as unknown as LoopWatch);
    socket.emit('data', Buffer.from('x'));
    expect(arrivalOf(parsed!.data as object)).toBe(10);
    expect(readLagOf(parsed!.data as object)).toBe(0.7);
    // Outside a read (ws deferred the message) the parser stamps it itself.
    mono = 20;
    const later = parse('{"type":"get-time-sync-status"}');
    expect(arrivalOf(later.data as object)).toBe(20);
    expect(readLagOf(later.data as object)).toBe(0);
  });
});
