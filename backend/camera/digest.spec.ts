import { digestAuthorization, parseDigestChallenges } from './digest';

describe('Digest authentication', () => {
  // RFC 7616, section 3.9.1
  const rfc = {
    realm: 'http-auth@example.org',
    nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
    opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
    cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
  };

  describe(digestAuthorization.name, () => {
    it.each([
      ['MD5', '8ca523f5e9506fed4657c9700eebdbec'],
      ['SHA-256', '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1'],
    ] as const)('answers the RFC 7616 example with %s', (algorithm, response) => {
      const header = digestAuthorization({
        challenge: { realm: rfc.realm, nonce: rfc.nonce, opaque: rfc.opaque, qop: 'auth', algorithm },
        username: 'Mufasa',
        password: 'Circle of Life',
        method: 'GET',
        uri: '/dir/index.html',
        nc: 1,
        cnonce: rfc.cnonce,
      });
      expect(header).toBe(
        `Digest username="Mufasa", realm="${rfc.realm}", nonce="${rfc.nonce}", uri="/dir/index.html", algorithm=${algorithm}, ` +
          `response="${response}", qop=auth, nc=00000001, cnonce="${rfc.cnonce}", opaque="${rfc.opaque}"`,
      );
    });

    it('counts requests in hex, eight digits', () => {
      const header = digestAuthorization({ challenge: { realm: 'r', nonce: 'n', qop: 'auth', algorithm: 'MD5' }, username: 'u', password: 'p', method: 'PUT', uri: '/x', nc: 26 });
      expect(header).toContain('nc=0000001a');
      expect(header).toMatch(/cnonce="[0-9a-f]{24}"/);
    });
  });

  describe(parseDigestChallenges.name, () => {
    it('reads several challenges joined in one header, SHA-256 first', () => {
      const header = 'Digest realm="Canon CCAPI", nonce="abc", algorithm=MD5, qop="auth", Digest realm="Canon CCAPI", nonce="def", algorithm=SHA-256, qop="auth,auth-int", opaque="o"';
      expect(parseDigestChallenges(header)).toEqual([
        { realm: 'Canon CCAPI', nonce: 'def', algorithm: 'SHA-256', qop: 'auth', opaque: 'o', stale: false },
        { realm: 'Canon CCAPI', nonce: 'abc', algorithm: 'MD5', qop: 'auth', opaque: undefined, stale: false },
      ]);
    });

    it('reads an array of headers, defaults to MD5, notices stale', () => {
      expect(parseDigestChallenges(['Basic realm="x"', 'Digest realm="r", nonce="n", stale=TRUE'])).toEqual([
        { realm: 'r', nonce: 'n', algorithm: 'MD5', qop: undefined, opaque: undefined, stale: true },
      ]);
    });

    it('leaves out what it cannot answer', () => {
      expect(parseDigestChallenges('Digest realm="r", nonce="n", algorithm=SHA-512-256')).toEqual([]);
      expect(parseDigestChallenges('Digest realm="r", nonce="n", qop="auth-int"')).toEqual([]);
      expect(parseDigestChallenges('Basic realm="r"')).toEqual([]);
      expect(parseDigestChallenges(undefined)).toEqual([]);
    });
  });
});
