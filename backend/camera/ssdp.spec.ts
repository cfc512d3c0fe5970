import { accessUrlProblem, buildMSearch, CANON_SEARCH_TARGET, fetchDescription, locationProblem, parseDeviceDescription, parseSsdpMessage, SsdpDiscovery, SsdpEvent } from './ssdp';

const description = (accessUrlElement: string) => `<?xml version="1.0"?>
<root xmlns="urn:schemas-upnp-org:device-1-0">
<device>
<friendlyName>Canon EOS RP</friendlyName>
<modelName>Canon EOS RP</modelName>
<serialNumber>123456789123</serialNumber>
<UDN>uuid:00000000-0000-0000-0001-00BBC1859FAB</UDN>
<serviceList><service>
<serviceType>${CANON_SEARCH_TARGET}</serviceType>
${accessUrlElement}
<ns:X_onService xmlns:ns="urn:schemas-canon-com:schema-upnp">1</ns:X_onService>
<ns:X_deviceNickname xmlns:ns="urn:schemas-canon-com:schema-upnp">EOSRP</ns:X_deviceNickname>
</service></serviceList>
</device>
</root>`;

describe('SSDP', () => {
  describe(buildMSearch.name, () => {
    it("searches Canon's CCAPI service with real CRLF line endings (pitfall 16)", () => {
      expect(buildMSearch({ searchAddress: '239.255.255.250', searchPort: 1900, mx: 2 })).toBe(
        'M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\nMX: 2\r\n' +
          'ST: urn:schemas-canon-com:service:ICPO-CameraControlAPIService:1\r\n\r\n',
      );
    });
  });

  describe(parseSsdpMessage.name, () => {
    it('reads a NOTIFY', () => {
      const parsed = parseSsdpMessage(`NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nNT: ${CANON_SEARCH_TARGET}\r\nNTS: ssdp:alive\r\nLocation: http://192.168.4.2:49152/upnp/CameraDevDesc.xml\r\n\r\n`);
      expect(parsed?.startLine).toBe('NOTIFY * HTTP/1.1');
      expect(parsed?.headers.get('NTS')).toBe('ssdp:alive');
      expect(parsed?.headers.get('LOCATION')).toBe('http://192.168.4.2:49152/upnp/CameraDevDesc.xml');
    });

    it('refuses lines joined by a literal backslash-r-backslash-n', () => {
      expect(parseSsdpMessage('M-SEARCH * HTTP/1.1\\r\\nST: ssdp:all\\r\\n\\r\\n')).toBeNull();
      expect(parseSsdpMessage('GET / HTTP/1.1\r\n\r\n')).toBeNull();
    });
  });

  describe(parseDeviceDescription.name, () => {
    it("reads X_accessURL and the camera's names from Canon's namespace", () => {
      expect(parseDeviceDescription(description('<ns:X_accessURL xmlns:ns="urn:schemas-canon-com:schema-upnp">http://192.168.4.2:8080/ccapi</ns:X_accessURL>'))).toEqual({
        accessUrl: 'http://192.168.4.2:8080/ccapi',
        friendlyName: 'Canon EOS RP',
        modelName: 'Canon EOS RP',
        serialNumber: '123456789123',
        udn: 'uuid:00000000-0000-0000-0001-00BBC1859FAB',
        nickname: 'EOSRP',
        onService: true,
      });
    });

    it('follows whatever prefix the namespace is given', () => {
      const xml = description('<canon:X_accessURL xmlns:canon="urn:schemas-canon-com:schema-upnp">https://192.168.4.2:443/ccapi</canon:X_accessURL>');
      expect(parseDeviceDescription(xml)?.accessUrl).toBe('https://192.168.4.2:443/ccapi');
    });

    it('ignores an X_accessURL of another namespace, and XML that is not a description', () => {
      expect(parseDeviceDescription(description('<ns:X_accessURL xmlns:ns="urn:example:other">http://10.0.0.1/ccapi</ns:X_accessURL>'))).toBeNull();
      expect(parseDeviceDescription('not xml at all <')).toBeNull();
      expect(parseDeviceDescription(description('<ns:X_accessURL xmlns:ns="urn:schemas-canon-com:schema-upnp">javascript:alert(1)</ns:X_accessURL>'))).toBeNull();
    });
  });
});

