// The CCAPI camera simulator as a process of its own, started inside the Pi's network namespace by
// netns.rel-spec.ts (`ip netns exec NS node -r ts-node/register/transpile-only camera-sim-child.ts`). Prints
// `READY <url>`, then one line `PUT <count>` after each clock write it took, until stdin closes.
import { startCameraSim } from '../../camera-sim/sim';

void (async () => {
  const sim = await startCameraSim({ httpsPort: false, serialNumber: '083021000123' });
  process.stdout.write(`READY ${sim.httpUrl}\n`);
  let puts = 0;
  const timer = setInterval(() => {
    const now = sim.requests.filter((r) => r.method === 'PUT' && r.status === 200).length;
    if (now !== puts) process.stdout.write(`PUT ${(puts = now)}\n`);
  }, 50);
  const stop = async () => {
    clearInterval(timer);
    await sim.close();
    process.exit(0);
  };
  process.stdin.on('end', stop).resume();
  process.on('SIGTERM', stop);
})();
