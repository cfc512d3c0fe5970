import Module from 'node:module';
import { dirname } from 'node:path';

/**
 * Puts a stand-in for `request` (as `parent` resolves it) into Node's module cache, so whoever requires it at
 * boot gets an object that loads the real module on the first property read. For dependencies that load a
 * large module eagerly for a feature we never or rarely use: class-validator requires libphonenumber-js/max
 * (its whole metadata, about 1.6 MB of heap and 8 MB of RSS) for `IsPhoneNumber` alone.
 * Call before `parent` is loaded; does nothing if `request` is already loaded or cannot be resolved.
 */
export function deferModule(request: string, parent: string): void {
  let path: string;
  try {
    path = require.resolve(request, { paths: [dirname(require.resolve(parent))] });
  } catch {
    return;
  }
  if (require.cache[path]) return;
  let real: Record<string | symbol, unknown> | undefined;
  const load = (): Record<string | symbol, unknown> => {
    if (!real) {
      delete require.cache[path];
      real = require(path) as Record<string | symbol, unknown>;
    }
    return real;
  };
  const standIn = new Module(path);
  standIn.filename = path;
  standIn.loaded = true;
  standIn.exports = new Proxy(
    {},
    {
      get: (_, key) => load()[key],
      has: (_, key) => key in load(),
      ownKeys: () => Reflect.ownKeys(load()),
      getOwnPropertyDescriptor: (_, key) => {
        const d = Reflect.getOwnPropertyDescriptor(load(), key);
        return d && { ...d, configurable: true };
      },
    },
  );
  require.cache[path] = standIn;
}

// Imported first by main.ts (before anything loads class-validator): its phone-number validator, unused here,
// loads its metadata on first use only.
deferModule('libphonenumber-js/max', 'class-validator');
