import { Injectable } from '@nestjs/common';
import { BlockList, isIP } from 'node:net';
import { networkInterfaces, NetworkInterfaceInfo } from 'node:os';
import { AppConfig } from '../config/app.config';

/** The machine's interfaces; a seam so tests can describe an access point that is not there. */
@Injectable()
export class NetworkInterfaces {
  list(): NodeJS.Dict<NetworkInterfaceInfo[]> {
    return networkInterfaces();
  }
}

/** `::ffff:10.42.0.5` → `10.42.0.5`; anything else unchanged. */
export function normalizeAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1] : address;
}

/**
 * Who may be a time source or set the time: only clients on the Pi's Wi-Fi access point, physically close
 * and under the operator's control. The subnets come from AP_SUBNETS or from AP_INTERFACE's address and
 * netmask, read at each check so an access point that comes up after the server still counts. Loopback (the
 * Pi's own screen) is trusted only when AP_SUBNETS lists it.
 */
@Injectable()
export class AccessPointPolicy {
  private readonly configured: string[];
  private readonly apInterface: string;
  /** Built once from AP_SUBNETS; null when the subnets come from the interface, which may change. */
  private readonly configuredList: BlockList | null;

  constructor(
    config: AppConfig,
    private readonly interfaces: NetworkInterfaces,
  ) {
    this.configured = (config.AP_SUBNETS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    this.apInterface = config.AP_INTERFACE;
    this.configuredList = this.configured.length ? blockListOf(this.configured) : null;
  }

  /** The trusted subnets right now, as CIDR strings (for the status page and messages). */
  subnets(): string[] {
    if (this.configured.length) return this.configured;
    // `cidr` is the interface's own address with its prefix: BlockList takes any address inside the subnet.
    return (this.interfaces.list()[this.apInterface] ?? []).filter((i) => !i.internal && i.cidr).map((i) => i.cidr as string);
  }

  isAccessPointClient(address: string | undefined | null): boolean {
    if (!address) return false;
    const ip = normalizeAddress(address);
    const family = isIP(ip);
    if (!family) return false;
    return (this.configuredList ?? blockListOf(this.subnets())).check(ip, family === 4 ? 'ipv4' : 'ipv6');
  }
}

function blockListOf(cidrs: string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [net, bits] = cidr.split('/');
    const family = isIP(net);
    if (family) list.addSubnet(net, Number(bits), family === 4 ? 'ipv4' : 'ipv6');
  }
  return list;
}
