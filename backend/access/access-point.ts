import { Injectable, Logger, OnModuleDestroy, OnModuleInit, Optional } from '@nestjs/common';
import { BlockList, isIP } from 'node:net';
import { networkInterfaces, NetworkInterfaceInfo } from 'node:os';
import { AppConfig, demoTrustsLoopback } from '../config/app.config';
import { CommandError, CommandRunner } from '../system-clock/timedatectl-clock';

/** The machine's interfaces; a seam so tests can describe an access point that is not there. */
@Injectable()
export class NetworkInterfaces {
  list(): NodeJS.Dict<NetworkInterfaceInfo[]> {
    return networkInterfaces();
  }
}

/**
 * What an interface is doing right now: `ap` (a Wi-Fi access point: the phones on it are the operator's),
 * `client` (a Wi-Fi client of someone else's network, e.g. the home network during the install),
 * `other` (another Wi-Fi mode), `not-wireless` (wired, virtual, or absent), `unknown` (could not be read).
 */
export type InterfaceMode = 'ap' | 'client' | 'other' | 'not-wireless' | 'unknown';

/** Tells the mode of a network interface. A seam: tests describe an access point that is not there. */
export abstract class InterfaceModeDetector {
  abstract mode(interfaceName: string): Promise<InterfaceMode>;
}

/**
 * Asks the kernel with `iw dev <if> info` (its `type AP` / `type managed` line, read over nl80211); on a
 * system without `iw`, asks NetworkManager for the mode of the connection active on the interface.
 */
@Injectable()
export class IwModeDetector extends InterfaceModeDetector {
  constructor(private readonly runner: CommandRunner = new CommandRunner()) {
    super();
  }

  async mode(interfaceName: string): Promise<InterfaceMode> {
    if (!/^[A-Za-z0-9_][\w.-]{0,14}$/.test(interfaceName)) return 'not-wireless';
    try {
      return parseIwInfo((await this.runner.run('iw', ['dev', interfaceName, 'info'], { timeoutMs: 3000 })).stdout);
    } catch (error) {
      if (!(error instanceof CommandError)) return 'unknown';
      // "command failed: No such device (-19)": not a wireless interface (or no such interface);
      // "nl80211 not found": no Wi-Fi in this kernel at all.
      if (error.reason === 'exit') return /No such device|\(-19\)|nl80211 not found/.test(error.stderr + error.stdout) ? 'not-wireless' : 'unknown';
      if (error.reason === 'not-found') return this.askNetworkManager(interfaceName);
      return 'unknown';
    }
  }

  private async askNetworkManager(interfaceName: string): Promise<InterfaceMode> {
    try {
      const device = (await this.runner.run('nmcli', ['-g', 'GENERAL.TYPE,GENERAL.CONNECTION', 'device', 'show', interfaceName], { timeoutMs: 3000 })).stdout.split('\n');
      if (device[0]?.trim() !== 'wifi') return 'not-wireless';
      const connection = device[1]?.trim();
      if (!connection) return 'other';
      const mode = (await this.runner.run('nmcli', ['-g', '802-11-wireless.mode', 'connection', 'show', connection], { timeoutMs: 3000 })).stdout.trim();
      return mode === 'ap' ? 'ap' : mode === 'infrastructure' ? 'client' : 'other';
    } catch {
      return 'unknown';
    }
  }
}

/** The `type` line of `iw dev <if> info`. */
export function parseIwInfo(output: string): InterfaceMode {
  const type = /^\s*type\s+(\S+)/m.exec(output)?.[1];
  if (!type) return 'unknown';
  if (type === 'AP') return 'ap';
  if (type === 'managed') return 'client';
  return 'other';
}

/** `::ffff:10.42.0.5` → `10.42.0.5`; anything else unchanged (a zone such as `%wlan0` is kept). */
export function normalizeAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1] : address;
}

/** How often the access point's mode is read again, besides whenever its addresses change. */
export const AP_MODE_REFRESH_MS = 5000;

/**
 * Who may be a time source or set the time: only clients on the Pi's Wi-Fi access point, physically close
 * and under the operator's control.
 *
 * - AP_SUBNETS, when set, is the list, as given. Loopback (the Pi's own screen) is trusted only when listed.
 * - Otherwise the subnets of AP_INTERFACE, and only while that interface is an access point: the same wlan0
 *   as a Wi-Fi client is the home network, where every device could set the clock. The mode is read at start,
 *   every few seconds, and again as soon as the interface's addresses change; until then, changed addresses
 *   are not trusted.
 * - An IPv6 link-local address (fe80::/10) exists on every interface, so it counts only with the zone of
 *   AP_INTERFACE (`fe80::1%wlan0`, as Node reports a connection that arrived there); without a zone, never.
 *   IPv4 link-local (169.254/16) is not derived from the interface for the same reason (it carries no zone).
 * - The demo (simulated clock, DEMO on, no AP_SUBNETS) also trusts loopback, so the browser of the machine
 *   running `npm start` can give the simulated clock its time. Never with the system backend.
 */
