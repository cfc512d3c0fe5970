import { CLIENT_FRAME_TYPES, MAX_FRAME_BYTES } from '../protocol/messages';

/** Pseudo-events the parser emits for frames that cannot be dispatched; the gateway answers them with an error frame. */
export const INVALID_FRAME = '__invalid_frame__';

const arrivals = new WeakMap<object, number>();

/** When the frame carrying this payload arrived at the socket (monotonic ms). */
export function arrivalOf(payload: object): number | undefined {
  return arrivals.get(payload);
}

/**
 * The WsAdapter's message parser: design frames `{ type, data }` instead of Nest's `{ event, data }`.
 * It runs synchronously inside the socket's message event, so that is where the arrival is stamped.
 * It never throws: a bad frame becomes an INVALID_FRAME event carrying the code and message.
 */
export function createFrameParser(monotonic: () => number) {
  return (raw: unknown): { event: string; data: unknown } => {
    const receivedMono = monotonic();
    const text = Buffer.isBuffer(raw) ? raw.toString('utf8') : Array.isArray(raw) ? Buffer.concat(raw).toString('utf8') : raw instanceof ArrayBuffer ? Buffer.from(raw).toString('utf8') : String(raw);
    const bytes = Buffer.byteLength(text);
    if (bytes > MAX_FRAME_BYTES) return invalid('FRAME_TOO_LARGE', `frame of ${bytes} bytes refused: the limit is ${MAX_FRAME_BYTES} bytes`);
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      return invalid('INVALID_JSON', `frame is not valid JSON: ${JSON.stringify(text.slice(0, 60))}`);
    }
    if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) return invalid('BAD_REQUEST', 'frame must be a JSON object with a "type"');
    const { type, data, ...rest } = frame as Record<string, unknown>;
    if (typeof type !== 'string') return invalid('BAD_REQUEST', 'frame has no "type" string');
    if (!(CLIENT_FRAME_TYPES as readonly string[]).includes(type)) return invalid('UNKNOWN_MESSAGE_TYPE', `unknown message type ${JSON.stringify(type.slice(0, 60))}; expected one of ${CLIENT_FRAME_TYPES.join(', ')}`);
    const extra = Object.keys(rest);
    if (extra.length) return invalid('BAD_REQUEST', `unexpected field(s) ${extra.join(', ')} beside "type" and "data"`);
    const payload = data === undefined ? {} : data;
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return invalid('BAD_REQUEST', `"data" of ${type} must be an object`);
    arrivals.set(payload, receivedMono);
    return { event: type, data: payload };
  };
}

function invalid(code: string, message: string) {
  return { event: INVALID_FRAME, data: { code, message } };
}
