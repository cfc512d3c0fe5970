/**
 * Escaping at the edge, one function per context. A value from a camera (serial number, product name, an
 * error it answered) or from a client (a zone, a label) reaches files, headers and log lines only through
 * these, so a hostile camera cannot end a line, start an ExifTool argument, break a header or run a formula.
 */

/**
 * Characters that end or break a line somewhere: C0 controls (NUL, TAB, LF, CR...), DEL, C1 controls (NEL
 * U+0085 among them) and the Unicode line and paragraph separators.
 */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\0': '\\0' };

function escapeControls(text: string): string {
  return text.replace(CONTROL, (c) => NAMED[c] ?? (c.charCodeAt(0) <= 0xff ? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}` : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return String(value);
  if (value instanceof Error) return value.message;
  return typeof value === 'object' ? (JSON.stringify(value) ?? String(value)) : String(value);
}

// ---- log lines ------------------------------------------------------------------------------------

/**
 * A value for a log line (server log or activity entry): control characters shown escaped (`\n`, `\x00`,
 * `\u2028`) and the backslash doubled, so one call is one line and an escaped text cannot pass for another.
 */
export function logText(value: unknown): string {
  return escapeControls(textOf(value).replace(/\\/g, '\\\\'));
}

// ---- ExifTool argument files ----------------------------------------------------------------------

/**
 * Serial numbers a photo's SerialNumber may be matched against (`-if` conditions, `camera=` filters). A
 * camera body's serial is digits and letters; anything else is refused for scoping.
 */
export const SCOPABLE_SERIAL = /^[A-Za-z0-9_-]{1,32}$/;

export function isScopableSerial(serial: string): boolean {
  return SCOPABLE_SERIAL.test(serial);
}

/**
 * One comment line of an ExifTool argument file (`-@ FILE`). ExifTool reads one argument per line and takes
 * `#[CSTR]` at a line's start as a C string with escapes; the comment always starts with "# " and holds no
 * character that could end the line, so no value in it can become an argument.
 */
export function exiftoolComment(text: string): string {
  return `# ${escapeControls(text)}`;
}

// ---- Content-Disposition --------------------------------------------------------------------------

/**
 * `inline; filename="ascii"; filename*=UTF-8''percent-encoded` (RFC 6266 / RFC 8187). The ASCII fallback
 * holds only letters, digits, ".", "_" and "-" (no quote, slash, `..` or control), the exact name rides in
 * `filename*`, percent-encoded, so no value can break the header or name a path.
 */
export function contentDisposition(type: 'inline' | 'attachment', name: string): string {
  const filename = name || 'download';
  const fallback =
    filename
      .replace(/[^A-Za-z0-9._-]+/g, '_')
      .replace(/\.{2,}/g, '.')
      .replace(/^[._]+/, '')
      .slice(0, 100) || 'download';
  // A lone surrogate cannot be UTF-8 (encodeURIComponent throws): U+FFFD instead.
  const wellFormed = filename.slice(0, 200).replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
  // encodeURIComponent leaves ' ( ) * unencoded, which RFC 8187's attr-char does not allow.
  const exact = encodeURIComponent(wellFormed).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${type}; filename="${fallback}"; filename*=UTF-8''${exact}`;
}

// ---- CSV ------------------------------------------------------------------------------------------

const NUMERIC = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * One CSV cell (RFC 4180): numbers as numbers; text a spreadsheet would run as a formula (starting with
 * = + - @ TAB CR) gets a leading `'` unless it is a plain number; control characters shown escaped; quoted
 * when it holds a quote, a comma or a line end.
 */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  let text = textOf(value);
  if (/^[=+\-@\t\r]/.test(text) && !NUMERIC.test(text)) text = `'${text}`;
  text = escapeControls(text);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