@Injectable()
export class AccessPointPolicy implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('AccessPoint');
  private readonly configured: string[];
  private readonly apInterface: string;
  /** Built once from AP_SUBNETS; null when the subnets come from the interface, which may change. */
  private readonly configuredList: BlockList | null;
  /** The interface's mode as last read, and the addresses it had then. */
  private state: { addresses: string; mode: InterfaceMode } | null = null;
  private reading: Promise<void> | null = null;
  private timer?: NodeJS.Timeout;
  /** Loopback trusted besides the interface's subnets: the demo on a developer's machine. */
  readonly demoLoopback: boolean;

  constructor(
    config: AppConfig,
    private readonly interfaces: NetworkInterfaces,
    @Optional() private readonly detector: InterfaceModeDetector = new IwModeDetector(),
  ) {
    this.configured = (config.AP_SUBNETS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    this.apInterface = config.AP_INTERFACE;
    this.configuredList = this.configured.length ? blockListOf(this.configured) : null;
    this.demoLoopback = demoTrustsLoopback(config);
  }

  async onModuleInit(): Promise<void> {
    if (this.configuredList) return;
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), AP_MODE_REFRESH_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** Reads the access point interface's mode again (one read at a time). */
  refresh(): Promise<void> {
    this.reading ??= this.read().finally(() => (this.reading = null));
    return this.reading;
  }

  /** The trusted subnets right now, as CIDR strings (for the status page and messages). */
  subnets(): string[] {
    if (this.configured.length) return this.configured;
    const demo = this.demoLoopback ? DEMO_LOOPBACK : [];
    if (!this.isAccessPointNow()) return demo;
    return demo.concat(this.addresses().map((i) => (isLinkLocal6(i.address) ? `${i.cidr}%${this.apInterface}` : (i.cidr as string))));
  }

  isAccessPointClient(address: string | undefined | null): boolean {
    if (!address) return false;
    const [ip, zone] = normalizeAddress(address).split('%', 2);
    const family = isIP(ip);
    if (!family) return false;
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (family === 6 && isLinkLocal6(ip)) {
      if (!zone || !this.isApZone(zone)) return false;
      return this.configuredList ? this.configuredList.check(ip, type) : this.isAccessPointNow() && this.addresses().some((i) => isLinkLocal6(i.address));
    }
    if (this.configuredList) return this.configuredList.check(ip, type);
    if (this.demoLoopback && DEMO_LOOPBACK_LIST.check(ip, type)) return true;
    if (!this.isAccessPointNow()) return false;
    return blockListOf(this.addresses().filter((i) => !isLinkLocal6(i.address)).map((i) => i.cidr as string)).check(ip, type);
  }

  /** The mode read for exactly the addresses the interface has now; anything else is a change not yet read. */
  private isAccessPointNow(): boolean {
    const current = signatureOf(this.addresses());
    if (this.state?.addresses === current) return this.state.mode === 'ap';
    void this.refresh();
    return false;
  }

  private async read(): Promise<void> {
    const addresses = signatureOf(this.addresses());
    let mode: InterfaceMode;
    try {
      mode = await this.detector.mode(this.apInterface);
    } catch {
      mode = 'unknown';
    }
    // Addresses that changed during the read get a read of their own.
    if (signatureOf(this.addresses()) !== addresses) return void setImmediate(() => void this.refresh());
    const before = this.state?.mode;
    this.state = { addresses, mode };
    if (mode !== before) this.logChange(mode);
  }

  private logChange(mode: InterfaceMode): void {
    if (mode === 'ap') {
      this.logger.log(`${this.apInterface} is an access point: its clients may set the time (${this.subnets().join(', ') || 'no address yet'})`);
    } else {
      const what = { client: 'a Wi-Fi client of another network', other: 'not in access-point mode', 'not-wireless': 'not a Wi-Fi interface', unknown: 'of unknown mode' }[mode];
      this.logger.log(`${this.apInterface} is ${what}: nobody on it may set the time (AP_SUBNETS lists trusted subnets explicitly)`);
    }
  }

  /** AP_INTERFACE's addresses with a prefix, IPv4 link-local left out (it is on every interface and has no zone). */
  private addresses(): NetworkInterfaceInfo[] {
    return (this.interfaces.list()[this.apInterface] ?? []).filter((i) => !i.internal && i.cidr && !(i.family === 'IPv4' && i.address.startsWith('169.254.')));
  }

  /** Node names the zone by interface name, or by index when the name is unknown. */
  private isApZone(zone: string): boolean {
    if (zone === this.apInterface) return true;
    return /^\d+$/.test(zone) && (this.interfaces.list()[this.apInterface] ?? []).some((i) => i.family === 'IPv6' && i.scopeid === Number(zone) && isLinkLocal6(i.address));
  }
}

const DEMO_LOOPBACK = ['127.0.0.0/8', '::1/128'];
const DEMO_LOOPBACK_LIST = blockListOf(DEMO_LOOPBACK);

const LINK_LOCAL_6 = new BlockList();
LINK_LOCAL_6.addSubnet('fe80::', 10, 'ipv6');

function isLinkLocal6(address: string): boolean {
  return isIP(address) === 6 && LINK_LOCAL_6.check(address, 'ipv6');
}

function signatureOf(addresses: NetworkInterfaceInfo[]): string {
  return addresses.map((i) => i.cidr).sort().join(',');
}

/** CIDR blocks as one list to check addresses against (entries validated at boot). */
export function blockListOf(cidrs: string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [net, bits] = cidr.split('/');
    const family = isIP(net);
    if (family) list.addSubnet(net, Number(bits), family === 4 ? 'ipv4' : 'ipv6');
  }
  return list;
}
