import { useCallback, useEffect, useState } from 'react';

export const NIGHT_MODE_KEY = 'pi-timesync.night-mode';

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

/** Red-on-black night mode, remembered on this device, applied to <html> so no white shows anywhere. */
export function useNightMode(): [boolean, (on: boolean) => void] {
  const [night, setNight] = useState(readNightMode);
  useEffect(() => {
    document.documentElement.classList.toggle('night', night);
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
