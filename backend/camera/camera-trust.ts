import { Injectable, Optional } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { BlockList, isIP } from 'node:net';
import { AppConfig, cameraUrls, cidrList } from '../config/app.config';
import { AccessPointPolicy, blockListOf, normalizeAddress } from '../access/access-point';

/** Why an address may hold a camera: the access point's subnets, a CAMERA_URL host, or CAMERA_SUBNETS. */
export type CameraOrigin = 'access-point' | 'camera-url' | 'camera-subnets';

/** The one question asked of the access point: the same trust source as for clients. */
export interface AccessPointClients {
  isAccessPointClient(address: string): boolean;
}

/**
 * Where a camera may be. SSDP is unauthenticated: anything on any network the Pi hears can announce itself, so a
 * camera is adopted only from the access point's trusted subnets (where the operator's phones are), a host named in
 * CAMERA_URL, or CAMERA_SUBNETS (a studio LAN). Pure, given the access point's answer.
 */
export function cameraOriginOf(address: string, accessPoint: AccessPointClients | null, cameraSubnets: BlockList, urlHosts: ReadonlySet<string>): CameraOrigin | null {
  const ip = normalizeAddress(address);
  const family = isIP(ip.split('%')[0]);
  if (!family) return null;
  if (accessPoint?.isAccessPointClient(ip)) return 'access-point';
  if (urlHosts.has(ip)) return 'camera-url';
  if (!ip.includes('%') && cameraSubnets.check(ip, family === 4 ? 'ipv4' : 'ipv6')) return 'camera-subnets';
  return null;
}

/** The addresses of CAMERA_URL's hosts that are IP literals (a name cannot be compared to a sender's address). */
export function cameraUrlHosts(value: string | undefined): Set<string> {
  const hosts = new Set<string>();
  for (const url of cameraUrls(value)) {
    try {
      const host = new URL(url).hostname.replace(/^\[(.*)\]$/, '$1');
      if (isIP(host)) hosts.add(normalizeAddress(host));
    } catch {
      // validated at boot
    }
  }
  return hosts;
}

/**
 * CameraModule's view of `cameraOriginOf`. The AccessPointPolicy lives in TimeSyncModule, which imports this
 * module, so it is looked up once the app is built rather than injected (no module cycle). Without it (the camera
 * module alone, in tests) only CAMERA_URL and CAMERA_SUBNETS count.
 */
@Injectable()
export class CameraAddressPolicy {
  private readonly subnets: BlockList;
  private readonly urlHosts: Set<string>;
  private accessPoint: AccessPointClients | null = null;

  constructor(
    config: AppConfig,
    @Optional() private readonly moduleRef?: ModuleRef,
  ) {
    this.subnets = blockListOf(cidrList(config.CAMERA_SUBNETS));
    this.urlHosts = cameraUrlHosts(config.CAMERA_URL);
  }

  /** With a given access point (tests, harnesses). */
  static of(config: AppConfig, accessPoint: AccessPointClients | null): CameraAddressPolicy {
    const policy = new CameraAddressPolicy(config);
    policy.accessPoint = accessPoint;
    return policy;
  }

  /** Why `address` may hold a camera, or null: announcements from it are ignored. */
  originOf(address: string): CameraOrigin | null {
    return cameraOriginOf(address, this.accessPointPolicy(), this.subnets, this.urlHosts);
  }

  private accessPointPolicy(): AccessPointClients | null {
    if (!this.accessPoint && this.moduleRef) {
      try {
        this.accessPoint = this.moduleRef.get(AccessPointPolicy, { strict: false });
      } catch {
        // not built yet, or no TimeSyncModule: asked again next time
      }
    }
    return this.accessPoint;
  }
}
