import { plainToInstance, Transform, Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsNumber, IsOptional, IsString, Matches, Max, MaxLength, Min, validateSync } from 'class-validator';
import { join } from 'node:path';
import { isIP } from 'node:net';

const toBool = ({ value }: { value: unknown }) =>
  value === undefined ? undefined : value === true || value === 'true' || value === '1' ? true : value === false || value === 'false' || value === '0' ? false : value;

/**
 * Every setting of the product, read from the environment once at boot. A bad value stops the boot with a
 * message naming the variable.
 */
export class AppConfig {
  /** Minimum |offset| in ms that steps the Pi's clock. */
  @Type(() => Number) @IsInt() @Min(0) @Max(3_600_000)
  TIME_SYNC_THRESHOLD = 1000;

  /** Re-sync interval in ms while a source is connected. */
  @Type(() => Number) @IsInt() @Min(10_000) @Max(86_400_000)
  TIME_SYNC_INTERVAL = 1_800_000;

  /** Delay in ms before a failed burst may be retried by the policy. */
  @Type(() => Number) @IsInt() @Min(0) @Max(3_600_000)
  TIME_SYNC_RETRY_DELAY = 5000;

  @Type(() => Number) @IsInt() @Min(0) @Max(65535)
  PORT = 3000;

  /** Address the HTTP server binds to. */
  @IsString()
  HOST = '0.0.0.0';

  @IsIn(['simulated', 'system'])
  CLOCK_BACKEND: 'simulated' | 'system' = 'simulated';

  /**
   * The first-run demo, simulated clock only (default there: true; refused with CLOCK_BACKEND=system): this
   * machine's own browser counts as a phone on the access point unless AP_SUBNETS is set, and a simulated
   * camera is started in-process unless CAMERA_URL is set. Nothing real can be changed either way.
   */
  @IsOptional() @Transform(toBool) @IsBoolean()
  DEMO?: boolean;

  /** Simulated backend only: report NTP as synchronized (as a Pi with internet would), for demos and tests. */
  @Transform(toBool) @IsBoolean()
  SIMULATED_NTP_SYNCHRONIZED = false;

  /** Simulated backend only: how long a clock write takes (a slow timedated), ms. The target is taken at the end. */
  @Type(() => Number) @IsInt() @Min(0) @Max(60_000)
  SIMULATED_CLOCK_WRITE_DELAY_MS = 0;

  /** Starting error of the simulated clock in ms (e.g. -259200000: "booted three days ago"). */
  @Type(() => Number) @IsInt()
  SIMULATED_CLOCK_OFFSET_MS = 0;

  /** Network interface of the Wi-Fi access point; its address and netmask give the trusted subnet. */
  @IsString()
  AP_INTERFACE = 'wlan0';

  /** Comma-separated CIDR list of trusted subnets; overrides AP_INTERFACE when set. */
  @IsOptional() @IsString()
  @Matches(/^\s*$|^\s*[0-9a-fA-F:.]+\/\d{1,3}(\s*,\s*[0-9a-fA-F:.]+\/\d{1,3})*\s*$/, {
    message: 'AP_SUBNETS must be a comma-separated list of CIDR blocks such as 10.42.0.0/24,127.0.0.1/32',
  })
  AP_SUBNETS?: string;

  /**
   * Base URLs of the cameras' CCAPI, comma-separated (http://192.168.4.2:8080 or https://...:443, with or
   * without /ccapi). Empty: SSDP discovery. Each one is checked by `validateConfig` (`cameraUrls`).
   */
  @IsOptional() @IsString()
  CAMERA_URL?: string;

  @IsOptional() @IsString()
  CAMERA_USER?: string;

  @IsOptional() @IsString()
  CAMERA_PASSWORD?: string;

  /** Sync the camera's clock when it first connects (if the Pi's time is reliable). */
  @Transform(toBool) @IsBoolean()
  CAMERA_SYNC_ON_CONNECT = true;

  /** Period of the camera connection check in ms. */
  @Type(() => Number) @IsInt() @Min(200) @Max(600_000)
  CAMERA_POLL_INTERVAL = 5000;

  /**
   * A camera sync measures the camera first and writes it only when its clock is not provably within this many
   * ms of the Pi's (0: always write).
   */
  @Type(() => Number) @IsInt() @Min(0) @Max(3_600_000)
  CAMERA_SYNC_THRESHOLD = 100;

  /**
   * After a sync's write, a camera whose verified residual is beyond this many ms of the Pi is written again at
   * the next second boundary, with a fresh latency estimate, at most twice (one slow PUT does not leave it far
   * off). 0: no re-write.
   */
  @Type(() => Number) @IsInt() @Min(0) @Max(1000)
  CAMERA_SPREAD_GOAL_MS = 20;