describe('SSDP doors', () => {
  const NOTIFY = (nts: string, location = 'http://10.42.0.5:49152/upnp/CameraDevDesc.xml') =>
    `NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nNT: ${CANON_SEARCH_TARGET}\r\nNTS: ${nts}\r\nUSN: uuid:cam::${CANON_SEARCH_TARGET}\r\nLOCATION: ${location}\r\n\r\n`;
  const xml = (accessUrl: string) => description(`<ns:X_accessURL xmlns:ns="urn:schemas-canon-com:schema-upnp">${accessUrl}</ns:X_accessURL>`);

  describe(locationProblem.name, () => {
    it.each([
      ['http://10.42.0.5:49152/desc.xml', '10.42.0.5', null],
      ['http://10.42.0.5/desc.xml', '::ffff:10.42.0.5', null],
      ['http://127.0.0.1:49152/desc.xml', '10.42.0.5', /names "127.0.0.1:49152", not the sender/],
      ['http://[::1]:8080/', '10.42.0.5', /not the sender/],
      ['http://10.42.0.6/desc.xml', '10.42.0.5', /not the sender/],
      ['http://camera.local/desc.xml', '10.42.0.5', /not the sender/],
      ['file:///etc/passwd', '10.42.0.5', /not http/],
      ['http://u:p@10.42.0.5/desc.xml', '10.42.0.5', /credentials/],
      ['not a url', '10.42.0.5', /not a URL/],
    ])('%s from %s', (location, from, problem) => {
      const result = locationProblem(location, from);
      if (problem === null) expect(result).toBeNull();
      else expect(result).toMatch(problem);
    });
  });

  describe(accessUrlProblem.name, () => {
    const PORTS = [80, 443, 8080];
    it.each([
      ['http://10.42.0.5:8080/ccapi', null],
      ['http://10.42.0.5/ccapi', null],
      ['https://10.42.0.5/ccapi', null],
      ['https://10.42.0.5:443/ccapi', null],
      ['http://10.42.0.5:22/ccapi', /port 22/],
      ['https://10.42.0.5:80/ccapi', null],
      ['http://127.0.0.1:8080/ccapi', /names "127.0.0.1:8080", not the sender/],
      ['http://[::1]:8080/ccapi', /not the sender/],
      ['http://10.42.0.6:8080/ccapi', /not the sender/],
      ['http://10.42.0.5:8080/ccapi?x=1', /query/],
    ])('%s', (accessUrl, problem) => {
      const result = accessUrlProblem(accessUrl, '10.42.0.5', PORTS);
      if (problem === null) expect(result).toBeNull();
      else expect(result).toMatch(problem);
    });
  });

  describe(SsdpDiscovery.name, () => {
    let fetched: string[];
    let answer: string;
    let events: SsdpEvent[];
    let warnings: string[];

    const build = (admit: (a: string) => boolean) => {
      const sut = new SsdpDiscovery({ admit }, async (url) => {
        fetched.push(url);
        return answer;
      });
      sut.events$.subscribe((e) => events.push(e));
      jest.spyOn((sut as unknown as { logger: { warn: (m: string) => void } }).logger, 'warn').mockImplementation((m) => void warnings.push(m));
      return sut;
    };

    beforeEach(() => {
      fetched = [];
      events = [];
      warnings = [];
      answer = xml('http://10.42.0.5:8080/ccapi');
    });

    it('adopts an announcement whose LOCATION and X_accessURL are on its own address', async () => {
      await build(() => true).receive(NOTIFY('ssdp:alive'), '10.42.0.5');
      expect(fetched).toEqual(['http://10.42.0.5:49152/upnp/CameraDevDesc.xml']);
      expect(events).toEqual([{ type: 'alive', camera: expect.objectContaining({ address: '10.42.0.5', accessUrl: 'http://10.42.0.5:8080/ccapi' }) }]);
      expect(warnings).toEqual([]);
    });

    it('ignores a sender where no camera may be: nothing fetched, no event, one log line for a flood', async () => {
      const sut = build((a) => a.startsWith('10.42.0.'));
      for (let i = 0; i < 25; i++) await sut.receive(NOTIFY('ssdp:alive', 'http://192.168.1.50:49152/d.xml'), '192.168.1.50');
      await sut.receive(NOTIFY('ssdp:byebye'), '192.168.1.50');
      expect({ fetched, events }).toEqual({ fetched: [], events: [] });
      expect(warnings).toEqual([expect.stringMatching(/^Camera announcement from "192\.168\.1\.50" ignored \(SSDP_FOREIGN_SENDER\)/)]);
    });

    it('never fetches a LOCATION that is not on the sender (loopback, another host)', async () => {
      const sut = build(() => true);
      await sut.receive(NOTIFY('ssdp:alive', 'http://127.0.0.1:3000/api/cameras'), '10.42.0.5');
      await sut.receive(NOTIFY('ssdp:alive', 'http://10.42.0.9/d.xml'), '10.42.0.5');
      expect({ fetched, events }).toEqual({ fetched: [], events: [] });
      expect(warnings).toEqual([expect.stringContaining('(SSDP_FOREIGN_LOCATION)')]);
    });

    it.each([['http://127.0.0.1:8080/ccapi'], ['http://[::1]:8080/ccapi'], ['http://10.42.0.5:22/ccapi'], ['http://10.42.0.9:8080/ccapi']])(
      'refuses a description whose X_accessURL is %s',
      async (accessUrl) => {
        answer = xml(accessUrl);
        await build(() => true).receive(NOTIFY('ssdp:alive'), '10.42.0.5');
        expect(events).toEqual([]);
        expect(warnings).toEqual([expect.stringContaining('(SSDP_FOREIGN_ACCESS_URL)')]);
      },
    );

    it('reports byebye with the address it came from', async () => {
      await build(() => true).receive(NOTIFY('ssdp:byebye'), '::ffff:10.42.0.5');
      expect(events).toEqual([{ type: 'byebye', usn: `uuid:cam::${CANON_SEARCH_TARGET}`, from: '10.42.0.5' }]);
    });

    it('admits nobody unless told where cameras may be', async () => {
      const sut = new SsdpDiscovery({}, async (url) => {
        fetched.push(url);
        return answer;
      });
      sut.events$.subscribe((e) => events.push(e));
      jest.spyOn((sut as unknown as { logger: { warn: (m: string) => void } }).logger, 'warn').mockImplementation(() => undefined);
      await sut.receive(NOTIFY('ssdp:alive'), '10.42.0.5');
      expect({ fetched, events }).toEqual({ fetched: [], events: [] });
    });
  });
});

describe(fetchDescription.name, () => {
  it('follows no redirect', async () => {
    const http = await import('node:http');
    let hits = 0;
    const target = http.createServer((_req, res) => void (hits++, res.end('<secret/>')));
    const server = http.createServer((_req, res) => {
      res.writeHead(302, { Location: `http://127.0.0.1:${(target.address() as { port: number }).port}/` });
      res.end();
    });
    await Promise.all([new Promise<void>((r) => target.listen(0, '127.0.0.1', r)), new Promise<void>((r) => server.listen(0, '127.0.0.1', r))]);
    try {
      await expect(fetchDescription(`http://127.0.0.1:${(server.address() as { port: number }).port}/d.xml`, 1000)).rejects.toThrow('HTTP 302: a redirect, not followed');
      expect(hits).toBe(0);
    } finally {
      target.close();
      server.close();
    }
  });
});
