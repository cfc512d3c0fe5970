import { createHash, randomBytes } from 'node:crypto';

/**
 * The camera side of Digest authentication, written apart from the product's client so that the two check
 * each other.
 */
export type SimDigestAlgorithm = 'MD5' | 'SHA-256';

export interface SimAuth {
  user: string;
  password: string;
  /** Challenges offered, in this order. Default: SHA-256 then MD5. */
  algorithms?: SimDigestAlgorithm[];
  realm?: string;
}

export class SimDigest {
  private readonly nonces = new Set<string>();
  private readonly realm: string;

  constructor(private readonly auth: SimAuth) {
    this.realm = auth.realm ?? 'Canon CCAPI';
  }

  /** WWW-Authenticate headers for a 401. */
  challenges(stale = false): string[] {
    return (this.auth.algorithms ?? ['SHA-256', 'MD5']).map((algorithm) => {
      const nonce = randomBytes(16).toString('hex');
      this.nonces.add(nonce);
      return `Digest realm="${this.realm}", nonce="${nonce}", algorithm=${algorithm}, qop="auth"${stale ? ', stale=true' : ''}`;
    });
  }

  /** Forgets every nonce handed out, so the next request is answered 401 with stale=true. */
  expireNonces(): void {
    this.nonces.clear();
  }

  /** 'ok', 'stale' (right password, forgotten nonce) or 'bad'. */
  check(header: string | undefined, method: string, uri: string): 'ok' | 'stale' | 'bad' {
    if (!header?.startsWith('Digest ')) return 'bad';
    const p: Record<string, string> = {};
    for (const m of header.slice(7).matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]+))/g)) p[m[1]] = m[2] ?? m[3];
    const algorithm = (p.algorithm ?? 'MD5') as SimDigestAlgorithm;
    if (!(this.auth.algorithms ?? ['SHA-256', 'MD5']).includes(algorithm)) return 'bad';
    if (p.username !== this.auth.user || p.realm !== this.realm || p.uri !== uri || p.qop !== 'auth' || !p.nc || !p.cnonce) return 'bad';
    const h = (s: string) => createHash(algorithm === 'MD5' ? 'md5' : 'sha256').update(s).digest('hex');
    const ha1 = h(`${this.auth.user}:${this.realm}:${this.auth.password}`);
    const ha2 = h(`${method}:${uri}`);
    const expected = h(`${ha1}:${p.nonce}:${p.nc}:${p.cnonce}:auth:${ha2}`);
    if (expected !== p.response) return 'bad';
    return this.nonces.has(p.nonce) ? 'ok' : 'stale';
  }
}
