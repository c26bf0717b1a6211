import { TestHooks } from '#core';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { InstanceTemplates } from '#images';
import type { InstanceNics, InstanceProxies } from '#network';
import { AdmissionRefusedError, CgroupWriteError, type CgroupLimits } from '#quotas';
import { CgroupLimitError, type ContainerState, type Runtime } from '#runtime';
import type { DefaultPool } from '#storage';
import { InstanceStateError } from '../../domain/instance.errors.js';
import type { Admission } from '../../infrastructure/admission.js';
import type { IdMaps } from '../../infrastructure/id-maps.js';
import { PluggedInits } from '../../infrastructure/plugged-inits.js';
import { FakeOperations, fakePublisher, fakeRepository, HOST, instanceOf, Journal, silentLogger } from '../../testing/fakes.js';
import { ChangeInstanceStateCommand } from './change-instance-state.command.js';
import { HostTeardown } from '../../infrastructure/host-teardown.js';
import { ChangeInstanceStateHandler } from './change-instance-state.handler.js';

const running = (name: string, status: ContainerState['state'] = 'Running', pid = 4242) =>
  ({ name, state: status, pid, cgroup: `/berth/${name}`, cgroupLayout: 'hybrid', init: 'systemd', readyMs: null, lastExit: status === 'Stopped' ? 'poweroff' : '' }) as unknown as ContainerState;

/** Every port of the handler, faked; `fail` makes one step throw. */
function setup(status: 'Stopped' | 'Running' | 'Frozen' = 'Stopped', fail: Partial<Record<string, Error>> = {}) {
  const journal = new Journal();
  const step = (name: string) => {
    journal.note(name);
    if (fail[name]) throw fail[name];
  };
  let container: ContainerState = running('c1', status === 'Stopped' ? 'Stopped' : 'Running');
  const runtime = {
    async state() {
      return container;
    },
    async start(spec: { limits: unknown[]; idmap: unknown; haltSignal?: number; waitReady?: boolean }) {
      step('runtime.start');
      assert.deepEqual(spec.limits, [{ controller: 'memory', file: 'memory.limit_in_bytes', value: '1073741824' }]);
      assert.equal(spec.haltSignal, 10, "raw.lxc's lxc.signal.halt");
      assert.equal(spec.waitReady, false, 'the start does not wait for READY=1');
      container = running('c1');
      return container;
    },
    async stop(_name: string, options: { force?: boolean }) {
      journal.note(`runtime.stop${options.force ? ' force' : ''}`);
      container = running('c1', 'Stopped');
      return container;
    },
  } as unknown as Runtime;
  const pool = { get: async () => ({ instanceVolumePath: (n: string) => `/pool/containers/${n}`, blockDevice: async () => ({ kind: 'none', reason: 'tmpfs' }) }) } as unknown as DefaultPool;
  const templates = { render: async (_v: string, trigger: string) => step(`templates.render ${trigger}`) } as unknown as InstanceTemplates;
  const limits = {
    plan: async () => (step('limits.plan'), { version: 1, writes: [{ controller: 'memory', file: 'memory.limit_in_bytes', value: '1073741824' }], notApplicable: [] }),
    apply: async () => (step('limits.apply'), []),
    freeze: async (_n: string, _c: ContainerState, frozen: boolean) => step(`limits.freeze ${frozen}`),
  } as unknown as CgroupLimits;
  const nics = {
    assignMacs: () => ({ 'volatile.eth0.hwaddr': '00:16:3e:00:00:01' }),
    plug: async () => (step('nics.plug'), { 'volatile.eth0.hwaddr': '00:16:3e:00:00:01', 'volatile.eth0.host_name': 'vethabc' }),
    unplug: async () => (step('nics.unplug'), { 'volatile.eth0.host_name': null }),
  } as unknown as InstanceNics;
  const proxies = { sync: async () => step('proxies.sync'), stop: async () => step('proxies.stop') } as unknown as InstanceProxies;
  const idmaps = { reserve: async () => (step('idmaps.reserve'), { hostId: 1_065_536, count: 65_536 }) } as unknown as IdMaps;
  const inits = new PluggedInits();
  const admission = {
    forStart: async (_instance: unknown, record: () => Promise<void>) => {
      step('admission.forStart');
      await record();
    },
  } as unknown as Admission;
  const repository = fakeRepository(journal, instanceOf('c1', { status, config: { 'limits.memory': '1GiB', 'raw.lxc': 'lxc.signal.halt=SIGUSR1' } }));
  const operations = new FakeOperations();
  const handler = new ChangeInstanceStateHandler(repository, operations.asRunner(), fakePublisher(journal), runtime, pool, templates, limits, nics, proxies, idmaps, inits, HOST, silentLogger, TestHooks.off(), admission, new HostTeardown(inits, proxies, nics));
  return { handler, journal, repository, operations, inits };
}

