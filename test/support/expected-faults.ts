// A test that breaks something on purpose (a journal that is a folder, a DATA_DIR that is a file) makes the
// server log an error, which is right in production and alarming in a test run. This logger prints such lines
// as warnings marked "[expected in test]", and only the lines the test says it provokes: any other error in
// the same test stays a red ERROR.
import { ConsoleLogger, Logger, LogLevel, LoggerService } from '@nestjs/common';

export const EXPECTED_MARK = '[expected in test]';

export class ExpectedFaultsLogger extends ConsoleLogger {
  constructor(private readonly expected: readonly RegExp[]) {
    // The levels the app was (or will be) created with; startApp sets error and fatal.
    super({ logLevels: (Logger as unknown as { logLevels?: LogLevel[] }).logLevels ?? ['error', 'fatal'] });
  }

  /** Whether a message is one the test provokes. */
  isExpected(message: unknown): boolean {
    const text = typeof message === 'string' ? message : message instanceof Error ? message.message : '';
    return this.expected.some((pattern) => pattern.test(text));
  }

  override error(message: unknown, ...optionalParams: unknown[]): void {
    if (!this.isExpected(message)) return super.error(message, ...optionalParams);
    if (this.isLevelEnabled('error')) this.printExpected(message, optionalParams);
  }

  override warn(message: unknown, ...optionalParams: unknown[]): void {
    if (!this.isExpected(message)) return super.warn(message, ...optionalParams);
    if (this.isLevelEnabled('warn') || this.isLevelEnabled('error')) this.printExpected(message, optionalParams);
  }

  /** At warn level (yellow, WARN), marked; a stack given with it is not printed: the fault is the test's own. */
  private printExpected(message: unknown, optionalParams: unknown[]): void {
    const { messages, context } = this.getContextAndStackAndMessagesToPrint([`${EXPECTED_MARK} ${String(message)}`, ...optionalParams]);
    this.printMessages(messages, context, 'warn');
  }
}

let installed: { logger: ExpectedFaultsLogger; before: LoggerService | undefined } | null = null;

/**
 * From now until the end of the test (or the returned function is called), Nest log lines matching one of
 * `expected` are printed as expected warnings. Call it before the fault (before startApp if the fault is
 * there at boot).
 */
export function expectFaults(...expected: RegExp[]): () => void {
  restore();
  const before = (Logger as unknown as { staticInstanceRef?: LoggerService }).staticInstanceRef;
  const logger = new ExpectedFaultsLogger(expected);
  Logger.overrideLogger(logger);
  installed = { logger, before };
  return restore;
}

function restore(): void {
  if (!installed) return;
  if ((Logger as unknown as { staticInstanceRef?: LoggerService }).staticInstanceRef === installed.logger && installed.before) Logger.overrideLogger(installed.before);
  installed = null;
}

// Whatever a test did, the next one starts with the plain logger: a file that imports this gets the hook.
if (typeof afterEach === 'function') afterEach(restore);

/** What ClockJournal logs when the journal cannot be written (tests that break DATA_DIR provoke it). */
export const JOURNAL_UNWRITABLE_LOG = /^The clock-change journal .* cannot be written: .*clock changes are refused until this is fixed\.$/;
