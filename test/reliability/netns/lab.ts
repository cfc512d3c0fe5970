/**
 * The network lab of the namespace suites: the Pi's namespace linked to an access point's (`wlan0`, a phone's
 * side `ph0`) and to a LAN's (`eth0`, the device's side `lan0`) by veth pairs; made and removed by `ip netns`.
 */
import { execFileSync } from 'node:child_process';
import { onPath } from '../built-server';

export interface Lab {
  pi: string;
  ap: string;
  lan: string;
}

export function run(file: string, args: string[]): string {
  return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export const inNs = (ns: string, ...args: string[]): string => run('ip', ['netns', 'exec', ns, ...args]);

/** Root, iproute2, and a namespace that can really be made here (a container may forbid it); `probe`: a free name. */
export function netnsLacking(probe: string): string[] {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root privileges (ip netns)');
  if (!onPath('ip')) missing.push('ip (Debian: iproute2)');
  if (missing.length) return missing;
  try {
    run('ip', ['netns', 'add', probe]);
  } catch (error) {
    missing.push(`a network namespace (ip netns add failed: ${String((error as { stderr?: string }).stderr ?? error).trim()})`);
  } finally {
    try {
      run('ip', ['netns', 'del', probe]);
    } catch {
      // was not made
    }
  }
  return missing;
}

/** Deletes the lab's namespaces (and with them every link), whatever is left of them. */
export function removeLab(lab: Lab): void {
  for (const name of Object.values(lab)) {
    try {
      run('ip', ['netns', 'del', name]);
    } catch {
      // not there
    }
  }
}

/** Makes the namespaces and the two links, down and without addresses; `linkPrefix` keeps concurrent suites' link names apart. */
export function linkLab(lab: Lab, linkPrefix: string): void {
  for (const name of Object.values(lab)) run('ip', ['netns', 'add', name]);
  run('ip', ['link', 'add', `${linkPrefix}w`, 'netns', lab.pi, 'type', 'veth', 'peer', 'name', 'ph0', 'netns', lab.ap]);
  run('ip', ['link', 'add', `${linkPrefix}e`, 'netns', lab.pi, 'type', 'veth', 'peer', 'name', 'lan0', 'netns', lab.lan]);
  inNs(lab.pi, 'ip', 'link', 'set', `${linkPrefix}w`, 'name', 'wlan0');
  inNs(lab.pi, 'ip', 'link', 'set', `${linkPrefix}e`, 'name', 'eth0');
}
