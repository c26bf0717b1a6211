import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TestHooks, ValidationError } from '#core';
import type { InstanceTemplates } from '#images';
import type { InstanceNics, InstanceProxies } from '#network';
import type { DefaultPool, PoolCatalog } from '#storage';
import type { InstanceDefinition } from '../../domain/instance.js';
import { InstanceAlreadyExistsError } from '../../domain/instance.errors.js';
import type { InstanceSource } from '../../domain/source.js';
import type { Admission } from '../../infrastructure/admission.js';
import type { ImageResolver } from '../../infrastructure/image-resolver.js';
import { DEFAULT_PROFILE, FakeOperations, fakePublisher, fakeRepository, HOST, instanceOf, Journal, profileResolver } from '../../testing/fakes.js';
import { CreateInstanceCommand } from './create-instance.command.js';
import { CreateInstanceHandler } from './create-instance.handler.js';

const IMAGE: InstanceSource = { type: 'image', alias: 'debian-12' };
const NO_IMAGE: InstanceSource = { type: 'none' };

/** Every port of the handler, faked (profiles through the real resolver); `fail` makes one step throw; `taken` already exists. */
function setup(fail: Partial<Record<string, Error>> = {}, skipped: Array<{ path: string; reason: string }> = []) {
  const journal = new Journal();
  const step = (name: string) => {
    journal.note(name);
    if (fail[name]) throw fail[name];
  };
  const repository = fakeRepository(journal, instanceOf('taken'));
  const admission = { forInstance: async () => undefined } as unknown as Admission;
  const images = {
    resolve: async (source: { alias: string }) => (step(`images.resolve ${source.alias}`), { fingerprint: 'f00d', architecture: 'x86_64' }),
  } as unknown as ImageResolver;
  const pool = {
    get: async () => ({
      createInstanceVolume: async (name: string, image: string) => (step(`pool.createInstanceVolume ${name} ${image}`), `/pool/containers/${name}`),
      createEmptyInstanceVolume: async (name: string) => (step(`pool.createEmptyInstanceVolume ${name}`), `/pool/containers/${name}`),
      deleteInstanceVolume: async (name: string) => step(`pool.deleteInstanceVolume ${name}`),
    }),
  } as unknown as DefaultPool;
  const contexts: unknown[] = [];
  const templates = {
    render: async (volume: string, trigger: string, instance: unknown) => {
      step(`templates.render ${trigger} ${volume}`);
      contexts.push(instance);
      return { rendered: ['/etc/hostname'], skipped };
    },
  } as unknown as InstanceTemplates;
  const nics = { check: async () => step('nics.check') } as unknown as InstanceNics;
  const proxies = { check: () => step('proxies.check') } as unknown as InstanceProxies;
  const operations = new FakeOperations();
  const handler = new CreateInstanceHandler(repository, profileResolver(), operations.asRunner(), fakePublisher(journal), admission, images, pool, templates, nics, proxies, HOST, TestHooks.off(), { has: (pool: string) => pool === 'default' } as unknown as PoolCatalog);
  const create = (definition: InstanceDefinition, source = IMAGE, start = false) => handler.execute(new CreateInstanceCommand(definition, source, start));
  return { create, journal, repository, operations, contexts };
}

