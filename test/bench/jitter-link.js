// A TCP link with 5 ms ± jitter each way, in its own process: `node jitter-link.js <targetPort>` prints its port.
// Each chunk is delayed by 5 ms + uniform(-1, +1) ms, never overtaking the chunk before it (TCP keeps order).
const net = require('node:net');
const target = Number(process.argv[2]);
const delay = () => 5 + (Math.random() * 2 - 1);
function pipe(from, to) {
  let last = 0;
  from.on('data', (chunk) => {
    const at = Math.max(performance.now() + delay(), last);
    last = at;
    setTimeout(() => to.writable && to.write(chunk), at - performance.now());
  });
  from.on('close', () => setTimeout(() => to.destroy(), 20));
  from.on('error', () => to.destroy());
}
const server = net.createServer((a) => {
  a.setNoDelay(true);
  const b = net.connect(target, '127.0.0.1');
  b.setNoDelay(true);
  pipe(a, b);
  pipe(b, a);
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
