import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../errors/domain-error.js';
import { validateConfig } from './config-keys.js';
import { haltSignalOf, parseRawLxc, parseSignal } from './raw-lxc.js';

describe('raw.lxc', () => {
  it('reads signals as LXC does: names with or without SIG, numbers, SIGRTMIN+n and SIGRTMAX-n', () => {
    assert.equal(parseSignal('SIGUSR1'), 10);
    assert.equal(parseSignal('pwr'), 30);
    assert.equal(parseSignal('15'), 15);
    assert.equal(parseSignal('SIGRTMIN+3'), 37);
    assert.equal(parseSignal('SIGRTMAX-1'), 63);
    assert.equal(parseSignal('SIGNOPE'), undefined);
    assert.equal(parseSignal('65'), undefined);
  });
  it('takes lxc.signal.halt, with blank lines and comments', () => {
    assert.deepEqual(parseRawLxc('lxc.signal.halt=SIGUSR1'), { haltSignal: 10 });
    assert.deepEqual(parseRawLxc('# busybox\n\nlxc.signal.halt = SIGRTMIN+4\n'), { haltSignal: 38 });
    assert.equal(haltSignalOf({ 'raw.lxc': 'lxc.signal.halt=SIGPWR' }), 30);
    assert.equal(haltSignalOf({}), undefined);
  });
  it('refuses any other LXC key, naming raw.lxc and the key', () => {
    assert.throws(
      () => validateConfig({ 'raw.lxc': 'lxc.signal.halt=SIGUSR1\nlxc.apparmor.profile=unconfined' }),
      (e: unknown) => e instanceof ValidationError && e.message === 'Invalid config["raw.lxc"]: Berth takes only lxc.signal.halt in raw.lxc, not "lxc.apparmor.profile"',
    );
  });
  it('refuses a signal that is none, SIGKILL and SIGSTOP, and a second line', () => {
    assert.match(parseRawLxc('lxc.signal.halt=SIGFOO') as string, /must be a signal such as SIGPWR/);
    assert.match(parseRawLxc('lxc.signal.halt=SIGKILL') as string, /cannot be SIGKILL or SIGSTOP/);
    assert.match(parseRawLxc('lxc.signal.halt=9') as string, /cannot be SIGKILL or SIGSTOP/);
    assert.equal(parseRawLxc('lxc.signal.halt=1\nlxc.signal.halt=2'), 'sets lxc.signal.halt twice');
  });
  it('is the one key whose value may span lines', () => {
    assert.deepEqual(validateConfig({ 'raw.lxc': '# halt\nlxc.signal.halt=SIGUSR1' }), { 'raw.lxc': '# halt\nlxc.signal.halt=SIGUSR1' });
  });
});
