// Writes an Xcursor theme whose every cursor is one transparent pixel: with XCURSOR_THEME set to it, cage
// (or labwc) and Chromium draw no pointer, whatever pointer device is attached (HDMI-CEC counts as one).
// Run by kiosk/package.sh into the bundle: node kiosk/tools/cursor-theme.mjs <dir>  ->  <dir>/<THEME>/...
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const THEME = 'pi-camera-timesync-hidden';

/** The names cage, labwc, wlroots and Chromium ask for (CSS cursors and their X11 aliases). */
export const CURSOR_NAMES = [
  'default', 'left_ptr', 'top_left_arrow', 'arrow', 'pointer', 'hand', 'hand1', 'hand2', 'pointing_hand', 'text', 'xterm', 'ibeam',
  'vertical-text', 'wait', 'watch', 'progress', 'left_ptr_watch', 'half-busy', 'crosshair', 'cross', 'tcross', 'move', 'fleur',
  'all-scroll', 'grab', 'openhand', 'grabbing', 'closedhand', 'dnd-none', 'dnd-move', 'dnd-copy', 'dnd-link', 'not-allowed',
  'no-drop', 'crossed_circle', 'forbidden', 'help', 'question_arrow', 'whats_this', 'context-menu', 'cell', 'plus', 'alias', 'copy',
  'col-resize', 'row-resize', 'sb_h_double_arrow', 'sb_v_double_arrow', 'split_h', 'split_v', 'e-resize', 'w-resize', 'n-resize',
  's-resize', 'ne-resize', 'nw-resize', 'se-resize', 'sw-resize', 'ew-resize', 'ns-resize', 'nesw-resize', 'nwse-resize',
  'size_hor', 'size_ver', 'size_fdiag', 'size_bdiag', 'right_side', 'left_side', 'top_side', 'bottom_side', 'top_right_corner',
  'top_left_corner', 'bottom_right_corner', 'bottom_left_corner', 'zoom-in', 'zoom-out', 'X_cursor', 'pirate',
];

/** One Xcursor file (libXcursor's format, little-endian): a header, one table entry, one 1x1 image. */
export function transparentCursor(nominalSize = 24) {
  const u32 = (...values) => {
    const b = Buffer.alloc(4 * values.length);
    values.forEach((v, i) => b.writeUInt32LE(v >>> 0, 4 * i));
    return b;
  };
  const IMAGE = 0xfffd0002;
  const fileHeader = Buffer.concat([Buffer.from('Xcur', 'latin1'), u32(16, 0x10000, 1)]);
  const toc = u32(IMAGE, nominalSize, 16 + 12);
  // chunk header (size 36, type, subtype, version 1), then width, height, xhot, yhot, delay, one ARGB pixel.
  const image = u32(36, IMAGE, nominalSize, 1, 1, 1, 0, 0, 0, 0x00000000);
  return Buffer.concat([fileHeader, toc, image]);
}

export function writeTheme(dir) {
  const cursors = join(dir, THEME, 'cursors');
  mkdirSync(cursors, { recursive: true });
  writeFileSync(join(dir, THEME, 'index.theme'), `[Icon Theme]\nName=${THEME}\nComment=Every cursor invisible (Pi Camera TimeSync kiosk)\n`);
  const file = transparentCursor();
  // Copies, not links: the bundle holds regular files only.
  for (const name of CURSOR_NAMES) writeFileSync(join(cursors, name), file);
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: node kiosk/tools/cursor-theme.mjs <dir>');
    process.exit(2);
  }
  writeTheme(dir);
}
