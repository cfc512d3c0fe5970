import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { messageOf } from '../common/domain-error';
import { AppConfig, kioskTokenFile } from '../config/app.config';

/** Readable by the service and its group (the kiosk user is put in it), nobody else. */
export const KIOSK_TOKEN_MODE = 0o640;
const VALID = /^[A-Za-z0-9_-]{32,256}$/;

/**
 * The kiosk secret: what proves that a page is the Pi's own screen (loopback alone is not proof: any local
 * process or an SSH tunnel is loopback). Written once, at the first start, to KIOSK_TOKEN_FILE (default
 * `$DATA_DIR/kiosk-token`, mode 0640) and kept across restarts; the kiosk launcher reads it and opens
 * `http://localhost:<port>/?kiosk=<secret>`. If it cannot be written, no page is the Pi's screen.
 */
@Injectable()
export class KioskToken implements OnModuleInit {
  private readonly logger = new Logger('Kiosk');
  private secret: Buffer | null = null;
  readonly path: string;
  /** Why there is no secret, if there is none. */
  problem: string | null = null;
  /** Whether this start wrote a new secret (false: kept the one on disk). */
  created = false;

  constructor(config: AppConfig) {
    this.path = kioskTokenFile(config);
  }

  onModuleInit(): void {
    this.load();
  }

  get available(): boolean {
    return this.secret !== null;
  }

  /** Whether `candidate` is the secret (in constant time). */
  verify(candidate: unknown): boolean {
    if (!this.secret || typeof candidate !== 'string' || !candidate) return false;
    const given = Buffer.from(candidate, 'utf8');
    return given.length === this.secret.length && timingSafeEqual(given, this.secret);
  }

  /** Reads the secret, or writes a new one if there is none (or only a damaged one). */
  load(): void {
    try {
      const existing = readIfPresent(this.path)?.trim();
      if (existing && VALID.test(existing)) {
        this.secret = Buffer.from(existing, 'utf8');
        this.tighten();
        return;
      }
      const token = randomBytes(32).toString('base64url');
      writeAtomically(this.path, `${token}\n`);
      this.secret = Buffer.from(token, 'utf8');
      this.created = true;
      this.problem = null;
      this.logger.log(`Wrote a new kiosk secret to ${this.path} (mode 0640)`);
    } catch (error) {
      this.secret = null;
      this.problem = messageOf(error);
      this.logger.warn(`No kiosk secret (${this.problem}): no page will count as the Pi's own screen; fix ${this.path} or KIOSK_TOKEN_FILE and restart`);
    }
  }

  /** A secret that others could read is put back to 0640. */
  private tighten(): void {
    try {
      const mode = statSync(this.path).mode & 0o777;
      if (mode !== KIOSK_TOKEN_MODE) {
        chmodSync(this.path, KIOSK_TOKEN_MODE);
        this.logger.warn(`${this.path} had mode 0${mode.toString(8)}; set to 0640`);
      }
    } catch (error) {
      this.logger.warn(`Could not check the mode of ${this.path}: ${messageOf(error)}`);
    }
  }
}

function readIfPresent(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** Written beside, synced, then renamed over: a power cut leaves the old secret or the new one, never half. */
function writeAtomically(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o750 });
  const temp = `${path}.${process.pid}.tmp`;
  const fd = openSync(temp, 'w', KIOSK_TOKEN_MODE);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(temp, KIOSK_TOKEN_MODE); // whatever the umask
  renameSync(temp, path);
}
