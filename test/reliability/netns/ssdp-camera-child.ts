// A camera (or something pretending to be one) in a namespace of its own, for doors-ssdp.rel-spec.ts:
// `node -r ts-node/register/transpile-only ssdp-camera-child.ts '{"host":..,"clockOffsetMs":..,"serial":..}'`.
// Serves CCAPI on host:8080 and the UPnP description, prints `READY <descriptionUrl> <usn>`, then takes JSON lines
// on stdin: {"notify":"alive"|"byebye","to":{address,port},"from"?:address,"location"?:url} sends a NOTIFY (from
// `from`, default host; LOCATION default the description) and prints `SENT`; {"requests":true} prints
// `REQUESTS <n>` (CCAPI requests received). With {"bait":true}: an HTTP server on host:9999 that prints `HIT <path>`
// for every request (a loopback service the Pi must never be made to fetch).
import * as dgram from 'node:dgram';
import * as http from 'node:http';
import { createInterface } from 'node:readline';
import { startCameraSim } from '../../camera-sim/sim';
import { CANON_ST } from '../../camera-sim/sim-ssdp';

const options = JSON.parse(process.argv[2]) as { host: string; clockOffsetMs?: number; serial?: string; bait?: boolean };

function send(text: string, from: string, to: { address: string; port: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, from, () => socket.send(Buffer.from(text, 'utf8'), to.port, to.address, () => socket.close(() => resolve())));
  });
}

void (async () => {
  if (options.bait) {
    const server = http.createServer((req, res) => {
      process.stdout.write(`HIT ${req.url}\n`);
      res.end('<root/>');
    });
    await new Promise<void>((resolve) => server.listen(9999, options.host, resolve));
    process.stdout.write(`READY http://${options.host}:9999/ -\n`);
    process.stdin.on('end', () => server.close(() => process.exit(0))).resume();
    return;
  }
  const sim = await startCameraSim({ host: options.host, httpPort: 8080, httpsPort: false, clockOffsetMs: options.clockOffsetMs ?? 0, serialNumber: options.serial });
  process.stdout.write(`READY ${sim.descriptionUrl} ${sim.usn}\n`);
  createInterface({ input: process.stdin }).on('line', (line) => {
    void (async () => {
      const command = JSON.parse(line) as { notify?: 'alive' | 'byebye'; to?: { address: string; port: number }; from?: string; location?: string; requests?: boolean };
      if (command.requests) return void process.stdout.write(`REQUESTS ${sim.requests.length}\n`);
      const lines = ['NOTIFY * HTTP/1.1', 'HOST: 239.255.255.250:1900', `NT: ${CANON_ST}`, `NTS: ssdp:${command.notify}`, `USN: ${sim.usn}::${CANON_ST}`];
      if (command.notify === 'alive') lines.push('CACHE-CONTROL: max-age=1800', `LOCATION: ${command.location ?? sim.descriptionUrl}`);
      await send(`${lines.join('\r\n')}\r\n\r\n`, command.from ?? options.host, command.to!);
      process.stdout.write('SENT\n');
    })();
  });
  process.stdin.on('end', () => void sim.close().then(() => process.exit(0)));
  process.on('SIGTERM', () => void sim.close().then(() => process.exit(0)));
})();
