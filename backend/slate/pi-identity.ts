import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * The Pi's name in the slate's code: PI_NAME, else `pi-` and 8 hex digits of a hash of the machine id (stable
 * across boots and reinstalls of the product, different on every Pi, and not the id itself: systemd asks that
 * the machine id not be shown as is), else of the host name.
 */
export function piIdentity(piName: string | undefined, readMachineId: () => string = defaultMachineId): string {
  if (piName) return piName;
  let seed: string;
  try {
    seed = readMachineId().trim() || hostname();
  } catch {
    seed = hostname();
  }
  return `pi-${createHash('sha256').update(`pi-camera-timesync slate ${seed}`).digest('hex').slice(0, 8)}`;
}

function defaultMachineId(): string {
  return readFileSync('/etc/machine-id', 'utf8');
}
