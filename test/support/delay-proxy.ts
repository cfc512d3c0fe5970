import { AddressInfo, createServer, Server, Socket, connect } from 'node:net';
import { mulberry32 } from '../../backend/common/prng';

/** One direction's delay: a base, lognormal jitter and rare spikes, as a busy Wi-Fi link looks. */
export interface DelayProfile {
  baseMs: number;
  /** Median of the lognormal jitter added to the base, ms, and its spread (sigma of the log). */
  jitterMedianMs: number;
  jitterSigma: number;
  /** Chance per chunk of a spike, and its range, ms. */
  spikeChance: number;
  spikeMs: [number, number];
}

export const WIFI_LIKE: DelayProfile = { baseMs: 5, jitterMedianMs: 1.5, jitterSigma: 0.8, spikeChance: 0.03, spikeMs: [60, 150] };

/**
 * A TCP proxy on loopback that delays every chunk, each direction on its own, keeping the order of the bytes
 * (a chunk never overtakes the one before it, as on a real link).
 */
export class DelayProxy {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly targetPort: number,
    private readonly profile: DelayProfile,
    private readonly random: () => number,
  ) {
    this.server = createServer((client) => this.pipe(client));
  }

  static async start(targetPort: number, profile: DelayProfile = WIFI_LIKE, seed = 42): Promise<DelayProxy> {
    const proxy = new DelayProxy(targetPort, profile, mulberry32(seed));
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private delay(): number {
    const p = this.profile;
    // Box-Muller for the normal behind the lognormal.
    const z = Math.sqrt(-2 * Math.log(1 - this.random())) * Math.cos(2 * Math.PI * this.random());
    let ms = p.baseMs + p.jitterMedianMs * Math.exp(p.jitterSigma * z);
    if (this.random() < p.spikeChance) ms += p.spikeMs[0] + this.random() * (p.spikeMs[1] - p.spikeMs[0]);
    return ms;
  }

  private pipe(client: Socket): void {
    const upstream = connect(this.targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      s.setNoDelay(true);
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => undefined);
    }
    this.forward(client, upstream);
    this.forward(upstream, client);
  }

  private forward(from: Socket, to: Socket): void {
    let lastDue = 0;
    from.on('data', (chunk) => {
      const due = Math.max(performance.now() + this.delay(), lastDue);
      lastDue = due;
      setTimeout(() => !to.destroyed && to.write(chunk), due - performance.now());
    });
    from.on('end', () => setTimeout(() => to.end(), Math.max(0, lastDue - performance.now())));
    from.on('close', () => to.destroy());
  }
}
