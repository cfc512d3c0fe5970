import * as dgram from 'node:dgram';

export const CANON_ST = 'urn:schemas-canon-com:service:ICPO-CameraControlAPIService:1';

export interface SsdpResponderOptions {
  /** Address to bind. Tests use 127.0.0.1; a real multicast responder would bind 0.0.0.0:1900. */
  address: string;
  port: number;
  /** Join this multicast group (only when bound to 0.0.0.0 on a real network). */
  multicastGroup?: string;
  location: () => string;
  usn: string;
}

/**
 * The camera's SSDP side: answers M-SEARCH for Canon's CCAPI service (or ssdp:all) by unicast, and sends
 * NOTIFY ssdp:alive / ssdp:byebye to where it is told. Lines end with real CRLF, as on the wire.
 */
export class SsdpResponder {
  /** Every datagram received, raw, for tests that check what the product sent. */
  readonly received: string[] = [];
  private socket: dgram.Socket | null = null;
  private boundPort = 0;

  constructor(private readonly options: SsdpResponderOptions) {}

  get port(): number {
    return this.boundPort;
  }

  async start(): Promise<void> {
    const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    this.socket = socket;
    socket.on('message', (msg, rinfo) => this.onMessage(msg.toString('utf8'), rinfo));
    socket.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(this.options.port, this.options.address, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    if (this.options.multicastGroup) socket.addMembership(this.options.multicastGroup);
    this.boundPort = socket.address().port;
  }

  /** Sends NOTIFY ssdp:alive or ssdp:byebye to a unicast target (tests) or the multicast group. */
  notify(kind: 'alive' | 'byebye', target: { address: string; port: number }): Promise<void> {
    const lines = [
      'NOTIFY * HTTP/1.1',
      'HOST: 239.255.255.250:1900',
      `NT: ${CANON_ST}`,
      `NTS: ssdp:${kind}`,
      `USN: ${this.options.usn}::${CANON_ST}`,
    ];
    if (kind === 'alive') lines.push('CACHE-CONTROL: max-age=1800', `LOCATION: ${this.options.location()}`, 'SERVER: Camera OS/1.0 UPnP/1.0 Canon Device Discovery/1.0');
    return this.send(`${lines.join('\r\n')}\r\n\r\n`, target.address, target.port);
  }

  close(): Promise<void> {
    const socket = this.socket;
    this.socket = null;
    return new Promise((resolve) => (socket ? socket.close(() => resolve()) : resolve()));
  }

  private onMessage(text: string, rinfo: dgram.RemoteInfo): void {
    this.received.push(text);
    this.answerSearch(text, rinfo);
  }

  /** Answers an M-SEARCH (received here or relayed by an SsdpHub) from this responder's own socket. */
  answerSearch(text: string, rinfo: { address: string; port: number }): void {
    // A real SSDP stack parses CRLF-separated lines; a message joined with a literal "\r\n" is not one.
    const [start, ...headerLines] = text.split('\r\n');
    if (start !== 'M-SEARCH * HTTP/1.1') return;
    const headers = new Map<string, string>();
    for (const line of headerLines) {
      const colon = line.indexOf(':');
      if (colon > 0) headers.set(line.slice(0, colon).trim().toUpperCase(), line.slice(colon + 1).trim());
    }
    if (headers.get('MAN') !== '"ssdp:discover"') return;
    const st = headers.get('ST');
    if (st !== CANON_ST && st !== 'ssdp:all' && st !== 'upnp:rootdevice') return;
    const answer = [
      'HTTP/1.1 200 OK',
      'CACHE-CONTROL: max-age=1800',
      'EXT:',
      `LOCATION: ${this.options.location()}`,
      'SERVER: Camera OS/1.0 UPnP/1.0 Canon Device Discovery/1.0',
      `ST: ${st}`,
      `USN: ${this.options.usn}::${st}`,
    ].join('\r\n');
    void this.send(`${answer}\r\n\r\n`, rinfo.address, rinfo.port);
  }

  private send(text: string, address: string, port: number): Promise<void> {
    return new Promise((resolve) => {
      if (!this.socket) return resolve();
      this.socket.send(Buffer.from(text, 'utf8'), port, address, () => resolve());
    });
  }
}

/**
 * Several cameras on one loopback "network": the product's M-SEARCH goes unicast to the hub, and every
 * responder answers it from its own socket, as cameras on a real multicast network would.
 */
export class SsdpHub {
  private socket: dgram.Socket | null = null;
  readonly received: string[] = [];

  constructor(readonly responders: SsdpResponder[]) {}

  async start(address = '127.0.0.1'): Promise<number> {
    const socket = dgram.createSocket('udp4');
    this.socket = socket;
    socket.on('error', () => undefined);
    socket.on('message', (msg, rinfo) => {
      this.received.push(msg.toString('utf8'));
      for (const responder of this.responders) responder.answerSearch(msg.toString('utf8'), rinfo);
    });
    await new Promise<void>((resolve) => socket.bind(0, address, resolve));
    return socket.address().port;
  }

  close(): Promise<void> {
    const socket = this.socket;
    this.socket = null;
    return new Promise((resolve) => (socket ? socket.close(() => resolve()) : resolve()));
  }
}

/** The UPnP device description a Canon camera serves at LOCATION. */
export function deviceDescriptionXml(o: { accessUrl: string; friendlyName: string; modelName: string; serialNumber: string; udn: string; nickname: string; onService: boolean }): string {
  return `<?xml version="1.0"?>
<root xmlns="urn:schemas-upnp-org:device-1-0">
<specVersion><major>1</major><minor>0</minor></specVersion>
<device>
<deviceType>urn:schemas-upnp-org:device:Basic:1</deviceType>
<friendlyName>${o.friendlyName}</friendlyName>
<manufacturer>Canon</manufacturer>
<manufacturerURL>http://www.canon.com/</manufacturerURL>
<modelDescription>Canon Digital Camera</modelDescription>
<modelName>${o.modelName}</modelName>
<serialNumber>${o.serialNumber}</serialNumber>
<UDN>${o.udn}</UDN>
<serviceList>
<service>
<serviceType>${CANON_ST}</serviceType>
<serviceId>urn:schemas-canon-com:serviceId:ICPO-CameraControlAPIService</serviceId>
<SCPDURL>/upnp/CameraControlAPIService.xml</SCPDURL>
<controlURL></controlURL>
<eventSubURL></eventSubURL>
<ns:X_accessURL xmlns:ns="urn:schemas-canon-com:schema-upnp">${o.accessUrl}</ns:X_accessURL>
<ns:X_onService xmlns:ns="urn:schemas-canon-com:schema-upnp">${o.onService ? 1 : 0}</ns:X_onService>
<ns:X_deviceNickname xmlns:ns="urn:schemas-canon-com:schema-upnp">${o.nickname}</ns:X_deviceNickname>
</service>
</serviceList>
<presentationURL>/</presentationURL>
</device>
</root>
`;
}
