// A UDP link with 5 ms ± 1 ms each way, in its own process: `node udp-jitter-link.js <listenHost> <targetPort>`
// prints its port. Each datagram is delayed by 5 ms + uniform(-1, +1) ms, each direction on its own (UDP may
// reorder: NTP exchanges are one datagram each way). The target is 127.0.0.1:<targetPort>; every client gets its own
// upstream socket, so replies find their way back.
const dgram = require('node:dgram');
const [listenHost, targetPortText] = process.argv.slice(2);
const target = Number(targetPortText);
const delay = () => 5 + (Math.random() * 2 - 1);
const front = dgram.createSocket('udp4');
const upstreams = new Map();
front.on('message', (msg, from) => {
  const key = `${from.address}:${from.port}`;
  let up = upstreams.get(key);
  if (!up) {
    up = dgram.createSocket('udp4');
    up.on('message', (reply) => setTimeout(() => front.send(reply, from.port, from.address), delay()));
    up.bind(0, '127.0.0.1');
    upstreams.set(key, up);
  }
  setTimeout(() => up.send(msg, target, '127.0.0.1'), delay());
});
front.bind(0, listenHost, () => process.stdout.write(`${front.address().port}\n`));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