  /** Period of the read-only check of each connected camera's clock (its offset and drift), ms; 0: no checks. */
  @Type(() => Number) @IsInt() @Min(0) @Max(86_400_000)
  CAMERA_CHECK_INTERVAL = 600_000;

  /**
   * Photo fixes: between two measurements of a camera, a change faster than this (ppm, beyond the measurements'
   * bounds) is a jump of its clock (a battery swap, someone setting it), not a drift: quartz drifts 1-50 ppm.
   */
  @Type(() => Number) @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(1) @Max(1_000_000)
  CAMERA_MAX_DRIFT_PPM = 200;

  /** Timeout of one CCAPI request in ms. */
  @Type(() => Number) @IsInt() @Min(100) @Max(120_000)
  CAMERA_TIMEOUT = 5000;

  /**
   * Measure by photo: how long a camera may take from the shutter press to naming its new photo (and again to
   * hand it over), ms. Exposure, focusing and writing a full-size JPEG take a second or two.
   */
  @Type(() => Number) @IsInt() @Min(1000) @Max(120_000)
  CAMERA_PHOTO_TIMEOUT = 15_000;

  /** Search the network for cameras with SSDP when CAMERA_URL is empty. */
  @Transform(toBool) @IsBoolean()
  CAMERA_DISCOVERY = true;

  /**
   * Comma-separated CIDR blocks where SSDP may find cameras besides the access point's subnets (a studio LAN).
   * An announcement from anywhere else is ignored.
   */
  @IsOptional() @IsString()
  @Matches(/^\s*$|^\s*[0-9a-fA-F:.]+\/\d{1,3}(\s*,\s*[0-9a-fA-F:.]+\/\d{1,3})*\s*$/, {
    message: 'CAMERA_SUBNETS must be a comma-separated list of CIDR blocks such as 192.168.1.0/24',
  })
  CAMERA_SUBNETS?: string;

  /** Most cameras discovery adopts; announcements of more are ignored. */
  @Type(() => Number) @IsInt() @Min(1) @Max(64)
  CAMERA_MAX = 8;

  /** Where the clock-change journal is kept. */
  @IsString()
  DATA_DIR = './data';

  /**
   * WebSocket frames one connection may send per second (a token bucket holding one second's worth). A page
   * sends at most ~50 (a burst's answers 20 ms apart); a connection over the budget is told RATE_LIMITED and closed.
   */
  @Type(() => Number) @IsInt() @Min(50) @Max(1_000_000)
  WS_MAX_FRAMES_PER_SECOND = 100;

  /** WebSocket bytes one connection may send per second; at least one largest frame (16 KiB). */
  @Type(() => Number) @IsInt() @Min(16_384) @Max(1_073_741_824)
  WS_MAX_BYTES_PER_SECOND = 65_536;

  /** REST writes (POST under /api) one address may make per second; over it: 429 RATE_LIMITED. */
  @Type(() => Number) @IsInt() @Min(1) @Max(1_000_000)
  HTTP_MAX_WRITES_PER_SECOND = 20;

  /**
   * The kiosk secret: written at first start (random, mode 0640), read by the kiosk launcher, which opens
   * `http://localhost:<port>/?kiosk=<secret>`. Default `$DATA_DIR/kiosk-token` (see `kioskTokenFile`).
   */
  @IsOptional() @IsString()
  KIOSK_TOKEN_FILE?: string;

  /** The access point's name (SSID) shown on the Pi's screen; empty: from NetworkManager's access-point connection. */
  @IsOptional() @IsString() @MaxLength(32)
  AP_SSID?: string;

  /** The access point's password, for the Wi-Fi QR code; empty: from NetworkManager (if it lets the service read it). */
  @IsOptional() @IsString() @MaxLength(63)
  AP_PASSWORD?: string;

  /** Show the Wi-Fi password as text beside its QR code (the QR code carries it either way). */
  @Transform(toBool) @IsBoolean()
  AP_SHOW_PASSWORD = false;

  /** The address phones open (`http://<AP_ADDRESS>/`); empty: AP_INTERFACE's IPv4 address, else NetworkManager's. */
  @IsOptional() @IsString()
  AP_ADDRESS?: string;

  /**
   * More names the Pi answers to, comma-separated (e.g. a DNS name given to it on a LAN); besides these it
   * answers only to its own addresses, localhost, its hostname (and `<hostname>.local`) and AP_ADDRESS.
   */
  @IsOptional() @IsString()
  ALLOWED_HOSTS?: string;

