/**
 * What a photographer's tools read, made from the corrections (pure): an ExifTool argument file, ExifTool
 * -geosync points (the journal as CSV is journal-csv.ts).
 */
import type { DamagedLine } from '../activity-log/clock-journal';
import { exiftoolComment, isScopableSerial } from '../common/escape';
import { AmbiguousWindow, CameraCorrections, CameraPeriod, CorrectionSegment, localText, normalizeSerial, shiftAt, SkippedRecord } from './corrections';

export interface FileContext {
  /** When it was made (Pi time, ISO) and what it covers, for the header. */
  generatedAt: string;
  scope: string;
  skipped: SkippedRecord[];
  damaged: DamagedLine[];
}

/**
 * The argument file for exactly `exiftool -@ corrections.args -overwrite_original DIR`.
 *
 * Why it looks like this (checked with the real exiftool, see test/e2e/photo-fix.e2e-spec.ts):
 * - no `-execute`: the arguments after `-@ FILE` on the command line (`-overwrite_original DIR`) belong to
 *   the last group only, so every group before it would run on no file at all; and a photo shifted by one
 *   group would be tested again by the next group's `-if` with its new time. One group, evaluated once per photo.
 * - one row per segment in a Perl table: serial, camera-time range, the shift at its start and at its end,
 *   the zone. One `-if` finds the photo's row by SerialNumber and DateTimeOriginal + SubSecTimeOriginal; the
 *   shift is the row's, interpolated on the photo's own time within a drift (so a drift of any length is one
 *   row, not one per few ms of change); a jump's row has the same shift at both ends.
 * - one assignment per date (`-TAG<${DateTimeOriginal#;...}`) that computes that shift and applies it with
 *   ExifTool's own ShiftTime to the date with its sub-seconds, then writes the composite SubSec* tag (date,
 *   sub-seconds and zone together; the zone as it was, or corrected): a plain
 *   `-DateTimeOriginal+=` cannot differ per photo. ShiftTime keeps the sub-seconds' number of digits,
 *   rounding (Canon's hundredths: to 10 ms), carries into the seconds, and a time without sub-seconds stays
 *   whole seconds, rounded. CreateDate likewise, with the shift found from DateTimeOriginal. ModifyDate is
 *   left alone: it says when the file was last changed.
 * - Perl variables only inside `${...}` expressions, where exiftool does not interpolate tag names; the only
 *   camera value in the table is a serial number matching SCOPABLE_SERIAL, quoted; the rest are numbers.
 */
