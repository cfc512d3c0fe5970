import { createHash, randomBytes } from 'node:crypto';

/**
 * HTTP Digest authentication (RFC 7616), the part a CCAPI camera uses: MD5 or SHA-256, qop=auth, optional
 * `-sess`. Small enough to write here rather than pull in a dependency.
 */
export type DigestAlgorithm = 'MD5' | 'SHA-256' | 'MD5-sess' | 'SHA-256-sess';

export interface DigestChallenge {
  realm: string;
  nonce: string;
  qop?: string;
  algorithm: DigestAlgorithm;
  opaque?: string;
  stale?: boolean;
}

const SUPPORTED: readonly DigestAlgorithm[] = ['SHA-256', 'SHA-256-sess', 'MD5', 'MD5-sess'];

/**
 * The Digest challenges of a `WWW-Authenticate` header (several headers arrive joined by ", "), best first
 * (SHA-256 before MD5); challenges with an algorithm or qop we cannot answer are left out.
 */
export function parseDigestChallenges(header: string | string[] | undefined): DigestChallenge[] {
  if (!header) return [];
  const text = Array.isArray(header) ? header.join(', ') : header;
  const challenges: DigestChallenge[] = [];
  // Split before each scheme name: a token followed by a space and a `name=` parameter.
  for (const part of text.split(/,?\s*(?=\b[A-Za-z][\w-]*\s+[A-Za-z][\w-]*\s*=)/)) {
    const scheme = /^\s*([A-Za-z][\w-]*)\s+(.*)$/s.exec(part);
    if (!scheme || scheme[1].toLowerCase() !== 'digest') continue;
    const params = parseParams(scheme[2]);
    const algorithm = (SUPPORTED.find((a) => a.toLowerCase() === (params.algorithm ?? 'MD5').toLowerCase()) ?? null) as DigestAlgorithm | null;
    if (!algorithm || params.realm === undefined || !params.nonce) continue;
    const qops = params.qop?.split(',').map((q) => q.trim().toLowerCase());
    if (qops && !qops.includes('auth')) continue;
    challenges.push({
      realm: params.realm,
      nonce: params.nonce,
      qop: qops ? 'auth' : undefined,
      algorithm,
      opaque: params.opaque,
      stale: params.stale?.toLowerCase() === 'true',
    });
  }
  return challenges.sort((a, b) => SUPPORTED.indexOf(a.algorithm) - SUPPORTED.indexOf(b.algorithm));
}

function parseParams(text: string): Record<string, string> {
  const params: Record<string, string> = {};
  const re = /([A-Za-z][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    params[m[1].toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3];
  }
  return params;
}

export interface DigestInput {
  challenge: DigestChallenge;
  username: string;
  password: string;
  method: string;
  /** Request target as sent: path and query. */
  uri: string;
  /** Request counter for this nonce, from 1. */
  nc: number;
  cnonce?: string;
}

/** The `Authorization` header value answering `challenge`. */
export function digestAuthorization(input: DigestInput): string {
  const { challenge, username, password, method, uri, nc } = input;
  const cnonce = input.cnonce ?? randomBytes(12).toString('hex');
  const ncText = nc.toString(16).padStart(8, '0');
  const h = hasher(challenge.algorithm);
  let ha1 = h(`${username}:${challenge.realm}:${password}`);
  if (challenge.algorithm.endsWith('-sess')) ha1 = h(`${ha1}:${challenge.nonce}:${cnonce}`);
  const ha2 = h(`${method.toUpperCase()}:${uri}`);
  const response = challenge.qop ? h(`${ha1}:${challenge.nonce}:${ncText}:${cnonce}:auth:${ha2}`) : h(`${ha1}:${challenge.nonce}:${ha2}`);
  const q = (value: string) => `"${value.replace(/(["\\])/g, '\\$1')}"`;
  const parts = [
    `username=${q(username)}`,
    `realm=${q(challenge.realm)}`,
    `nonce=${q(challenge.nonce)}`,
    `uri=${q(uri)}`,
    `algorithm=${challenge.algorithm}`,
    `response=${q(response)}`,
  ];
  if (challenge.qop) parts.push('qop=auth', `nc=${ncText}`, `cnonce=${q(cnonce)}`);
  if (challenge.opaque !== undefined) parts.push(`opaque=${q(challenge.opaque)}`);
  return `Digest ${parts.join(', ')}`;
}

function hasher(algorithm: DigestAlgorithm): (text: string) => string {
  const name = algorithm.startsWith('SHA-256') ? 'sha256' : 'md5';
  return (text) => createHash(name).update(text, 'utf8').digest('hex');
}
