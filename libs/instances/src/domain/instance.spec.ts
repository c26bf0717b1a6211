import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '#core';
import type { HostCapacity } from '#quotas';
import { InstanceCreatedEvent, InstanceReadyEvent, InstanceStartedEvent, InstanceStartingEvent, InstanceStoppedEvent } from '../events/instance-events.js';
import { Instance, type ResolvedProfiles } from './instance.js';
import { InstanceStateError } from './instance.errors.js';

const host: HostCapacity = { cpus: [0, 1], memoryBytes: 8n * 1024n ** 3n };
const profiles: Record<string, ResolvedProfiles[number]> = {
  default: { name: 'default', config: { 'limits.memory': '1GiB' }, devices: { root: { type: 'disk', path: '/', pool: 'default' } } },
  web: { name: 'web', config: { 'limits.memory': '2GiB', 'user.role': 'web' }, devices: {} },
};
const resolve = (names: string[]) => names.map((n) => {
  const p = profiles[n];
  if (!p) throw new ValidationError('profiles', `profile "${n}" does not exist`);
  return p;
});
const make = (extra: object = {}) => Instance.create({ name: 'c1', architecture: 'x86_64', imageFingerprint: null, ...extra }, resolve, host);

describe('Instance', () => {
  it('expands profiles in order, then its own keys', () => {
    const i = make({ profiles: ['default', 'web'], config: { 'user.role': 'db' } });
    assert.deepEqual(i.expanded.config, { 'limits.memory': '2GiB', 'user.role': 'db' });
    assert.deepEqual(i.getUncommittedEvents(), [new InstanceCreatedEvent('c1')]);
  });

  it('walks the state machine: start, running (systemd\'s READY=1 announced once, the status staying Running), stop', () => {
    const i = make();
    i.beginStart();
    assert.equal(i.state.status, 'Starting');
    assert.throws(() => i.beginStart(), InstanceStateError);
    i.markRunning();
    assert.equal(i.recordBootReady(1_700_000_000_000, 850), true);
    assert.equal(i.recordBootReady(1_700_000_000_000, 850), false, 'the same boot is announced once');
    assert.equal(i.bootReadyRecorded(1_700_000_000_000), true);
    assert.equal(i.state.status, 'Running');
    assert.equal(i.toView().status_code, 103);
    assert.throws(() => i.rename('c2'), InstanceStateError);
    assert.throws(() => i.delete(), InstanceStateError);
    i.beginStop();
    i.markStopped();
    assert.equal(i.state.status, 'Stopped');
    assert.throws(() => i.beginStop(), /already stopped/);
    assert.equal(i.recordBootReady(1_700_000_000_000, 850), false, 'a stopped instance announces nothing');
    assert.deepEqual(i.getUncommittedEvents().slice(1), [new InstanceStartingEvent('c1'), new InstanceStartedEvent('c1'), new InstanceReadyEvent('c1', 850), new InstanceStoppedEvent('c1')]);
  });

  it('announces READY=1 again for a new boot (a reboot from inside), and records how init ended at the stop', () => {
    const i = make();
    i.beginStart();
    i.markRunning();
    i.recordBootReady(1000, 800);
    i.markRebooted();
    assert.equal(i.bootReadyRecorded(1000), false);
    assert.equal(i.recordBootReady(5000, 700), true);
    i.beginStop();
    i.markStopped('poweroff');
    const events = i.getUncommittedEvents();
    assert.deepEqual(events.slice(-3), [new InstanceReadyEvent('c1', 800), new InstanceReadyEvent('c1', 700), new InstanceStoppedEvent('c1', 'poweroff')]);
  });

  it('is Ready only while its guest declared so (volatile.last_state.ready), and keeps it across a freeze', () => {
    const i = make();
    i.beginStart();
    i.markRunning();
    i.setVolatile('volatile.last_state.ready', 'true');
    i.settle('Running');
    assert.equal(i.state.status, 'Ready');
    assert.equal(i.toView().status_code, 113);
    assert.equal(i.isRunning, true);
    assert.throws(() => i.beginStart(), /already running/);
    i.freeze();
    assert.equal(i.state.status, 'Frozen');
    i.unfreeze();
    assert.equal(i.state.status, 'Ready');
    i.markRebooted();
    assert.equal(i.state.status, 'Running', 'a reboot from inside ends what the guest declared');
    assert.equal(i.state.volatile['volatile.last_state.ready'], undefined);
    i.setVolatile('volatile.last_state.ready', 'true');
    i.beginStop();
    i.markStopped();
    assert.equal(i.state.volatile['volatile.last_state.ready'], undefined, 'cleared at stop');
  });

  it('freezes only a running instance', () => {
    const i = make();
    assert.throws(() => i.freeze(), /not running/);
    i.beginStart();
    i.markRunning();
    i.freeze();
    assert.equal(i.state.status, 'Frozen');
    i.unfreeze();
    assert.equal(i.state.status, 'Running');
  });

  it('takes back its own volatile keys unchanged (as lxc config set sends them) and refuses changed ones', () => {
    const i = make({ profiles: ['default'] });
    i.setVolatile('volatile.idmap.base', '1000000');
    i.update('replace', { config: { 'volatile.idmap.base': '1000000', 'user.x': '1' }, devices: {}, profiles: ['default'] }, resolve, host);
    assert.deepEqual(i.state.config, { 'user.x': '1' });
    assert.throws(() => i.update('merge', { config: { 'volatile.idmap.base': '5' } }, resolve, host), /volatile keys are owned by the server/);
  });

  it('shows volatile.last_state.power RUNNING while its container runs, and takes it back whatever its value', () => {
    const i = make({ profiles: ['default'] });
    assert.equal(i.toView().config['volatile.last_state.power'], undefined);
    i.beginStart();
    assert.equal(i.toView().config['volatile.last_state.power'], undefined);
    i.markRunning();
    assert.equal(i.toView().config['volatile.last_state.power'], 'RUNNING');
    assert.equal(i.toView().expanded_config['volatile.last_state.power'], 'RUNNING');
    const shown = i.toView().config;
    i.beginStop();
    i.markStopped();
    assert.equal(i.toView().config['volatile.last_state.power'], undefined);
    // A client that read it while running PUTs it back after the stop (Ansible's lxd_container does).
    i.update('replace', { config: { ...shown, 'user.x': '1' }, devices: {}, profiles: ['default'] }, resolve, host);
    assert.deepEqual(i.state.config, { 'user.x': '1' });
    assert.equal(i.state.volatile['volatile.last_state.power'], undefined);
  });

  it('keeps one volatile.uuid for life, renames included', () => {
    const i = make();
    assert.equal(i.state.volatile['volatile.uuid'], undefined);
    const uuid = i.ensureUuid();
    assert.match(uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(i.ensureUuid(), uuid);
    i.rename('c9');
    assert.equal(i.ensureUuid(), uuid);
    assert.notEqual(make().ensureUuid(), uuid);
  });

  it('drops its nics\' host_name keys (and readiness) when it stops, keeping the rest', () => {
    const i = make();
    i.ensureUuid();
    i.beginStart();
    i.setVolatile('volatile.eth0.hwaddr', '00:16:3e:00:00:01');
    i.setVolatile('volatile.eth0.host_name', 'bth0123456789ab');
    i.setVolatile('volatile.lan.2.host_name', 'bth0123456789ac');
    i.markRunning();
    i.recordBootReady(1000, null);
    i.setVolatile('volatile.last_state.ready', 'true');
    // A client echoing them back unchanged (PUT of what it GOT) is fine; a changed one is refused.
    i.update('merge', { config: { 'volatile.eth0.host_name': 'bth0123456789ab', 'user.x': '1' } }, resolve, host);
    assert.deepEqual(i.state.config, { 'user.x': '1' });
    assert.throws(() => i.update('merge', { config: { 'volatile.eth0.host_name': 'bthother' } }, resolve, host), /volatile keys are owned by the server/);
    i.unsetVolatile('volatile.lan.2.host_name');
    assert.equal(i.toView().config['volatile.lan.2.host_name'], undefined);
    assert.equal(i.toView().config['volatile.eth0.host_name'], 'bth0123456789ab');
    i.beginStop();
    i.markStopped();
    assert.deepEqual(Object.keys(i.state.volatile).sort(), ['volatile.eth0.hwaddr', 'volatile.uuid']);
  });

  it('leaves itself unchanged when an update is invalid', () => {
    const i = make({ profiles: ['default'] });
    const before = i.state;
    assert.throws(() => i.update('merge', { devices: { r2: { type: 'disk', path: '/', pool: 'x' } } }, resolve, host), /more than one root disk/);
    assert.equal(i.state, before);
    assert.throws(() => i.update('merge', { config: { 'limits.cpu': '9' } }, resolve, host), /the host has 2/);
    assert.equal(i.state, before);
  });
});
