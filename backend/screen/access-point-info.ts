import { Injectable, Logger } from '@nestjs/common';
import { execFile } from 'node:child_process';
import { isIP } from 'node:net';
import { messageOf } from '../common/domain-error';
import { AppConfig } from '../config/app.config';
import { Clock } from '../time/clock';
import { NetworkInterfaces } from '../access/access-point';

/** Runs `nmcli` (NetworkManager's command line); a seam so tests describe a NetworkManager that is not there. */
@Injectable()
export class Nmcli {
  run(args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile('nmcli', args, { timeout: 3000, maxBuffer: 256 * 1024, env: { ...process.env, LC_ALL: 'C' } }, (error, stdout) => (error ? reject(error) : resolve(stdout)));
    });
  }
}

/** The access point as a phone needs it: its name, password and the Pi's address on it. */
export interface AccessPointDetails {
  ssid: string | null;
  password: string | null;
  address: string | null;
  /** Where the name came from. */
  from: 'settings' | 'networkmanager' | 'none';
}

/** What NetworkManager says about its access-point connection, if it runs one. */
export interface NetworkManagerAp {
  ssid: string | null;
  password: string | null;
  address: string | null;
}

/** NetworkManager's answer is asked at most this often. */
const CACHE_MS = 15_000;

/**
 * The access point's name, password and address: settings (AP_SSID, AP_PASSWORD, AP_ADDRESS) where given,
 * else NetworkManager's active access-point connection (a `wifi` connection in mode `ap`, as the installer
 * makes), the address else AP_INTERFACE's IPv4 address. Without NetworkManager (no `nmcli`) only the settings
 * and the interface count.
 */
@Injectable()
export class AccessPointInfo {
  private readonly logger = new Logger('AccessPoint');
  private cached: { at: number; value: NetworkManagerAp | null } | null = null;
  private warned = false;

  constructor(
    private readonly config: AppConfig,
    private readonly nmcli: Nmcli,
    private readonly interfaces: NetworkInterfaces,
    private readonly clock: Clock,
  ) {}

  async details(): Promise<AccessPointDetails> {
    const ssid = this.config.AP_SSID?.trim() || null;
    const password = this.config.AP_PASSWORD || null;
    const address = this.config.AP_ADDRESS?.trim() || this.interfaceAddress();
    const nm = ssid && password && address ? null : await this.networkManager();
    return {
      ssid: ssid ?? nm?.ssid ?? null,
      // NetworkManager's password only for the network it names: AP_SSID may name another.
      password: password ?? (nm && (!ssid || nm.ssid === ssid) ? nm.password : null),
      address: address ?? nm?.address ?? null,
      from: ssid ? 'settings' : nm?.ssid ? 'networkmanager' : 'none',
    };
  }

  /** AP_INTERFACE's first IPv4 address, if the interface is there. */
  private interfaceAddress(): string | null {
    const found = (this.interfaces.list()[this.config.AP_INTERFACE] ?? []).find((i) => i.family === 'IPv4' && !i.internal);
    return found?.address ?? null;
  }

  private async networkManager(): Promise<NetworkManagerAp | null> {
    const now = this.clock.monotonic();
    if (this.cached && now - this.cached.at < CACHE_MS) return this.cached.value;
    let value: NetworkManagerAp | null = null;
    try {
      value = await readNetworkManagerAp(this.nmcli);
    } catch (error) {
      if (!this.warned) this.logger.log(`NetworkManager not asked about the access point (${messageOf(error)}): AP_SSID / AP_PASSWORD name it`);
      this.warned = true;
    }
    this.cached = { at: now, value };
    return value;
  }
}

/** The first active Wi-Fi connection in access-point mode: its SSID, password (if readable) and IPv4 address. */
export async function readNetworkManagerAp(nmcli: Nmcli): Promise<NetworkManagerAp | null> {
  const active = parseTerseRows(await nmcli.run(['-t', '-f', 'NAME,TYPE,DEVICE', 'connection', 'show', '--active']));
  for (const [name, type] of active) {
    if (type !== '802-11-wireless' && type !== 'wifi') continue;
    const fields = parseTerseFields(await nmcli.run(['-t', '-f', '802-11-wireless.mode,802-11-wireless.ssid,IP4.ADDRESS', 'connection', 'show', 'id', name]));
    if (fields.get('802-11-wireless.mode') !== 'ap') continue;
    let password: string | null = null;
    try {
      // Secrets need a permission the service may not have: then the password comes from AP_PASSWORD.
      const secret = parseTerseFields(await nmcli.run(['-t', '-s', '-f', '802-11-wireless-security.psk', 'connection', 'show', 'id', name]));
      password = secret.get('802-11-wireless-security.psk') || null;
    } catch {
      password = null;
    }
    const cidr = [...fields.entries()].find(([key]) => key.startsWith('IP4.ADDRESS'))?.[1] ?? '';
    const address = cidr.split('/')[0];
    return { ssid: fields.get('802-11-wireless.ssid') || null, password, address: isIP(address) ? address : null };
  }
  return null;
}

/** Splits nmcli's terse output (`-t`): fields separated by `:`, a `:` or `\` inside a value escaped with `\`. */
export function parseTerseRows(text: string): string[][] {
  return text
    .split('\n')
    .filter((line) => line.length)
    .map((line) => {
      const fields: string[] = [];
      let current = '';
      for (let i = 0; i < line.length; i++) {
        const c = line[i];
        if (c === '\\' && i + 1 < line.length) current += line[++i];
        else if (c === ':') {
          fields.push(current);
          current = '';
        } else current += c;
      }
      fields.push(current);
      return fields;
    });
}

/** `nmcli -t -f a,b connection show id X` prints `a:value` lines: the value is everything after the first `:`. */
export function parseTerseFields(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const at = line.indexOf(':');
    if (at <= 0) continue;
    out.set(line.slice(0, at), line.slice(at + 1).replace(/\\(.)/g, '$1'));
  }
  return out;
}

/** The Wi-Fi QR payload (the ZXing convention phones read): special characters escaped; `nopass` without a password. */
export function wifiQrText(ssid: string, password: string | null): string {
  const escape = (s: string) => s.replace(/([\\;,:"])/g, '\\$1');
  return password ? `WIFI:T:WPA;S:${escape(ssid)};P:${escape(password)};;` : `WIFI:T:nopass;S:${escape(ssid)};;`;
}

/** `http://10.42.0.1/` on port 80, `http://10.42.0.1:3000/` otherwise; IPv6 in brackets. */
export function pageUrlOf(address: string, port: number): string {
  const host = isIP(address) === 6 ? `[${address}]` : address;
  return `http://${host}${port === 80 ? '' : `:${port}`}/`;
}
