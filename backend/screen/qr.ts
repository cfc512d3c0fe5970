/**
 * QR codes as SVG, from the `qrcode` package (loaded with the first code: the server starts without it).
 * The SVG has two paths, the light background first and the dark modules second, so the page can colour
 * them for night mode.
 */
const cache = new Map<string, Promise<string>>();
const MAX_CACHED = 8;

export function qrSvg(text: string): Promise<string> {
  let svg = cache.get(text);
  if (!svg) {
    svg = import('qrcode').then((qrcode) => qrcode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 }));
    svg.catch(() => cache.delete(text));
    if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as string);
    cache.set(text, svg);
  }
  return svg;
}
