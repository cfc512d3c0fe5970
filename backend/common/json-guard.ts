/**
 * Checks on client JSON that must run before class-transformer and class-validator see it: they recurse, so a
 * body nested 3000 levels deep overflows the stack (a 500), and they copy `__proto__` / `constructor` keys
 * onto instances. Nothing here recurses, so nothing here can overflow either.
 */
import { ErrorCode } from '../protocol/vocabulary';

/** Deepest nesting of objects and arrays accepted; every frame and body of the API is at most 3 deep. */
export const MAX_JSON_DEPTH = 16;

/**
 * Keys refused at any depth: `__proto__`, `constructor` and `prototype` reach prototypes when something merges
 * or transforms the object, and a key named after any other Object.prototype member (`valueOf`, `toString`,
 * `hasOwnProperty`...) is skipped by class-transformer without a word, so it would slip past the whitelist.
 */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype', ...Object.getOwnPropertyNames(Object.prototype)]);

export interface JsonProblem {
  code: typeof ErrorCode.TOO_DEEP | typeof ErrorCode.FORBIDDEN_KEY;
  message: string;
}

/**
 * How deep the JSON text nests, counted on the raw text before it is parsed (brackets inside strings do not
 * count). Returns the problem once the depth passes `max`, else null. Linear, no allocation.
 */
export function scanJsonDepth(text: string, max = MAX_JSON_DEPTH): JsonProblem | null {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return tooDeep(max);
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return null;
}

/**
 * Walks a parsed JSON value (or a query object) without recursion: refuses nesting deeper than `max` and any
 * forbidden key, wherever it is. `JSON.parse` makes `"__proto__"` an own key, so it is seen here.
 */
export function inspectJson(value: unknown, max = MAX_JSON_DEPTH): JsonProblem | null {
  const stack: Array<{ value: unknown; depth: number; path: string }> = [{ value, depth: 0, path: '' }];
  while (stack.length) {
    const { value: v, depth, path } = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth + 1 > max) return tooDeep(max);
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) stack.push({ value: v[i], depth: depth + 1, path: `${path}[${i}]` });
      continue;
    }
    for (const key of Object.keys(v)) {
      const at = path ? `${path}.${key}` : key;
      if (FORBIDDEN_KEYS.has(key)) return { code: ErrorCode.FORBIDDEN_KEY, message: `the key ${JSON.stringify(key)} is not allowed (at ${JSON.stringify(at.slice(0, 80))})` };
      stack.push({ value: (v as Record<string, unknown>)[key], depth: depth + 1, path: at });
    }
  }
  return null;
}

/** Parses client JSON text with both checks: depth before parsing, keys after. Throws SyntaxError for bad JSON. */
export function parseGuarded(text: string, max = MAX_JSON_DEPTH): { value: unknown; problem: null } | { value?: undefined; problem: JsonProblem } {
  const deep = scanJsonDepth(text, max);
  if (deep) return { problem: deep };
  const value: unknown = JSON.parse(text);
  const problem = inspectJson(value, max);
  return problem ? { problem } : { value, problem: null };
}

function tooDeep(max: number): JsonProblem {
  return { code: ErrorCode.TOO_DEEP, message: `JSON nested deeper than ${max} levels is refused` };
}
