import { Logger, OnApplicationShutdown } from '@nestjs/common';
import { CameraSim, startCameraSim } from './camera-sim/sim';
import { slateOfApp } from './camera-sim/sim-photo';

/**
 * What the demo camera reads and writes of the app's settings (AppConfig). Named here, not imported:
 * config/ builds on dev/ (AppConfigModule starts the demo camera), so dev/ does not import config/.
 */
export interface DemoCameraSettings {
  CAMERA_URL?: string;
  /** The app's own port: the demo camera photographs the app's time slate (measure by photo). */
  PORT?: number;
}

/** How far off the demo camera's clock starts, so that the first sync has something to do. */
export const DEMO_CAMERA_OFFSET_MS = -83_400;

/** The simulated camera each config's app started, if any (closed with the app). */
const started = new WeakMap<DemoCameraSettings, CameraSim>();

/**
 * The demo's camera (DEMO on, simulated clock, no CAMERA_URL): a simulated Canon camera speaking CCAPI on a
 * free loopback port of this process, HTTP only, no SSDP. Its URL becomes the app's CAMERA_URL, so the
 * camera code under test is exactly the one that drives a real camera. `wanted`: `demoWantsCamera(config)`.
 * Returns the config as given.
 */
export async function withDemoCamera<C extends DemoCameraSettings>(config: C, wanted: boolean): Promise<C> {
  if (!wanted) return config;
  // Pointed at the app's own slate (on loopback at PORT), as if the slate were held in front of it.
  const slate = config.PORT ? slateOfApp(`http://127.0.0.1:${config.PORT}`) : null;
  const sim = await startCameraSim({ host: '127.0.0.1', httpPort: 0, httpsPort: false, clockOffsetMs: DEMO_CAMERA_OFFSET_MS, serialNumber: '083021009000', productName: 'Canon EOS R50 (simulated)', slate });
  started.set(config, sim);
  config.CAMERA_URL = sim.httpUrl;
  return config;
}

/** The demo camera's CCAPI base URL, or null when the app has none. */
export function demoCameraUrl(config: DemoCameraSettings): string | null {
  const sim = started.get(config);
  return sim ? `${sim.httpUrl}/ccapi` : null;
}

/** Stops the demo camera with the app (so `app.close()` leaves no socket open). Provided by AppConfigModule. */
export class DemoCamera implements OnApplicationShutdown {
  private readonly logger = new Logger('DemoCamera');

  constructor(private readonly config: DemoCameraSettings) {}

  get url(): string | null {
    return demoCameraUrl(this.config);
  }

  async onApplicationShutdown(): Promise<void> {
    const sim = started.get(this.config);
    if (!sim) return;
    started.delete(this.config);
    await sim.close().catch((error: unknown) => this.logger.warn(`The simulated camera did not close cleanly: ${error instanceof Error ? error.message : String(error)}`));
  }
}
