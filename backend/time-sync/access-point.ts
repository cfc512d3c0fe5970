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

  constructor(
    config: AppConfig,
    private readonly interfaces: NetworkInterfaces,
  ) {
    this.configured = (config.AP_SUBNETS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    this.apInterface = config.AP_INTERFACE;
  }
  private readonly apInterface: string;

  /** The trusted subnets right now, as CIDR strings (for the status page and messages). */
  subnets(): string[] {
    if (this.configured.length) return this.configured;
    return (this.interfaces.list()[this.apInterface] ?? []).filter((i) => !i.internal && i.cidr).map((i) => networkOf(i));
  }

  isAccessPointClient(address: string | undefined | null): boolean {
    if (!address) return false;
    const ip = normalizeAddress(address);
    const family = isIP(ip);
    if (!family) return false;
    const list = new BlockList();
    for (const cidr of this.subnets()) {
      const [net, bits] = cidr.split('/');
      const netFamily = isIP(net);
      if (netFamily) list.addSubnet(net, Number(bits), netFamily === 4 ? 'ipv4' : 'ipv6');
    }
    return list.check(ip, family === 4 ? 'ipv4' : 'ipv6');
  }
}

function networkOf(info: NetworkInterfaceInfo): string {
  // `cidr` is the interface's own address with the prefix; BlockList wants any address inside, which it is.
  return info.cidr as string;
}