describe('ChangeInstanceStateHandler', () => {
  it('refuses a start of a running instance at once, without an operation', async () => {
    const { handler, operations, journal } = setup('Running');
    await assert.rejects(handler.execute(new ChangeInstanceStateCommand('c1', 'start')), InstanceStateError);
    assert.equal(operations.started.length, 0);
    assert.deepEqual(journal.steps, []);
  });

  it('starts: the ports in order, their results handed to the aggregate, saved Running once init runs (no wait for READY=1)', async () => {
    const { handler, operations, journal, repository, inits } = setup();
    await handler.execute(new ChangeInstanceStateCommand('c1', 'start'));
    await operations.outcome();
    assert.deepEqual(journal.steps, [
      'admission.forStart',
      'repository.saveState Starting',
      'templates.render start',
      'limits.plan',
      'idmaps.reserve',
      'runtime.start',
      'nics.plug',
      'proxies.sync',
      'limits.apply',
      'repository.saveState Running',
    ]);
    const saved = repository.stored.get('c1')!.state;
    assert.equal(saved.volatile['volatile.idmap.base'], '1065536');
    assert.equal(saved.volatile['volatile.eth0.host_name'], 'vethabc');
    assert.equal(saved.volatile['volatile.eth0.hwaddr'], '00:16:3e:00:00:01');
    assert.match(saved.volatile['volatile.uuid'] ?? '', /^[0-9a-f-]{36}$/);
    assert.deepEqual(journal.events, ['InstanceStartingEvent', 'InstanceStartedEvent']);
    assert.equal(inits.of('c1'), 4242);
  });

  it('a failed step removes the container, its proxies and nics; the instance is Stopped and nothing is announced', async () => {
    const { handler, operations, journal, repository, inits } = setup('Stopped', { 'proxies.sync': new Error('address in use') });
    await handler.execute(new ChangeInstanceStateCommand('c1', 'start'));
    await assert.rejects(operations.outcome(), /address in use/);
    assert.deepEqual(journal.steps.slice(-5), ['proxies.sync', 'runtime.stop force', 'proxies.stop', 'nics.unplug', 'repository.saveState Stopped']);
    const saved = repository.stored.get('c1')!.state;
    assert.equal(saved.status, 'Stopped');
    assert.equal(saved.volatile['volatile.eth0.host_name'], undefined);
    assert.equal(saved.volatile['volatile.eth0.hwaddr'], '00:16:3e:00:00:01', 'the MAC given is kept for the next start');
    assert.deepEqual(journal.events, []);
    assert.equal(inits.of('c1'), undefined);
  });

  it('a start the admission refuses touches nothing: no step runs, nothing is saved or announced', async () => {
    const { handler, operations, journal, repository } = setup('Stopped', { 'admission.forStart': new AdmissionRefusedError('Not enough process ids') });
    await handler.execute(new ChangeInstanceStateCommand('c1', 'start'));
    await assert.rejects(operations.outcome(), AdmissionRefusedError);
    assert.deepEqual(journal.steps, ['admission.forStart']);
    assert.equal(repository.stored.get('c1')!.state.status, 'Stopped');
    assert.deepEqual(journal.events, []);
  });

  it('a limit the kernel refuses at start is a quota error naming the file', async () => {
    const { handler, operations } = setup('Stopped', { 'runtime.start': new CgroupLimitError('c1', 'memory', 'memory.limit_in_bytes', '1', 22, 'EINVAL') });
    await handler.execute(new ChangeInstanceStateCommand('c1', 'start'));
    await assert.rejects(operations.outcome(), (e: unknown) => e instanceof CgroupWriteError && /memory\.limit_in_bytes/.test(e.message));
  });

  it('stops a frozen instance: thawed first, then halted, its host side removed', async () => {
    const { handler, operations, journal, repository } = setup('Frozen');
    await handler.execute(new ChangeInstanceStateCommand('c1', 'stop', 5));
    await operations.outcome();
    assert.deepEqual(journal.steps, ['repository.saveState Stopping', 'limits.freeze false', 'runtime.stop', 'proxies.stop', 'nics.unplug', 'repository.saveState Stopped']);
    assert.equal(repository.stored.get('c1')!.state.status, 'Stopped');
    assert.deepEqual(journal.events, ['InstanceStoppedEvent']);
    assert.equal((journal.published.at(-1) as { exit?: string }).exit, 'poweroff', 'how init ended goes with the event');
  });

  it('refuses to freeze a stopped instance, and to thaw one that is not frozen', async () => {
    const stopped = setup('Stopped');
    await assert.rejects(stopped.handler.execute(new ChangeInstanceStateCommand('c1', 'freeze')), /not running/);
    const ready = setup('Running');
    await assert.rejects(ready.handler.execute(new ChangeInstanceStateCommand('c1', 'unfreeze')), /not frozen/);
  });

  it('freezes a running instance through its cgroup and announces it', async () => {
    const { handler, operations, journal, repository } = setup('Running');
    await handler.execute(new ChangeInstanceStateCommand('c1', 'freeze'));
    await operations.outcome();
    assert.deepEqual(journal.steps, ['limits.freeze true', 'repository.saveState Frozen']);
    assert.equal(repository.stored.get('c1')!.state.status, 'Frozen');
    assert.deepEqual(journal.events, ['InstancePausedEvent']);
  });
});