export function exiftoolArgs(cameras: CameraCorrections[], ctx: FileContext): string {
  const rows: string[] = [];
  const lines: string[] = [
    '# Pi Camera TimeSync: photo time corrections, generated from the clock-change journal',
    comment(`${ctx.scope}; made ${ctx.generatedAt}`),
    '# Apply to a folder of photos (add -r for sub-folders):',
    '#   exiftool -@ corrections.args -overwrite_original DIR',
    '# Each photo whose SerialNumber and DateTimeOriginal (with SubSecTimeOriginal) fall in a range below gets',
    '# that range\'s shift on DateTimeOriginal and CreateDate; every other photo "fails the condition" and is left alone.',
    '# Camera times are what the camera showed (its wall time); ranges include their start, not their end.',
    '# "from A to B" (a drift): the shift goes from A at the range\'s start to B at its end, in proportion to the photo\'s time.',
  ];
  for (const camera of cameras) {
    if (!isScopableSerial(camera.serial)) {
      lines.push(comment(`camera ${JSON.stringify(camera.serial)} (${camera.cameraIds.join(', ')}) is left out: its serial number is not one a photo could carry`));
      continue;
    }
    lines.push(comment(`camera ${camera.serial} (${camera.cameraIds.join(', ')}):`));
    for (const period of camera.periods) {
      if (period.unusable) {
        lines.push(comment(`  period ${period.index}: not corrected: ${period.unusable}`));
        continue;
      }
      for (const s of period.segments) {
        lines.push(comment(`  period ${period.index}: ${s.from ?? '(any earlier)'} to ${s.to ?? '(any later)'}: ${segmentText(s)}`));
        rows.push(`['${perlString(normalizeSerial(camera.serial))}',${s.fromLocalMs ?? 'undef'},${s.toLocalMs ?? 'undef'},${s.shiftMs},${s.shiftToMs},${s.offsetTime ? `'${s.offsetTime}'` : 'undef'}]`);
      }
    }
    for (const w of camera.ambiguous) lines.push(comment(`  left alone: ${w.from} to ${w.to}: ${w.reason}`));
  }
  lines.push(...notes(ctx));

  // $m: the photo's row; $sh: its shift in ms (a drift's interpolated at the photo's own time, a photo without sub-seconds taken from the middle of its second).
  const lookup =
    `my @P = (${rows.join(',')}); my ($m, $sh); my $n = $self->GetValue('SerialNumber'); my $t = Image::ExifTool::GetUnixTime($_); ` +
    `my $s = $self->GetValue('SubSecTimeOriginal','ValueConv'); ` +
    `if (defined $n and defined $t) { $n =~ s/^\\s+|\\s+$//g; $n =~ s/^0+(?=.)//; ` +
    `my $ms = $t * 1000 + ((defined $s and $s =~ /^(\\d+)/) ? substr($1 . '000', 0, 3) : 500); ` +
    `for my $p (@P) { if ($p->[0] eq $n and (!defined $p->[1] or $ms >= $p->[1]) and (!defined $p->[2] or $ms < $p->[2])) { $m = $p; $sh = $p->[3]; ` +
    `$sh += ($ms - $p->[1]) * ($p->[4] - $p->[3]) / ($p->[2] - $p->[1]) if defined $p->[1] and defined $p->[2] and $p->[2] > $p->[1]; last } } }`;
  // The date with its sub-seconds, shifted by ShiftTime, then the zone: the composite tag writes the zone it is
  // given and deletes the one it is not, so the photo's own is passed on unless corrected. (Not the composite's
  // own value: ExifTool has none for a date with neither sub-seconds nor a zone.)
  const shifted = (base: string, subSec: string, offset: string) =>
    `$_ = undef; if ($m) { my $v = $self->GetValue('${base}','ValueConv'); my $f = $self->GetValue('${subSec}','ValueConv'); my $o = $self->GetValue('${offset}','ValueConv'); ` +
    `if (defined $v and $v =~ /^(\\d{4}:\\d\\d:\\d\\d \\d\\d:\\d\\d:\\d\\d)/) { $v = $1; $v .= '.' . $1 if defined $f and $f =~ /^(\\d+)/; my $z = defined $m->[5] ? $m->[5] : $o; ` +
    `$_ = $v . (defined $z ? $z : '') unless ShiftTime($v, sprintf('%s0:0:%.3f', $sh < 0 ? '-' : '+', abs($sh) / 1000)) } }`;
  lines.push('-if', `\${DateTimeOriginal#;${lookup} $_ = $m ? 1 : 0}`);
  lines.push(`-SubSecDateTimeOriginal<\${DateTimeOriginal#;${lookup} ${shifted('DateTimeOriginal', 'SubSecTimeOriginal', 'OffsetTimeOriginal')}}`);
  lines.push(`-SubSecCreateDate<\${DateTimeOriginal#;${lookup} ${shifted('CreateDate', 'SubSecTimeDigitized', 'OffsetTimeDigitized')}}`);
  return lines.join('\n') + '\n';
}

/** A segment's shift in words: "shift -2.410 s (±21 ms)", "shift from -0.010 s to -0.026 s (±21 ms): drift of ...". */
function segmentText(s: CorrectionSegment): string {
  const shift = s.kind === 'drift' ? `shift from ${signedSeconds(s.shiftMs)} to ${signedSeconds(s.shiftToMs)}` : `shift ${signedSeconds(s.shiftMs)}`;
  const bound = s.boundMs === null ? '' : ` (±${s.boundMs} ms)`;
  const zone = s.offsetTime ? `, zone ${s.offsetTime}` : '';
  if (s.kind === 'jump') return `${s.note}; ${shift}${zone}`;
  return `${shift}${bound}${zone}${s.note ? ` (${s.note})` : ''}`;
}

/**
 * `-geosync=GPSTIME@IMAGETIME` points of one camera's one period: the true time (UTC) at which the camera
 * showed that time. ExifTool interpolates between neighbouring points and extrapolates beyond the first and
 * last with the two nearest, so the points follow the segments, not the measurements:
 * - a constant or a jump: two points with the same offset (so a jump's photos get the later measurement's
 *   offset, not a ramp across the interval, and beyond a period's measurements the offset stays);
 * - a drift: a point at each end; ExifTool's interpolation between them is the drift's.
 * Where the offset changes from one segment to the next (at a jump), ExifTool ramps between the two points
 * around the border, which are whole seconds apart: the ramp is put inside the jump's range, whose bound covers
 * either offset. The camera time carries no zone, so it is read in the same zone as the photos'
 * DateTimeOriginal, whatever the computer's. One period only: across a write the camera's time jumps back
 * or forth and one set of points cannot say both.
 */
