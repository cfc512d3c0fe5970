import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Text contrast in both themes, computed from the CSS variables of styles.css (WCAG 2 relative luminance):
 * every text colour on every background it is used on, at least 4.5:1. Night mode keeps to red alone.
 */
const css = readFileSync(join(__dirname, 'styles.css'), 'utf8');

function variables(selector: string): Record<string, string> {
  const start = css.indexOf(`${selector} {`);
  if (start < 0) throw new Error(`no ${selector} block`);
  const body = css.slice(start, css.indexOf('}', start));
  return Object.fromEntries([...body.matchAll(/--([a-z-]+):\s*(#[0-9a-f]{6})/gi)].map((m) => [m[1], m[2].toLowerCase()]));
}

const day = variables(':root');
const night = { ...day, ...variables('html.night') };

function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255).map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

export function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/** Each text colour and the backgrounds it is drawn on (see styles.css). */
const TEXT_ON: Record<string, string[]> = {
  text: ['bg', 'card', 'btn', 'btn-active'],
  muted: ['bg', 'card', 'btn'],
  'accent-text': ['accent'],
  'error-text': ['error-bg', 'bg', 'card'],
  'banner-text': ['banner-bg'],
  'ok-text': ['bg', 'card'],
  warn: ['card'],
};
/** Day badges: dark text on a coloured pill. */
const DAY_BADGES = ['good', 'warn', 'low', 'bad', 'muted'];

describe('styles.css contrast', () => {
  it('knows the contrast of black on white and of pure red on black', () => {
    expect(contrast('#000000', '#ffffff')).toBeCloseTo(21, 5);
    expect(contrast('#ff0000', '#000000')).toBeCloseTo(5.25, 2);
  });

  for (const [theme, vars] of [
    ['day', day],
    ['night', night],
  ] as const) {
    it(`keeps every text at 4.5:1 or more by ${theme}`, () => {
      const low: string[] = [];
      const check = (fg: string, bg: string) => {
        const ratio = contrast(vars[fg], vars[bg]);
        if (!(ratio >= 4.5)) low.push(`--${fg} ${vars[fg]} on --${bg} ${vars[bg]}: ${ratio.toFixed(2)}`);
      };
      for (const [fg, bgs] of Object.entries(TEXT_ON)) for (const bg of bgs) check(fg, bg);
      if (theme === 'day') for (const bg of DAY_BADGES) check('badge-text', bg);
      // Night badges: outlines in the text colour on the card, the high one filled (black on red).
      else check('badge-text', 'text');
      expect(low).toEqual([]);
    });
  }

  it('checks every variable the stylesheet uses as a text colour', () => {
    const used = new Set([...css.matchAll(/(?<![-\w])color:\s*var\(--([a-z-]+)\)/g)].map((m) => m[1]));
    const checked = new Set([...Object.keys(TEXT_ON), 'badge-text']);
    expect([...used].filter((v) => !checked.has(v))).toEqual([]);
  });

  it('uses red alone at night (no green or blue above 48 of 255)', () => {
    const overridden = variables('html.night');
    const lit = Object.entries(overridden).filter(([, hex]) => parseInt(hex.slice(3, 5), 16) > 48 || parseInt(hex.slice(5, 7), 16) > 48);
    expect(lit).toEqual([]);
    expect(Object.keys(overridden).sort()).toEqual(Object.keys(day).sort());
  });
});