describe('CreateInstanceHandler', () => {
  it('records the instance before answering, then in the operation clones its volume from the image and renders the create templates', async () => {
    const { create, journal, repository, operations, contexts } = setup();
    const view = await create({ name: 'web', config: { 'user.role': 'db' } });
    assert.equal(view.description, 'Creating instance');
    assert.deepEqual(operations.started[0]!.resources, { instances: ['/1.0/instances/web'], containers: ['/1.0/containers/web'] });
    const recorded = repository.stored.get('web')!.state;
    assert.equal(recorded.imageFingerprint, 'f00d');
    assert.deepEqual(recorded.profiles, ['default']);
    assert.deepEqual(recorded.config, { 'user.role': 'db' });
    assert.equal(recorded.volatile['volatile.hold'], 'it is being created', 'held until its volume is made');

    assert.equal(await operations.outcome(), undefined);
    assert.deepEqual(journal.steps, ['images.resolve debian-12', 'nics.check', 'proxies.check', 'repository.insert', 'pool.createInstanceVolume web f00d', 'templates.render create /pool/containers/web', 'repository.saveState Stopped']);
    assert.equal(repository.stored.get('web')!.state.volatile['volatile.hold'], undefined, 'released once the volume is made');
    assert.deepEqual(contexts, [{ name: 'web', architecture: 'x86_64', ephemeral: false, config: { 'user.role': 'db' }, devices: DEFAULT_PROFILE.devices }]);
    assert.deepEqual(journal.events, ['InstanceCreatedEvent']);
  });

  it('tells the templates it skipped in the operation\'s result', async () => {
    const skipped = [{ path: '/etc/hosts', reason: 'unknown filter "shout"' }];
    const { create, operations } = setup({}, skipped);
    await create({ name: 'web' });
    assert.deepEqual(await operations.outcome(), { templates_skipped: skipped });
  });

  it('makes an empty volume, without templates, for an instance with no image', async () => {
    const { create, journal, repository, operations } = setup();
    await create({ name: 'web' }, NO_IMAGE);
    await operations.outcome();
    assert.deepEqual(journal.steps, ['nics.check', 'proxies.check', 'repository.insert', 'pool.createEmptyInstanceVolume web', 'repository.saveState Stopped']);
    assert.equal(repository.stored.get('web')!.state.imageFingerprint, null);
  });

  it('refuses a taken name or an invalid request at once: nothing recorded, no operation, no event', async () => {
    const refusals: Array<[string, InstanceDefinition, boolean, (err: unknown) => boolean]> = [
      ['a taken name', { name: 'taken' }, false, (err) => err instanceof InstanceAlreadyExistsError],
      ['an invalid name', { name: 'no spaces' }, false, (err) => err instanceof ValidationError && err.message === 'Invalid name: must not contain spaces'],
      ['an unknown profile', { name: 'web', profiles: ['default', 'nope'] }, false, (err) => err instanceof ValidationError && err.field === 'profiles[1]'],
      ['an unknown config key', { name: 'web', config: { 'boot.autostrat': 'true' } }, false, (err) => err instanceof ValidationError && err.field === 'config["boot.autostrat"]'],
      ['a start', { name: 'web' }, true, (err) => err instanceof ValidationError && err.field === 'start'],
      [
        'a root disk on an unknown pool (what `lxc launch -s nope` sends)',
        { name: 'web', devices: { root: { type: 'disk', path: '/', pool: 'nope' } } },
        false,
        (err) => err instanceof ValidationError && err.field === 'devices["root"]["pool"]' && err.message === 'Invalid devices["root"]["pool"]: Storage pool not found: "nope"',
      ],
    ];
    for (const [what, definition, start, refusal] of refusals) {
      const { create, journal, repository, operations } = setup();
      await assert.rejects(create(definition, IMAGE, start), refusal, what);
      assert.deepEqual([...repository.stored.keys()], ['taken'], what);
      assert.ok(!journal.steps.includes('repository.insert'), what);
      assert.equal(operations.started.length, 0, what);
      assert.deepEqual(journal.events, [], what);
    }
  });

  it('refuses what the nics or the proxies refuse before anything is recorded', async () => {
    for (const [failing, steps] of [
      ['nics.check', ['images.resolve debian-12', 'nics.check']],
      ['proxies.check', ['images.resolve debian-12', 'nics.check', 'proxies.check']],
    ] as const) {
      const refusal = new ValidationError('devices["eth0"]', `refused by ${failing}`);
      const { create, journal, repository, operations } = setup({ [failing]: refusal });
      await assert.rejects(create({ name: 'web' }), (err) => err === refusal);
      assert.deepEqual(journal.steps, steps);
      assert.ok(!repository.stored.has('web'));
      assert.equal(operations.started.length, 0);
    }
  });

  it('removes the record when the volume cannot be made, and the volume too when the templates fail', async () => {
    const noSpace = new Error('no space left on the pool');
    const volume = setup({ 'pool.createInstanceVolume web f00d': noSpace });
    await volume.create({ name: 'web' });
    await assert.rejects(volume.operations.outcome(), (err) => err === noSpace);
    assert.deepEqual(volume.journal.steps.slice(-2), ['pool.createInstanceVolume web f00d', 'repository.removeRecord']);
    assert.ok(!volume.repository.stored.has('web'));
    assert.deepEqual(volume.journal.events, []);

    const badTemplate = new Error('template escapes the root');
    const templates = setup({ 'templates.render create /pool/containers/web': badTemplate });
    await templates.create({ name: 'web' });
    await assert.rejects(templates.operations.outcome(), (err) => err === badTemplate);
    assert.deepEqual(templates.journal.steps.slice(-3), ['templates.render create /pool/containers/web', 'pool.deleteInstanceVolume web', 'repository.removeRecord']);
    assert.ok(!templates.repository.stored.has('web'));
    assert.deepEqual(templates.journal.events, []);
  });
});
