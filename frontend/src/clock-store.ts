import { useSyncExternalStore } from 'react';

export interface Tick {
  /** Date.now() at the tick. */
  wall: number;
  /** performance.now() at the tick (monotonic, for ages). */
  mono: number;
}

const listeners = new Set<() => void>();
let tick: Tick = read();
let timer: ReturnType<typeof setTimeout> | null = null;

function read(): Tick {
  return { wall: Date.now(), mono: performance.now() };
}

function schedule(): void {
  // Just after each whole second of this device's clock, so the shown seconds change together.
  const wait = 1000 - (Date.now() % 1000) + 5;
  timer = setTimeout(() => {
    tick = read();
    for (const l of listeners) l();
    schedule();
  }, wait);
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  if (listeners.size === 1) {
    tick = read();
    schedule();
  }
  return () => {
    listeners.delete(listener);
    if (!listeners.size && timer !== null) {
      clearTimeout(timer);
      timer = null;
    }
  };
}

/** The current time, re-rendering the caller once a second. */
export function useTick(): Tick {
  return useSyncExternalStore(subscribe, () => tick);
}
