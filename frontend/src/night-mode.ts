import { useCallback, useEffect, useState } from 'react';

export const NIGHT_MODE_KEY = 'pi-timesync.night-mode';

/** The browser's own bars follow the page: `theme-color` (and the manifest's) for day and night. */
export const THEME_COLOR = { day: '#0f1317', night: '#000000' } as const;

export function readNightMode(storage: Storage | undefined = safeStorage()): boolean {
  try {
    return storage?.getItem(NIGHT_MODE_KEY) === 'on';
  } catch {
    return false;
  }
}

function safeStorage(): Storage | undefined {
  try {
    return typeof localStorage === 'undefined' ? undefined : localStorage;
  } catch {
    return undefined; // storage disabled by the browser
  }
}

/** Applies the mode to <html> (so no white shows anywhere) and to the browser's bars (`theme-color`). */
export function applyNightMode(on: boolean, doc: Document = document): void {
  doc.documentElement.classList.toggle('night', on);
  let meta = doc.querySelector<HTMLMetaElement>('meta[name="theme-color"]');
  if (!meta) {
    meta = doc.createElement('meta');
    meta.name = 'theme-color';
    doc.head.appendChild(meta);
  }
  meta.content = on ? THEME_COLOR.night : THEME_COLOR.day;
}

/** Red-on-black night mode, remembered on this device. */
export function useNightMode(): [boolean, (on: boolean) => void] {
  const [night, setNight] = useState(readNightMode);
  useEffect(() => {
    applyNightMode(night);
  }, [night]);
  const set = useCallback((on: boolean) => {
    setNight(on);
    try {
      safeStorage()?.setItem(NIGHT_MODE_KEY, on ? 'on' : 'off');
    } catch {
      // storage full or disabled: the mode still applies until the page reloads
    }
  }, []);
  return [night, set];
}
