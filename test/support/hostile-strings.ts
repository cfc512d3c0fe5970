/**
 * The hostile camera strings of issue 15 (serial numbers and product names a rogue or broken camera sent),
 * and their cousins: line ends, argument starts, quotes, paths, NUL, Unicode line separators, formulas.
 */
export const HOSTILE = [
  "EXE1\n-if\nsystem('touch /tmp/PWNED') || 1\n#",
  '-execute -@ /etc/passwd',
  'a"b\'c',
  '../../etc/passwd',
  'nul\0byte',
  'cr\rlf\r\n',
  'ls\u2028ps\u2029nel\u0085',
  '#[CSTR]-if\\n1',
  '=HYPERLINK("http://evil.example")',
];
