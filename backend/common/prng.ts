/**
 * A small seeded pseudo-random generator, so that burst schedules, tests and the sync benchmark are
 * reproducible. Not for anything secret.
 */

/** Uniform numbers in [0, 1). */
export type Rng = () => number;

/** mulberry32: 32-bit state, good enough statistics for jitter and simulation, and fast. */
export function mulberry32(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Derives a 32-bit seed from text (FNV-1a), e.g. a trial name, so that streams do not overlap by accident. */
export function seedFromString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
