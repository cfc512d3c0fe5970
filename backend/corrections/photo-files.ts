/**
 * What a photographer's tools read, made from the corrections (pure): an ExifTool argument file, ExifTool
 * -geosync points (the journal as CSV is journal-csv.ts).
 */
import type { DamagedLine } from '../activity-log/clock-journal';
import { exiftoolComment, isScopableSerial } from '../common/escape';
import { AmbiguousWindow, CameraCorrections, CameraPeriod, localText, normalizeSerial, SkippedRecord } from './corrections';

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
 * - one `-if` that finds the photo's segment by SerialNumber and DateTimeOriginal + SubSecTimeOriginal, and
 *   one assignment per date that computes that segment's shift in an advanced-formatting expression
 *   (`-TAG<${DateTimeOriginal#;...}`): a plain `-DateTimeOriginal+=` cannot differ per photo.
 * - the composite SubSec* tags are written, so DateTimeOriginal, SubSecTimeOriginal and (when the zone is
 *   corrected) OffsetTimeOriginal move together, sub-second carries included; CreateDate likewise. ModifyDate
 *   is left alone: it says when the file was last changed.
 * - Perl variables only inside `${...}` expressions, where exiftool does not interpolate tag names.
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
        lines.push(
          comment(`  period ${period.index}: ${s.from ?? '(any earlier)'} to ${s.to ?? '(any later)'}: shift ${signedSeconds(s.shiftMs)}${s.boundMs === null ? '' : ` (±${s.boundMs} ms)`}` +
            (s.offsetTime ? `, zone ${s.offsetTime}` : '') +
            (period.extrapolated && (s.from === null || s.to === null) ? ' (beyond the measurements: drift there unknown)' : '')),
        );
        rows.push(`['${perlString(normalizeSerial(camera.serial))}',${s.fromLocalMs ?? 'undef'},${s.toLocalMs ?? 'undef'},${s.shiftMs},${s.offsetTime ? `'${s.offsetTime}'` : 'undef'}]`);
      }
    }
    for (const w of camera.ambiguous) lines.push(comment(`  left alone: ${w.from} to ${w.to}: ${w.reason}`));
  }
  lines.push(...notes(ctx));

  const lookup =
    `my @P = (${rows.join(',')}); my $m; my $n = $self->GetValue('SerialNumber'); my $t = Image::ExifTool::GetUnixTime($_); ` +
    `my $s = $self->GetValue('SubSecTimeOriginal','ValueConv'); ` +
    `if (defined $n and defined $t) { $n =~ s/^\\s+|\\s+$//g; $n =~ s/^0+(?=.)//; ` +
    `my $ms = $t * 1000 + ((defined $s and $s =~ /^(\\d+)/) ? substr($1 . '000', 0, 3) : 500); ` +
    `for my $p (@P) { if ($p->[0] eq $n and (!defined $p->[1] or $ms >= $p->[1]) and (!defined $p->[2] or $ms < $p->[2])) { $m = $p; last } } }`;
  // The composite tag writes the zone it is given and deletes the one it is not: the photo's own is passed on unless corrected.
  const shifted = (base: string, subSec: string, offset: string) =>
    `$_ = undef; if ($m) { my $b = $self->GetValue('${base}','ValueConv'); my $bs = $self->GetValue('${subSec}','ValueConv'); my $bo = $self->GetValue('${offset}','ValueConv'); ` +
    `my $bt = defined $b ? Image::ExifTool::GetUnixTime($b) : undef; if (defined $bt) { ` +
    `my ($d, $f) = (0, 500); if (defined $bs and $bs =~ /^(\\d+)/) { $d = length($1); $f = substr($1 . '000', 0, 3) } ` +
    `my $ms = $bt * 1000 + $f + $m->[3]; my $sec = int($ms / 1000); my $frac = $ms - $sec * 1000; ` +
    `$_ = Image::ExifTool::ConvertUnixTime($sec) . ($d ? '.' . substr(sprintf('%03d', $frac) . '000000', 0, $d) : '') . (defined $m->[4] ? $m->[4] : (defined $bo ? $bo : '')) } }`;
  const out = shifted;
  lines.push('-if', `\${DateTimeOriginal#;${lookup} $_ = $m ? 1 : 0}`);
  lines.push(`-SubSecDateTimeOriginal<\${DateTimeOriginal#;${lookup} ${out('DateTimeOriginal', 'SubSecTimeOriginal', 'OffsetTimeOriginal')}}`);
  lines.push(`-SubSecCreateDate<\${DateTimeOriginal#;${lookup} ${out('CreateDate', 'SubSecTimeDigitized', 'OffsetTimeDigitized')}}`);
  return lines.join('\n') + '\n';
}

/**
 * `-geosync=GPSTIME@IMAGETIME` points of one camera's one period: the true time (UTC) at which the camera
 * showed that time. ExifTool interpolates between them (drift). The camera time carries no zone, so it is
 * read in the same zone as the photos' DateTimeOriginal, whatever the computer's. One period only: across a
 * write the camera's time jumps and interpolating between the two sides would be wrong.
 */
export function geosyncArgs(camera: CameraCorrections, period: CameraPeriod, ctx: FileContext): string {
  const lines = [
    comment(`Pi Camera TimeSync: -geosync points for camera ${camera.serial}, period ${period.index}; ${ctx.scope}; made ${ctx.generatedAt}`),
    '# true time (UTC) @ the camera\'s time then, to the second. Use with a GPS track, for the photos of this camera and period:',
    '#   exiftool -@ geosync.args -geotag TRACK.gpx DIR',
  ];
  lines.push(...notes(ctx));
  for (const p of period.points) {
    // Whole seconds on both sides: ExifTool 12.57 counts a fraction of a second in a -geosync time twice
    // (GetUnixTime reads it, then Geotag adds it again), so a fraction would be wrong in some versions.
    // Half a second at most, which is finer than a GPS track's one-second fixes.
    const ahead = p.offsetMs + p.wallOffsetMinutes * 60_000;
    const camera = Math.round((p.trueMs + ahead) / 1000) * 1000;
    const truth = Math.round((camera - ahead) / 1000) * 1000;
    lines.push(`-geosync=${localText(truth).slice(0, 19)}Z@${localText(camera).slice(0, 19)}`);
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
