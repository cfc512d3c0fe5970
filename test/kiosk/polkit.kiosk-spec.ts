/**
 * kiosk/polkit/50-pi-camera-timesync.rules in real polkit engines:
 *   - polkitd itself (Debian's 122, whose JavaScript engine is duktape, as on Raspberry Pi OS Bookworm), on a
 *     private system bus inside the root sandbox, asked with `pkcheck` about processes of real users;
 *   - the duktape command line interpreter `duk` alone (ES5 only: a modern construct fails to parse).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeIf, KIOSK_DIR, missing } from './host-tools';
import { RootSandbox, sandboxMissing } from './sandbox/root-sandbox';

const RULE = join(KIOSK_DIR, 'polkit', '50-pi-camera-timesync.rules');
const GRANTED = ['org.freedesktop.timedate1.set-time', 'org.freedesktop.timedate1.set-timezone', 'org.freedesktop.timedate1.set-ntp'];
const REFUSED = ['org.freedesktop.timedate1.set-local-rtc', 'org.freedesktop.login1.reboot', 'org.freedesktop.systemd1.manage-units', 'org.freedesktop.hostname1.set-hostname'];

const polkitMissing = [...sandboxMissing(), ...missing(['dbus-daemon', 'dbus-send', 'pkcheck'], false), ...(existsSync('/usr/lib/polkit-1/polkitd') ? [] : ['/usr/lib/polkit-1/polkitd'])];

describeIf(polkitMissing, 'polkit rule in polkitd', 'run as root; Debian: apt-get install polkitd dbus')('the polkit rule in polkitd 122 on a private system bus (pkcheck)', () => {
  jest.setTimeout(60_000);
  let sandbox: RootSandbox;
  const subjects: Record<string, string> = {};

  /** pkcheck's verdict for a process of `user`: 0 authorized; 1 not authorized; 2 needs authentication (refused here). */
  const check = (action: string, user: string) => sandbox.exec(['pkcheck', '--action-id', action, '--process', subjects[user]]).status;

  beforeAll(async () => {
    sandbox = await RootSandbox.start();
    for (const user of ['timesync', 'timesync-kiosk', 'pi']) sandbox.ok(['useradd', user === 'pi' ? '--create-home' : '--system', user]);
    // A member of a group called "timesync" is not the user timesync.
    sandbox.ok(['usermod', '-a', '-G', 'timesync', 'pi']);
    sandbox.copyIn(RULE, '/etc/polkit-1/rules.d/50-pi-camera-timesync.rules');
    sandbox.ok(['mkdir', '-p', '/run/dbus']);
    sandbox.ok(['dbus-daemon', '--system', '--nopidfile', '--fork']);
    // polkitd drops to its own user and owns org.freedesktop.PolicyKit1 on the sandbox's bus.
    sandbox.ok(['sh', '-c', '/usr/lib/polkit-1/polkitd --no-debug >/tmp/polkitd.log 2>&1 &']);
    sandbox.ok([
      'sh',
      '-c',
      'for i in $(seq 100); do dbus-send --system --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner string:org.freedesktop.PolicyKit1 2>/dev/null | grep -q "boolean true" && exit 0; sleep 0.1; done; cat /tmp/polkitd.log; exit 1',
    ]);
    // One long-lived process per user: the subjects pkcheck asks about.
    for (const user of ['timesync', 'timesync-kiosk', 'pi']) {
      subjects[user] = sandbox.ok(['sh', '-c', `setpriv --reuid=${user} --regid=${user} --init-groups sleep 300 >/dev/null 2>&1 & echo $!`]).trim();
    }
  });

  afterAll(async () => {
    await sandbox?.stop();
  });

  it.each(GRANTED)('lets timesync do %s', (action) => {
    expect(check(action, 'timesync')).toBe(0);
  });

  it.each(REFUSED)('refuses timesync %s', (action) => {
    expect(check(action, 'timesync')).not.toBe(0);
  });

  it.each(['timesync-kiosk', 'pi'])('refuses %s every clock action, also pi who is in a group called timesync', (user) => {
    for (const action of GRANTED) expect(check(action, user)).not.toBe(0);
  });

  it('is what allows it: without the rule file (polkitd reloads rules.d), timesync is refused too', async () => {
    sandbox.ok(['rm', '/etc/polkit-1/rules.d/50-pi-camera-timesync.rules']);
    const end = Date.now() + 10_000;
    while (check(GRANTED[0], 'timesync') === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
    expect(check(GRANTED[0], 'timesync')).not.toBe(0);
  });
});

describeIf(missing(['duk'], false), 'polkit rule in duktape', 'Debian: apt-get install duktape')('the polkit rule in duktape (duk)', () => {
  /** Runs the rule in duk with a polkit object as polkitd passes it; prints one line per question. */
  function decide(questions: Array<[action: string, user: string, groups: string[]]>): string[] {
    const script = `
var rules = [];
var polkit = { Result: { YES: 'yes', NO: 'no', AUTH_ADMIN: 'auth_admin' }, addRule: function (f) { rules.push(f); },
  addAdminRule: function () { throw new Error('no admin rules'); }, log: function () {}, spawn: function () { throw new Error('no programs'); } };
${readFileSync(RULE, 'utf8')}
var questions = ${JSON.stringify(questions)};
for (var i = 0; i < questions.length; i++) {
  var q = questions[i];
  var subject = { user: q[1], groups: q[2], local: false, active: false, isInGroup: function (g) { return this.groups.indexOf(g) >= 0; } };
  var answer = rules[0]({ id: q[0], lookup: function () { return undefined; } }, subject);
  print(q[1] + ' ' + q[0] + ' ' + (answer === undefined ? 'no-answer' : answer));
}`;
    const r = spawnSync('duk', ['-e', script], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`duk: ${r.stdout}${r.stderr}`);
    return r.stdout.trim().split('\n');
  }

  it('answers yes for the three clock actions of timesync, and nothing for anything or anyone else', () => {
    expect(decide([...GRANTED.map((a): [string, string, string[]] => [a, 'timesync', ['timesync']]), [REFUSED[0], 'timesync', ['timesync']], [GRANTED[0], 'pi', ['pi', 'timesync']]])).toEqual([
      ...GRANTED.map((a) => `timesync ${a} yes`),
      `timesync ${REFUSED[0]} no-answer`,
      `pi ${GRANTED[0]} no-answer`,
    ]);
  });

  it('would catch a rule that is not ES5 (duk refuses an arrow function)', () => {
    const r = spawnSync('duk', ['-e', 'var f = (a) => a;'], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
  });
});