  /** Sync the Pi from access-point clients as soon as they connect. */
  @Transform(toBool) @IsBoolean()
  AUTO_SYNC = true;

  /**
   * The hardware clock's sysfs folder: its `since_epoch` holds the RTC's time in whole seconds. Where that file is
   * missing, timedated's RTCTimeUSec is asked (system backend). Empty: no hardware clock is read. With the
   * simulated clock only a folder other than the default is read (a fake tree): the host's own hardware clock
   * says nothing about a simulated clock (see `rtcSysfsFor`).
   */
  @IsString()
  RTC_SYSFS = '/sys/class/rtc/rtc0';

  /** How fast the hardware clock may drift, in ppm: its bound grows by this much of the time since the clock was last set. */
  @Type(() => Number) @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(0.1) @Max(1000)
  RTC_DRIFT_PPM = 20;

  /**
   * Where gpsd serves its JSON protocol, `host:port` (`[::1]:2947` for IPv6; a bare host means port 2947); empty:
   * no GPS. Checked by `validateConfig` (`gpsdAddressProblem`). A gpsd absent there is one line in the log.
   */
  @IsString()
  GPSD_ADDRESS = '127.0.0.1:2947';

  /**
   * The receiver's known NMEA delay, ms: its serial time is taken as this much late. 0: not known (taken as
   * 0-1000 ms late, 500 ± 500 ms). Calibration against a phone measures it (the GPS status shows the figure).
   */
  @Type(() => Number) @IsInt() @Min(-2000) @Max(2000)
  GPS_OFFSET_MS = 0;

  /**
   * The Pi's name in the time slate's code (1-16 letters, digits, "_" or "-"): a slate photo of another Pi is
   * refused. Not secret. Empty: `pi-` and 8 hex digits of a hash of /etc/machine-id (of the host name without it).
   */
  @IsOptional() @IsString() @Matches(/^$|^[A-Za-z0-9_-]{1,16}$/, { message: 'PI_NAME must be 1-16 letters, digits, "_" or "-"' })
  PI_NAME?: string;

  /** The largest slate photo accepted, bytes (a camera's full-size JPEG is 5-20 MB). */
  @Type(() => Number) @IsInt() @Min(1_048_576) @Max(104_857_600)
  SLATE_MAX_PHOTO_BYTES = 26_214_400;

  /**
   * How many frame periods later than the earliest a slate's frame may reach the screen (the compositor's queue):
   * part of every slate photo's bound. 1 fits Chromium on a steady screen; more for a screen that lags.
   */
  @Type(() => Number) @IsNumber() @Min(0) @Max(10)
  SLATE_LATENCY_FRAMES = 1;

  /**
   * Who keeps the Pi's clock and serves it: `off` (the product steps it through timedated, nothing serves it) or
   * `chrony` (chronyd keeps it and serves NTP; the product hands it its best source's readings and never calls SetTime).
   */
  @IsIn(['off', 'chrony'])
  TIME_SERVER: 'off' | 'chrony' = 'off';

  /**
   * With TIME_SERVER=chrony: the NTP server (another Pi, any NTP server) this Pi's chrony follows, as chrony's
   * configuration names it (an address or a host name; `kiosk/install.sh --follow=` writes both). Empty: this Pi leads.
   */
  @IsOptional() @IsString()
  NTP_FOLLOW?: string;

  /** The loopback UDP port where the product answers chrony's polls with its best source's time (chrony's `server 127.0.0.1 port N`). */
  @Type(() => Number) @IsInt() @Min(1024) @Max(65535)
  TIME_SERVER_FEED_PORT = 10123;

  /** chronyc, the program the product reads chrony's view with (a path, or a name on PATH). */
  @IsString()
  CHRONYC = 'chronyc';

  /** chronyd's command socket (or host) for `chronyc -h`; empty: chronyc's own default (its Unix socket, else 127.0.0.1). */
  @IsOptional() @IsString()
  CHRONY_COMMAND_SOCKET?: string;

  /**
   * With TIME_SERVER=chrony, when chronyd is absent or does not take a time: `none` (the step fails, said in words)
   * or `settime` (the operator chose it: the clock is set through timedated's SetTime, as with TIME_SERVER=off).
   */
  @IsIn(['none', 'settime'])
  TIME_SERVER_FALLBACK: 'none' | 'settime' = 'none';
}

export class ConfigError extends Error {}

/** Settings whose empty value is a choice (off), not "use the default". */
const EMPTY_MEANS_OFF: ReadonlySet<string> = new Set(['RTC_SYSFS', 'GPSD_ADDRESS']);

