import { MAX_FRAME_BYTES } from '../protocol/messages';
import { arrivalOf, createFrameParser, INVALID_FRAME } from './ws-frames';

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

  it.each([
    ['{nope', 'INVALID_JSON'],
    ['"text"', 'BAD_REQUEST'],
    ['null', 'BAD_REQUEST'],
    ['{"data":{}}', 'BAD_REQUEST'],
    ['{"type":"shutdown"}', 'UNKNOWN_MESSAGE_TYPE'],
    ['{"type":"get-time-sync-status","data":5}', 'BAD_REQUEST'],
    ['{"type":"get-time-sync-status","data":{},"event":"x"}', 'BAD_REQUEST'],
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