export function geosyncArgs(camera: CameraCorrections, period: CameraPeriod, ctx: FileContext): string {
  const lines = [
    comment(`Pi Camera TimeSync: -geosync points for camera ${camera.serial}, period ${period.index}; ${ctx.scope}; made ${ctx.generatedAt}`),
    '# true time (UTC) @ the camera\'s time then, to the second. Use with a GPS track, for the photos of this camera and period:',
    '#   exiftool -@ geosync.args -geotag TRACK.gpx DIR',
  ];
  for (const s of period.segments) lines.push(comment(`  ${s.from ?? '(any earlier)'} to ${s.to ?? '(any later)'}: ${segmentText(s)}`));
  lines.push(...notes(ctx));
  // The camera's zone offset: the shifts put a photo on true time in the target zone.
  const targetMs = period.zone.target * 60_000;
  const points = new Map<number, number>(); // camera second (ms as if UTC) -> true time, ms
  const at = (s: CorrectionSegment, cameraMs: number) => points.set(cameraMs, cameraMs + shiftAt(s, cameraMs) - targetMs);
  const segments = period.segments;
  segments.forEach((s, i) => {
    const jumpBefore = i > 0 && segments[i - 1].kind === 'jump' && s.kind !== 'jump';
    const jumpAfter = i + 1 < segments.length && segments[i + 1].kind === 'jump' && s.kind !== 'jump';
    // Whole seconds inside the segment; next to a jump, the border point is on the jump's side.
    let first = s.fromLocalMs === null ? null : jumpBefore ? Math.floor(s.fromLocalMs / 1000) * 1000 : Math.ceil(s.fromLocalMs / 1000) * 1000;
    let last = s.toLocalMs === null ? null : jumpAfter ? Math.ceil(s.toLocalMs / 1000) * 1000 : Math.floor(s.toLocalMs / 1000) * 1000;
    if (s.kind === 'jump') {
      // One second in from each border, so the ramps to the neighbours stay within the jump's range.
      if (first !== null && i > 0) first += 1000;
      if (last !== null && i + 1 < segments.length) last -= 1000;
    }
    // An open end: a second point one second further, with the same offset (ExifTool extrapolates flat).
    if (first === null && last !== null) first = last - 1000;
    if (last === null && first !== null) last = first + 1000;
    if (first === null || last === null) {
      // Open both ways (one measurement, no write): the same offset everywhere; any two seconds will do.
      const p = period.points[0];
      first = Math.round((p.trueMs + p.offsetMs + p.wallOffsetMinutes * 60_000) / 1000) * 1000;
      last = first + 1000;
    }
    if (last < first) return; // shorter than the seconds around it
    at(s, first);
    if (last !== first) at(s, last);
  });
  for (const [cameraMs, trueMs] of [...points.entries()].sort((x, y) => x[0] - y[0])) {
    // Whole seconds on both sides: ExifTool 12.57 counts a fraction of a second in a -geosync time twice
    // (GetUnixTime reads it, then Geotag adds it again), so a fraction would be wrong in some versions.
    // Half a second at most, which is finer than a GPS track's one-second fixes.
    lines.push(`-geosync=${localText(Math.round(trueMs / 1000) * 1000).slice(0, 19)}Z@${localText(cameraMs).slice(0, 19)}`);
  }
  return lines.join('\n') + '\n';
}

/** A comment line of the argument file: whatever the text, it cannot end the line or start an argument. */
function comment(text: string): string {
  return exiftoolComment(text);
}

function notes(ctx: FileContext): string[] {
  return [...ctx.skipped.map((s) => comment(`journal line ${s.line} not used: ${s.reason}`)), ...ctx.damaged.map((d) => comment(`journal line ${d.line} skipped: ${d.reason}`))];
}

function perlString(s: string): string {
  return s.replace(/[\\']/g, (c) => `\\${c}`);
}

function signedSeconds(ms: number): string {
  return `${ms < 0 ? '-' : '+'}${(Math.abs(ms) / 1000).toFixed(3)} s`;
}

export type { AmbiguousWindow };