/** Validates `process.env`-like input; throws ConfigError naming each bad variable. */
export function validateConfig(env: Record<string, unknown>): AppConfig {
  const known = Object.keys(new AppConfig()).concat(['DEMO', 'AP_SUBNETS', 'CAMERA_SUBNETS', 'CAMERA_URL', 'CAMERA_USER', 'CAMERA_PASSWORD', 'KIOSK_TOKEN_FILE', 'AP_SSID', 'AP_PASSWORD', 'AP_ADDRESS', 'ALLOWED_HOSTS', 'NTP_FOLLOW', 'CHRONY_COMMAND_SOCKET']);
  const picked: Record<string, unknown> = {};
  for (const key of known) if (env[key] !== undefined && (env[key] !== '' || EMPTY_MEANS_OFF.has(key))) picked[key] = env[key];
  const config = plainToInstance(AppConfig, picked, { exposeDefaultValues: true });
  const errors = validateSync(config, { skipMissingProperties: false });
  if (errors.length) {
    const lines = errors.map((e) => `  ${e.property}=${shownValue(e.property, picked[e.property])}: ${Object.values(e.constraints ?? {}).join('; ')}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const badCamera = cameraUrlProblem(config.CAMERA_URL);
  if (badCamera) throw new ConfigError(`Invalid configuration:\n  CAMERA_URL: ${maskCredentials(badCamera)}`);
  for (const name of ['AP_SUBNETS', 'CAMERA_SUBNETS'] as const) {
    for (const cidr of cidrList(config[name])) {
      const [addr, bits] = cidr.split('/');
      const family = isIP(addr);
      if (!family || Number(bits) > (family === 4 ? 32 : 128)) throw new ConfigError(`Invalid configuration:\n  ${name}: "${cidr}" is not a CIDR block`);
    }
  }
  if (config.AP_ADDRESS && !isIP(config.AP_ADDRESS.trim())) throw new ConfigError(`Invalid configuration:\n  AP_ADDRESS: "${config.AP_ADDRESS}" is not an IP address`);
  const badHost = allowedHostsProblem(config.ALLOWED_HOSTS);
  if (badHost) throw new ConfigError(`Invalid configuration:\n  ALLOWED_HOSTS: ${badHost}`);
  const badGpsd = gpsdAddressProblem(config.GPSD_ADDRESS);
  if (badGpsd) throw new ConfigError(`Invalid configuration:\n  GPSD_ADDRESS: ${badGpsd}`);
  const badFollow = ntpFollowProblem(config.NTP_FOLLOW);
  if (badFollow) throw new ConfigError(`Invalid configuration:\n  NTP_FOLLOW: ${badFollow}`);
  if (config.NTP_FOLLOW?.trim() && config.TIME_SERVER !== 'chrony') {
    throw new ConfigError('Invalid configuration:\n  NTP_FOLLOW: this Pi follows another through chrony; it needs TIME_SERVER=chrony');
  }
  if (config.DEMO && config.CLOCK_BACKEND === 'system') {
    throw new ConfigError('Invalid configuration:\n  DEMO=true: the demo (loopback trusted, a simulated camera) needs CLOCK_BACKEND=simulated; the system backend sets a real clock');
  }
  config.DEMO ??= config.CLOCK_BACKEND === 'simulated';
  return config;
}

/**
 * The demo trusts this machine's own browser (loopback) as a phone: simulated clock, DEMO not off, and no
 * AP_SUBNETS (an explicit list is taken as given).
 */
export function demoTrustsLoopback(config: Pick<AppConfig, 'CLOCK_BACKEND' | 'DEMO' | 'AP_SUBNETS'>): boolean {
  return config.CLOCK_BACKEND === 'simulated' && config.DEMO === true && !cidrList(config.AP_SUBNETS).length;
}

/** The demo starts a simulated camera: simulated clock, DEMO not off, and no CAMERA_URL (explicit cameras win). */
export function demoWantsCamera(config: Pick<AppConfig, 'CLOCK_BACKEND' | 'DEMO' | 'CAMERA_URL'>): boolean {
  return config.CLOCK_BACKEND === 'simulated' && config.DEMO === true && !cameraUrls(config.CAMERA_URL).length;
}

/** Variables whose value is a secret: named in an error, never shown. */
export function isSecretName(name: string): boolean {
  return /PASSWORD|TOKEN|SECRET/i.test(name);
}

/**
 * A value as a configuration error shows it: a secret's not at all, anything else quoted with the
 * credentials of any URL in it masked (the boot error ends up in the system journal and on the kiosk's screen).
 */
export function shownValue(name: string, value: unknown): string {
  if (isSecretName(name)) return '<hidden>';
  return maskCredentials(JSON.stringify(value) ?? String(value));
}

/** `http://op:pw@host/` -> `http://***@host/`: every `userinfo@` in a text, URL or not. */
export function maskCredentials(text: string): string {
  return text.replace(/[^\s/,"'@]+@/g, '***@');
}

/** What is wrong with ALLOWED_HOSTS (names or addresses, no ports, no schemes), naming the entry; null if nothing. */
export function allowedHostsProblem(value: string | undefined): string | null {
  for (const entry of (value ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const bare = entry.replace(/^\[(.*)\]$/, '$1');
    if (isIP(bare)) continue;
    if (!/^[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?$/.test(entry) || entry.length > 253) {
      return `${JSON.stringify(maskCredentials(entry))} is not a host name or IP address (no scheme, port or path: e.g. timesync.example.lan)`;
    }
  }
  return null;
}

/** Where the kiosk secret is kept: KIOSK_TOKEN_FILE, else `$DATA_DIR/kiosk-token`. */
export function kioskTokenFile(config: Pick<AppConfig, 'KIOSK_TOKEN_FILE' | 'DATA_DIR'>): string {
  return config.KIOSK_TOKEN_FILE?.trim() || join(config.DATA_DIR, 'kiosk-token');
}

/** The blocks of a comma-separated CIDR list (AP_SUBNETS, CAMERA_SUBNETS). */
export function cidrList(value: string | undefined): string[] {
  return (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

/** The camera URLs of CAMERA_URL, in order (empty: none configured, discovery decides). */
export function cameraUrls(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((url) => url.trim())
    .filter(Boolean);
}

/** What is wrong with a CAMERA_URL list, naming the URL; null if nothing. */
export function cameraUrlProblem(value: string | undefined): string | null {
  const seen = new Set<string>();
  if (value !== undefined && value.trim() && !cameraUrls(value).length) return `${JSON.stringify(value)} names no URL`;
  for (const url of cameraUrls(value)) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return `${JSON.stringify(url)} is not a URL (e.g. http://192.168.4.2:8080)`;
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return `${JSON.stringify(url)} is not an http:// or https:// URL`;
    if (!parsed.hostname) return `${JSON.stringify(url)} has no host`;
    if (parsed.username || parsed.password) return `${JSON.stringify(url)} carries a user name or password: use CAMERA_USER / CAMERA_PASSWORD`;
    if (parsed.search || parsed.hash) return `${JSON.stringify(url)} has a query or fragment; a camera URL has none`;
    const key = `${parsed.protocol}//${parsed.host}${parsed.pathname.replace(/\/+$/, '').replace(/\/ccapi$/, '')}`;
    if (seen.has(key)) return `${JSON.stringify(url)} is listed twice`;
    seen.add(key);
  }
  return null;
}

/** gpsd's own port. */
export const GPSD_DEFAULT_PORT = 2947;

/** Where gpsd is, from GPSD_ADDRESS; null when empty (no GPS) or malformed (`gpsdAddressProblem` says why). */
export function gpsdAddress(value: string | undefined): { host: string; port: number } | null {
  const text = (value ?? '').trim();
  if (!text) return null;
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:[\]]+))(?::(\d{1,5}))?$/.exec(text);
  if (!m) return null;
  const host = m[1] ?? m[2];
  const port = m[3] === undefined ? GPSD_DEFAULT_PORT : Number(m[3]);
  if (port < 1 || port > 65535) return null;
  if (m[1] !== undefined && isIP(host) !== 6) return null;
  if (m[2] !== undefined && !isIP(host) && allowedHostsProblem(host)) return null;
  return { host, port };
}

/** What is wrong with GPSD_ADDRESS; null if nothing (empty is fine: no GPS). */
export function gpsdAddressProblem(value: string | undefined): string | null {
  if (!(value ?? '').trim() || gpsdAddress(value)) return null;
  return `${JSON.stringify(maskCredentials(value ?? ''))} is not host:port (e.g. 127.0.0.1:2947, [::1]:2947, or empty for no GPS)`;
}

/** What is wrong with NTP_FOLLOW (one host name or IP address, no port or scheme: chrony's `server` line takes it); null if nothing. */
export function ntpFollowProblem(value: string | undefined): string | null {
  const text = (value ?? '').trim();
  if (!text) return null;
  if (text.includes(',') || /\s/.test(text)) return `${JSON.stringify(maskCredentials(text))} names more than one server: a follower follows one leader`;
  return allowedHostsProblem(text.replace(/^\[(.*)\]$/, '$1'));
}
