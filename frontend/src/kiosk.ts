import { KIOSK_QUERY } from '../../backend/protocol/vocabulary';

export const KIOSK_TOKEN_KEY = 'pi-timesync.kiosk';

/**
 * The kiosk secret, if this page is the Pi's own screen: the launcher opens `/?kiosk=<secret>`. It is kept
 * for this tab (a reload, e.g. after an update, keeps it) and dropped from the address bar at once, so it is
 * not shown, bookmarked or copied.
 */
export function takeKioskToken(
  loc: Pick<Location, 'href'> = window.location,
  history: Pick<History, 'replaceState' | 'state'> | null = window.history,
  storage: Pick<Storage, 'getItem' | 'setItem'> | null = sessionStore(),
): string | null {
  let url: URL;
  try {
    url = new URL(loc.href);
  } catch {
    return read(storage);
  }
  const given = url.searchParams.get(KIOSK_QUERY);
  if (given === null) return read(storage);
  url.searchParams.delete(KIOSK_QUERY);
  try {
    history?.replaceState(history.state, '', url.pathname + url.search + url.hash);
  } catch {
    // a page that cannot rewrite its address still works
  }
  try {
    storage?.setItem(KIOSK_TOKEN_KEY, given);
  } catch {
    // storage disabled: the secret lasts until a reload
  }
  return given || null;
}

function read(storage: Pick<Storage, 'getItem'> | null): string | null {
  try {
    return storage?.getItem(KIOSK_TOKEN_KEY) || null;
  } catch {
    return null;
  }
}

function sessionStore(): Storage | null {
  try {
    return typeof sessionStorage === 'undefined' ? null : sessionStorage;
  } catch {
    return null;
  }
}
