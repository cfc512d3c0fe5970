/**
 * NTPv4 packets (RFC 5905), the 48-byte header only: what the product's loopback feed needs to answer chrony's
 * client polls (mode 3) with server replies (mode 4). Pure: buffers in, plain values out.
 */

/** Seconds from the NTP era 0 epoch (1900-01-01) to the Unix epoch. */
export const NTP_UNIX_OFFSET_S = 2_208_988_800;
export const NTP_HEADER_BYTES = 48;

export const NtpLeap = { None: 0, AddSecond: 1, DeleteSecond: 2, Unsynchronised: 3 } as const;
export type NtpLeap = (typeof NtpLeap)[keyof typeof NtpLeap];

export const NtpMode = { Client: 3, Server: 4 } as const;

/** What a reply says about the server and its time; timestamps are Unix ms (fractions kept to about 0.2 ns). */
export interface NtpReply {
  leap: NtpLeap;
  /** 1: a reference clock; 2 and up: that many hops from one; 0 with leap 3: "no time" (unspecified). */
  stratum: number;
  /** log2 seconds: the precision of the server's clock (-20: about a microsecond). */
  precision: number;
  rootDelayS: number;
  rootDispersionS: number;
  /** Up to four ASCII characters (a stratum-1 code such as "GPS" or "PHON"), or an IPv4 address as a number. */
  refId: string | number;
  /** When the server's time was last set, Unix ms; null: never. */
  referenceMs: number | null;
  /** When the request arrived and when the reply left, on the server's clock, Unix ms. */
  receiveMs: number;
  transmitMs: number;
}

export interface NtpRequest {
  version: number;
  mode: number;
  poll: number;
  /** The request's transmit timestamp, as sent: the reply's origin timestamp must echo it byte for byte. */
  transmitRaw: Buffer;
}

/** A client request (mode 3, version 1-4, 48 bytes or more); null for anything else (a reply, a short or stray datagram). */
export function decodeRequest(buf: Buffer): NtpRequest | null {
  if (buf.length < NTP_HEADER_BYTES) return null;
  const version = (buf[0] >> 3) & 0x7;
  const mode = buf[0] & 0x7;
  if (mode !== NtpMode.Client || version < 1 || version > 4) return null;
  return { version, mode, poll: (buf[2] << 24) >> 24, transmitRaw: Buffer.from(buf.subarray(40, 48)) };
}

/** The reply to `request`: same version, mode 4, the request's transmit timestamp as the origin. */
export function encodeReply(request: NtpRequest, reply: NtpReply): Buffer {
  const out = Buffer.alloc(NTP_HEADER_BYTES);
  out[0] = (reply.leap << 6) | (request.version << 3) | NtpMode.Server;
  out[1] = reply.stratum & 0xff;
  out[2] = request.poll & 0xff;
  out[3] = reply.precision & 0xff;
  out.writeUInt32BE(toShortFormat(reply.rootDelayS), 4);
  out.writeUInt32BE(toShortFormat(reply.rootDispersionS), 8);
  if (typeof reply.refId === 'number') out.writeUInt32BE(reply.refId >>> 0, 12);
  else out.write(reply.refId.slice(0, 4), 12, 'ascii');
  if (reply.referenceMs !== null) writeTimestamp(out, 16, reply.referenceMs);
  request.transmitRaw.copy(out, 24);
  writeTimestamp(out, 32, reply.receiveMs);
  writeTimestamp(out, 40, reply.transmitMs);
  return out;
}

/** A reply as a client reads it (for tests and the bench: the same arithmetic chrony does). */
export function decodeReply(buf: Buffer): (NtpReply & { version: number; mode: number; originRaw: Buffer }) | null {
  if (buf.length < NTP_HEADER_BYTES) return null;
  const refRaw = buf.subarray(12, 16);
  const stratum = buf[1];
  const refText = refRaw.toString('ascii').replace(/\0+$/, '');
  return {
    leap: ((buf[0] >> 6) & 0x3) as NtpLeap,
    version: (buf[0] >> 3) & 0x7,
    mode: buf[0] & 0x7,
    stratum,
    precision: (buf[3] << 24) >> 24,
    rootDelayS: fromShortFormat(buf.readUInt32BE(4)),
    rootDispersionS: fromShortFormat(buf.readUInt32BE(8)),
    refId: stratum <= 1 && /^[\x20-\x7e]*$/.test(refText) ? refText : refRaw.readUInt32BE(0),
    referenceMs: buf.readUInt32BE(16) === 0 && buf.readUInt32BE(20) === 0 ? null : readTimestamp(buf, 16),
    originRaw: Buffer.from(buf.subarray(24, 32)),
    receiveMs: readTimestamp(buf, 32),
    transmitMs: readTimestamp(buf, 40),
  };
}

/** A client request with `transmitMs` as its transmit timestamp (tests and the bench). */
export function encodeRequest(transmitMs: number, version = 4, poll = 0): Buffer {
  const out = Buffer.alloc(NTP_HEADER_BYTES);
  out[0] = (version << 3) | NtpMode.Client;
  out[2] = poll & 0xff;
  writeTimestamp(out, 40, transmitMs);
  return out;
}

/** Unix ms as a 64-bit NTP timestamp (era 0: 1900-2036; the seconds wrap into era 1 after 2036 as RFC 5905 says). */
export function writeTimestamp(buf: Buffer, at: number, unixMs: number): void {
  const totalS = unixMs / 1000 + NTP_UNIX_OFFSET_S;
  const seconds = Math.floor(totalS);
  let fraction = Math.round((totalS - seconds) * 2 ** 32);
  let s = seconds;
  if (fraction >= 2 ** 32) {
    fraction -= 2 ** 32;
    s += 1;
  }
  buf.writeUInt32BE(s % 2 ** 32, at);
  buf.writeUInt32BE(fraction, at + 4);
}

/** A 64-bit NTP timestamp as Unix ms (era 0, or era 1 for seconds that read before 1968: after 2036). */
export function readTimestamp(buf: Buffer, at: number): number {
  let seconds = buf.readUInt32BE(at);
  if (seconds < 0x80000000 && seconds !== 0) seconds += 2 ** 32;
  return (seconds - NTP_UNIX_OFFSET_S) * 1000 + (buf.readUInt32BE(at + 4) / 2 ** 32) * 1000;
}

/** Seconds as NTP's 32-bit short format (16.16), rounded up so a bound is never made smaller; capped at its maximum. */
export function toShortFormat(seconds: number): number {
  if (!(seconds > 0)) return 0;
  return Math.min(0xffffffff, Math.ceil(seconds * 65536));
}

export function fromShortFormat(value: number): number {
  return value / 65536;
}

/** "PHON" as the 32-bit number an NTP header carries (for comparing with chronyc's hexadecimal reference IDs). */
export function refIdNumber(code: string): number {
  const b = Buffer.alloc(4);
  b.write(code.slice(0, 4), 0, 'ascii');
  return b.readUInt32BE(0);
}
