// One flooding client, in a process of its own so that its sending loop does not slow the measuring side:
// `node flooder.js '{"url":"ws://127.0.0.1:PORT/ws","localAddress":"127.0.0.2","durationMs":8000}'`.
// It connects, sends forged time-sync-response frames as fast as its socket takes them until the server
// closes it, and connects again, until the duration is over. Prints one JSON line: connections, frames sent,
// and for each connection its close code and how many RATE_LIMITED error frames it got.
const WebSocket = require('ws');

const { url, localAddress, durationMs, frame } = JSON.parse(process.argv[2]);
const text = frame ?? JSON.stringify({ type: 'time-sync-response', data: { clientTime: Date.now() + 3_600_000, serverTime: 1, requestId: 'sync-forged' } });
const end = Date.now() + durationMs;
const stats = { connections: 0, refusedConnections: 0, framesSent: 0, connectionsClosed: [], otherErrors: {}, closeCodes: {} };

function once() {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { localAddress });
    let rateLimited = 0;
    let open = false;
    ws.on('message', (raw) => {
      const f = JSON.parse(raw.toString());
      if (f.type !== 'error') return;
      if (f.data.code === 'RATE_LIMITED') rateLimited++;
      else stats.otherErrors[f.data.code] = (stats.otherErrors[f.data.code] ?? 0) + 1;
    });
    ws.on('open', () => {
      open = true;
      stats.connections++;
      const pump = () => {
        // As fast as the socket takes them; a breath for the event loop when its buffer is full.
        while (ws.readyState === WebSocket.OPEN && ws.bufferedAmount < 1 << 20 && Date.now() < end) {
          ws.send(text);
          stats.framesSent++;
        }
        if (ws.readyState === WebSocket.OPEN && Date.now() < end) setImmediate(pump);
        else if (ws.readyState === WebSocket.OPEN) ws.terminate();
      };
      pump();
    });
    ws.on('error', () => undefined);
    ws.on('close', (code) => {
      if (!open) stats.refusedConnections++;
      else {
        stats.connectionsClosed.push({ code, rateLimited });
        stats.closeCodes[code] = (stats.closeCodes[code] ?? 0) + 1;
      }
      resolve();
    });
  });
}

// Ended early by whoever started it (SIGTERM): the figures so far.
process.on('SIGTERM', () => {
  process.stdout.write(JSON.stringify(stats) + '\n');
  process.exit(0);
});

(async () => {
  while (Date.now() < end) await once();
  process.stdout.write(JSON.stringify(stats) + '\n');
  process.exit(0);
})();
