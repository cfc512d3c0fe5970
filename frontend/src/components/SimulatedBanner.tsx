import type { TimeSyncStatus } from '../../../backend/protocol/messages';
import { ClockBackend } from '../../../backend/protocol/vocabulary';

/**
 * The simulated clock's banner. In the first-run demo (`npm start` on a developer's machine) it also says
 * what the demo put in place, so a newcomer knows why the page can do things no real Pi would let it do.
 */
export function SimulatedBanner({ status }: { status: Pick<TimeSyncStatus, 'pi' | 'demo'> | null }) {
  if (status?.pi.backend !== ClockBackend.Simulated) return null;
  const demo = status.demo;
  if (!demo) {
    return (
      <p className="banner" data-testid="simulated-banner" role="note">
        Simulated clock: the system clock is not changed
      </p>
    );
  }
  const parts = ['simulated clock (the system clock is not changed)'];
  if (demo.cameraUrl) parts.push(`simulated camera at ${demo.cameraUrl}`);
  if (demo.thisBrowserTrusted) parts.push('this browser trusted as a phone');
  return (
    <p className="banner" data-testid="simulated-banner" role="note">
      Demo: {parts.join(', ')}
    </p>
  );
}
