import { buildMSearch, CANON_SEARCH_TARGET, parseDeviceDescription, parseSsdpMessage } from './ssdp';

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
