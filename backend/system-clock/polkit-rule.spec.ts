import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Script, createContext } from 'node:vm';

/**
 * kiosk/polkit/50-pi-camera-timesync.rules, evaluated as polkitd does: a script that calls
 * polkit.addRule(fn); polkitd then asks each rule fn(action, subject) and takes the first answer.
 */
const RULE_FILE = join(__dirname, '..', '..', 'kiosk', 'polkit', '50-pi-camera-timesync.rules');
const source = readFileSync(RULE_FILE, 'utf8');

const Result = { YES: 'yes', NO: 'no', AUTH_SELF: 'auth_self', AUTH_SELF_KEEP: 'auth_self_keep', AUTH_ADMIN: 'auth_admin', AUTH_ADMIN_KEEP: 'auth_admin_keep', NOT_HANDLED: null };
type Rule = (action: unknown, subject: unknown) => unknown;

function loadRules(): Rule[] {
  const rules: Rule[] = [];
  const polkit = {
    Result,
    addRule: (rule: Rule) => rules.push(rule),
    addAdminRule: () => {
      throw new Error('the rule file must not change who the administrators are');
    },
    log: () => undefined,
    spawn: () => {
      throw new Error('the rule file must not run programs');
    },
  };
  new Script(source, { filename: RULE_FILE }).runInContext(createContext({ polkit }));
  return rules;
}

/** What polkitd passes: an action with an id, a subject with a user (no session for a system service). */
function decide(actionId: string, user: string, extra: Record<string, unknown> = {}): unknown {
  const action = { id: actionId, lookup: () => undefined };
  const subject = {
    user,
    pid: 4242,
    groups: [user],
    seat: '',
    session: '',
    local: false,
    active: false,
    system_unit: 'pi-camera-timesync.service',
    isInGroup: (group: string) => group === user,
    isInNetGroup: () => false,
    ...extra,
  };
  for (const rule of loadRules()) {
    const answer = rule(action, subject);
    if (answer !== undefined && answer !== null) return answer;
  }
  return undefined;
}

const GRANTED = ['org.freedesktop.timedate1.set-time', 'org.freedesktop.timedate1.set-timezone', 'org.freedesktop.timedate1.set-ntp'];

describe('polkit rule 50-pi-camera-timesync.rules', () => {
  it('adds exactly one rule', () => {
    expect(loadRules()).toHaveLength(1);
  });

  it.each(GRANTED)('lets "timesync" do %s with no session (a system service)', (actionId) => {
    expect(decide(actionId, 'timesync')).toBe(Result.YES);
  });

  it.each([
    'org.freedesktop.timedate1.set-local-rtc',
    'org.freedesktop.timedate1.set-time.extra',
    'org.freedesktop.timedate1',
    'org.freedesktop.login1.reboot',
    'org.freedesktop.login1.power-off',
    'org.freedesktop.systemd1.manage-units',
    'org.freedesktop.hostname1.set-hostname',
    'org.freedesktop.NetworkManager.settings.modify.system',
    'org.freedesktop.policykit.exec',
    '',
  ])('gives "timesync" no answer for %p', (actionId) => {
    expect(decide(actionId, 'timesync')).toBeUndefined();
  });

  it.each(['timesync-kiosk', 'pi', 'root', 'nobody', 'Timesync', 'timesync ', 'timesync2', ''])('gives user %p no answer, even for set-time', (user) => {
    for (const actionId of GRANTED) expect(decide(actionId, user, { local: true, active: true })).toBeUndefined();
  });

  it('does not trust membership of a group called timesync', () => {
    expect(decide('org.freedesktop.timedate1.set-time', 'pi', { groups: ['pi', 'timesync'], isInGroup: () => true })).toBeUndefined();
  });

  it('is ES5, as polkitd\'s JavaScript engine expects', () => {
    const code = source.replace(/\/\/.*$/gm, '');
    expect(code).not.toMatch(/=>|\blet\b|\bconst\b|`|\.\.\.|\bclass\b|\.includes\(/);
  });
});
