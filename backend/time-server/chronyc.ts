import { execFile } from 'node:child_process';

/** Why chronyc gave no answer, in words an operator can act on. */
export class ChronycError extends Error {
  constructor(
    message: string,
    /** `absent`: no chronyc; `down`: no chronyd answering; `refused`: chronyd refused the command (not authorised); `failed`: anything else. */
    readonly reason: 'absent' | 'down' | 'refused' | 'failed',
  ) {
    super(message);
    this.name = 'ChronycError';
  }
}

/**
 * Runs chronyc (an argument array, never a shell) against one chronyd: CHRONYC, with `-h CHRONY_COMMAND_SOCKET`
 * when set. No decisions live here.
 */
export class Chronyc {
  constructor(
    private readonly program: string,
    private readonly socket: string,
    private readonly timeoutMs = 3000,
  ) {}

  /** Where it asks, for messages: the socket, or chronyc's default. */
  get where(): string {
    return this.socket || "chronyc's default (/run/chrony/chronyd.sock, else 127.0.0.1:323)";
  }

  run(args: readonly string[]): Promise<string> {
    const argv = [...(this.socket ? ['-h', this.socket] : []), ...args];
    return new Promise((resolve, reject) => {
      execFile(this.program, argv, { encoding: 'utf8', timeout: this.timeoutMs, killSignal: 'SIGKILL', env: { ...process.env, LC_ALL: 'C' } }, (error, stdout, stderr) => {
        const said = `${stdout}\n${stderr}`.trim();
        if (!error && !/^50\d /m.test(said)) return resolve(stdout);
        const code = (error as NodeJS.ErrnoException | null)?.code;
        if (code === 'ENOENT') return reject(new ChronycError(`chronyc is not installed (${this.program}; Debian: apt-get install chrony)`, 'absent'));
        if (error?.killed) return reject(new ChronycError(`chronyc did not answer within ${this.timeoutMs} ms`, 'down'));
        if (/Not authori[sz]ed/i.test(said)) return reject(new ChronycError(`chronyd refused "${args.filter((a) => !a.startsWith('-')).join(' ')}" (501 Not authorised: it answers that only on its command socket)`, 'refused'));
        if (/Cannot talk to daemon|Could not open connection|Could not (get|resolve)|Connection refused/i.test(said)) {
          return reject(new ChronycError(`chronyd does not answer at ${this.where} (chronyc: ${firstLine(said)})`, 'down'));
        }
        reject(new ChronycError(`chronyc ${args.join(' ')} failed: ${firstLine(said) || `exit status ${code}`}`, 'failed'));
      });
    });
  }
}

function firstLine(text: string): string {
  return text.split(/\r?\n/).find((l) => l.trim())?.trim().slice(0, 200) ?? '';
}
