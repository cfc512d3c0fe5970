import { useMemo, useState } from 'react';
import { knownTimeZones } from '../time-format';

interface Props {
  value: string;
  deviceZone: string;
  piZone: string | null;
  /** False on the Pi's own screen, where this device is the Pi. */
  showDevice: boolean;
  onPick: (zone: string) => void;
  onCancel: () => void;
}

/** More zones than this in a region are narrowed by their first letter first. */
const LIST_AT_MOST = 12;

/**
 * Picks an IANA zone by touch alone (no system keyboard can draw over the kiosk): the device's and the Pi's zone
 * first, then a region, then a first letter, then the zone.
 */
export function ZonePicker({ value, deviceZone, piZone, showDevice, onPick, onCancel }: Props) {
  const [region, setRegion] = useState<string | null>(null);
  const [letter, setLetter] = useState<string | null>(null);
  const all = useMemo(() => knownTimeZones(), []);
  const regions = useMemo(() => [...new Set(all.map(regionOf))].sort(), [all]);
  const inRegion = useMemo(() => (region ? all.filter((z) => regionOf(z) === region) : []), [all, region]);
  const letters = useMemo(() => [...new Set(inRegion.map((z) => placeOf(z).charAt(0).toUpperCase()))].sort(), [inRegion]);
  const listed = inRegion.length <= LIST_AT_MOST ? inRegion : letter ? inRegion.filter((z) => placeOf(z).toUpperCase().startsWith(letter)) : [];

  const first: Array<{ zone: string; label: string }> = [];
  if (piZone) first.push({ zone: piZone, label: `The Pi: ${piZone}` });
  if (showDevice && deviceZone !== piZone) first.push({ zone: deviceZone, label: `This device: ${deviceZone}` });
  if (!first.some((f) => f.zone === 'UTC')) first.push({ zone: 'UTC', label: 'UTC' });

  return (
    <div className="zone-picker" data-testid="zone-picker" role="group" aria-label="Time zone">
      <div className="chips">
        {first.map((f) => (
          <button key={f.label} type="button" className={f.zone === value ? 'btn chip chosen' : 'btn chip'} data-testid="zone-first" data-zone={f.zone} onClick={() => onPick(f.zone)}>
            {f.label}
          </button>
        ))}
        <button type="button" className="btn chip" data-testid="zone-cancel" onClick={onCancel}>
          Cancel
        </button>
      </div>
      <div className="chips" aria-label="Region">
        {regions.map((r) => (
          <button
            key={r}
            type="button"
            className={r === region ? 'btn chip chosen' : 'btn chip'}
            aria-pressed={r === region}
            data-testid={`zone-region-${r}`}
            onClick={() => {
              setRegion(r);
              setLetter(null);
            }}
          >
            {r}
          </button>
        ))}
      </div>
      {region && inRegion.length > LIST_AT_MOST ? (
        <div className="chips letters" aria-label="First letter">
          {letters.map((l) => (
            <button key={l} type="button" className={l === letter ? 'btn chip chosen' : 'btn chip'} aria-pressed={l === letter} data-testid={`zone-letter-${l}`} onClick={() => setLetter(l)}>
              {l}
            </button>
          ))}
        </div>
      ) : null}
      {listed.length ? (
        <div className="chips zones">
          {listed.map((z) => (
            <button key={z} type="button" className={z === value ? 'btn chip chosen' : 'btn chip'} data-testid="zone-option" data-zone={z} onClick={() => onPick(z)}>
              {placeOf(z).replace(/_/g, ' ')}
            </button>
          ))}
        </div>
      ) : null}
    </div>
  );
}

/** "Europe/Berlin" → "Europe"; "UTC" → "UTC". */
function regionOf(zone: string): string {
  const slash = zone.indexOf('/');
  return slash < 0 ? zone : zone.slice(0, slash);
}

/** "America/Argentina/Buenos_Aires" → "Argentina/Buenos_Aires"; "UTC" → "UTC". */
function placeOf(zone: string): string {
  const slash = zone.indexOf('/');
  return slash < 0 ? zone : zone.slice(slash + 1);
}
