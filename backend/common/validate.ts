import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import { DomainError, ErrorCode } from './domain-error';

/**
 * Validates a WebSocket payload with the same rules as the REST ValidationPipe (whitelist,
 * forbidNonWhitelisted), without replacing the payload object.
 */
export function assertValid<T extends object>(dto: new () => T, payload: unknown, what: string): T {
  const instance = plainToInstance(dto, payload);
  const errors = validateSync(instance as object, { whitelist: true, forbidNonWhitelisted: true });
  if (errors.length) throw new DomainError(ErrorCode.BAD_REQUEST, `${what}: ${describe(errors)}`);
  return instance;
}

function describe(errors: ValidationError[]): string {
  return errors.map((e) => Object.values(e.constraints ?? {}).join(', ') || `${e.property} is invalid`).join('; ');
}

/** For messages that carry no data: `{}` or nothing. */
export function assertEmpty(payload: object, what: string): void {
  const extra = Object.keys(payload);
  if (extra.length) throw new DomainError(ErrorCode.BAD_REQUEST, `${what}: unexpected field(s) ${extra.slice(0, 5).join(', ')}; it takes no data`);
}
