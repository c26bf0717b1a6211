import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '#core';
import type { HostCapacity } from '#quotas';
import { Instance } from '../../../../libs/instances/src/domain/instance.js';
import { Profile } from '../../../../libs/profiles/src/domain/profile.js';
import { validateServerConfig } from '../../../../libs/server/src/domain/server-config.js';
import { InstanceExecPostDto } from '../api/dto/instance-exec.dto.js';
import { InstanceStatePutDto } from '../api/dto/instance-state.dto.js';
import { InstancePostDto, InstancePutDto, InstancesPostDto } from '../api/dto/instance.dto.js';
import { ProfilePostDto, ProfilePutDto, ProfilesPostDto } from '../api/dto/profile.dto.js';
import { ServerPutDto } from '../api/dto/server.dto.js';
import { parseBody } from './dto.js';

const refused = (fn: () => unknown, field: string, message: RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof ValidationError && e.field === field && message.test(e.message));

describe('parseBody with the instances DTOs', () => {
  it('takes a valid state change, and refuses an unknown action, a bad timeout or an unknown field, naming it', () => {
    assert.deepEqual({ ...parseBody(InstanceStatePutDto, { action: 'stop', timeout: -1, force: true }) }, { action: 'stop', timeout: -1, force: true });
    refused(() => parseBody(InstanceStatePutDto, { action: 'explode' }), 'action', /one of start, stop/);
    refused(() => parseBody(InstanceStatePutDto, { action: 'stop', timeout: 1.5 }), 'timeout', /whole number/);
    refused(() => parseBody(InstanceStatePutDto, { action: 'stop', force: 'yes' }), 'force', /true or false/);
    refused(() => parseBody(InstanceStatePutDto, { action: 'stop', forse: true }), 'forse', /unknown field/);
    refused(() => parseBody(InstanceStatePutDto, []), 'body', /JSON object/);
  });

  it('turns an exec body into a typed request with LXD defaults', () => {
    const request = parseBody(InstanceExecPostDto, { command: ['true'], 'wait-for-websocket': false, cwd: '' }).toRequest();
    assert.deepEqual(request, { command: ['true'], environment: {}, cwd: '/root', uid: 0, gid: 0, streaming: false, interactive: false, width: 80, height: 24, recordOutput: false });
    const interactive = parseBody(InstanceExecPostDto, { command: ['bash'], 'wait-for-websocket': true, interactive: true, width: 120, height: 0, user: 1000 }).toRequest();
    assert.equal(interactive.interactive, true);
    assert.equal(interactive.width, 120);
    assert.equal(interactive.height, 24);
    assert.equal(interactive.uid, 1000);
  });

  it('refuses a bad exec body, naming the field', () => {
    refused(() => parseBody(InstanceExecPostDto, { command: [] }), 'command', /non-empty list/);
    refused(() => parseBody(InstanceExecPostDto, { command: ['a\u0000b'] }), 'command', /non-empty list/);
    refused(() => parseBody(InstanceExecPostDto, { command: ['true'], environment: { A: 1 } }), 'environment', /object of strings/);
    refused(() => parseBody(InstanceExecPostDto, { command: ['true'], cwd: 'tmp' }), 'cwd', /absolute path/);
    refused(() => parseBody(InstanceExecPostDto, { command: ['true'], group: -1 }), 'group', /numeric id/);
    refused(() => parseBody(InstanceExecPostDto, { command: ['true'], width: 10_001 }), 'width', /0 to 10000/);
  });
});

const HOST: HostCapacity = { cpus: [0, 1], memoryBytes: 8n * 1024n ** 3n };

/** The DTO refuses `body` in the aggregate's own words: the field and message `domain` throws for it. */
function refusedAsByDomain(fn: () => unknown, domain: () => unknown) {
  let expected: unknown;
  try {
    domain();
  } catch (err) {
    expected = err;
  }
  assert.ok(expected instanceof ValidationError, 'the domain refuses it too');
  assert.throws(fn, (e: unknown) => e instanceof ValidationError && e.field === expected.field && e.message === expected.message);
}

const BAD_SHAPES: Array<[string, object]> = [
  ['a name that is not a string', { name: 42 }],
  ['no name', {}],
  ['a description that is not a string', { name: 'web', description: 42 }],
  ['a config that is not an object', { name: 'web', config: ['a'] }],
  ['a config value that is not a string', { name: 'web', config: { 'limits.cpu': 2 } }],
  ['devices that are not an object', { name: 'web', devices: 'eth0' }],
  ['a device that is not an object', { name: 'web', devices: { eth0: 'nic' } }],
  ['a device type that is not a string', { name: 'web', devices: { eth0: { type: 5 } } }],
  ['a device key that is not a string', { name: 'web', devices: { eth0: { type: 'nic', mtu: 1500 } } }],
];

describe('parseBody with the instance and profile DTOs', () => {
  it('takes an InstancesPost, dropping what LXD clients send and Berth ignores, keeping nulls for the aggregate', () => {
    const post = parseBody(InstancesPostDto, {
      name: 'web',
      type: 'container',
      architecture: 'x86_64',
      instance_type: '',
      stateful: false,
      source: { type: 'image', alias: 'debian/12' },
      profiles: ['default'],
      config: { 'limits.cpu': '1' },
      devices: { eth0: { type: 'nic', network: 'berthbr0' } },
      description: null,
      ephemeral: true,
      start: false,
    });
    assert.deepEqual(
      { ...post },
      { name: 'web', source: { type: 'image', alias: 'debian/12' }, profiles: ['default'], config: { 'limits.cpu': '1' }, devices: { eth0: { type: 'nic', network: 'berthbr0' } }, description: null, ephemeral: true, start: false },
    );
  });

  for (const [what, body] of BAD_SHAPES) {
    it(`refuses ${what} in the aggregates' words`, () => {
      refusedAsByDomain(() => parseBody(InstancesPostDto, body), () => Instance.create({ architecture: 'x86_64', imageFingerprint: null, ...(body as { name: string }) }, () => [], HOST));
      refusedAsByDomain(() => parseBody(ProfilesPostDto, body), () => Profile.create(body as { name: string }, HOST));
    });
  }

  it('refuses profiles and ephemeral of the wrong shape in the aggregate\'s words', () => {
    for (const body of [{ name: 'web', profiles: 'default' }, { name: 'web', profiles: ['default', 7] }, { name: 'web', ephemeral: 'yes' }]) {
      refusedAsByDomain(() => parseBody(InstancesPostDto, body), () => Instance.create({ architecture: 'x86_64', imageFingerprint: null, ...(body as { name: string }) }, () => [], HOST));
    }
    refused(() => parseBody(InstancesPostDto, { name: 'web', profiles: ['default', 7] }), 'profiles[1]', /must be a string$/);
  });

  it('refuses a start that is not a boolean as the create refuses any start, and an unknown field', () => {
    refused(() => parseBody(InstancesPostDto, { name: 'web', start: 'yes' }), 'start', /^Invalid start: starting on create is not available/);
    refused(() => parseBody(InstancesPostDto, { name: 'web', start: null }), 'start', /^Invalid start: starting on create is not available/);
    refused(() => parseBody(InstancesPostDto, { name: 'web', colour: 'red' }), 'colour', /^Invalid colour: unknown field$/);
    refused(() => parseBody(InstancesPostDto, ['web']), 'body', /^Invalid body: must be a JSON object$/);
  });

  it('takes a PUT with what a GET answered, reading only the editable fields', () => {
    const got = { name: 'web', status: 'Running', status_code: 103, created_at: '', last_used_at: '', location: 'none', project: 'default', architecture: 'x86_64', type: 'container', stateful: false, expanded_config: {}, expanded_devices: {} };
    assert.deepEqual({ ...parseBody(InstancePutDto, { ...got, config: { 'user.a': '1' }, profiles: [] }) }, { config: { 'user.a': '1' }, profiles: [] });
    refused(() => parseBody(InstancePutDto, { ...got, source: {} }), 'source', /unknown field/);
    assert.deepEqual({ ...parseBody(ProfilePutDto, { name: 'web', used_by: [], project: 'default', description: 'x' }) }, { description: 'x' });
    refused(() => parseBody(ProfilePutDto, { profiles: [] }), 'profiles', /unknown field/);
  });

  it("takes a profile PUT as Ansible's lxd_profile sends it: the whole GET answer with the new fields beside it", () => {
    const answer = { type: 'sync', status: 'Success', status_code: 200, operation: '', error_code: 0, error: '', metadata: { name: 'web', description: 'old', config: { 'user.a': '1' }, devices: {}, used_by: [] } };
    const put = { ...answer, config: { 'user.a': '1', 'user.b': '2' }, description: 'new', devices: {}, name: 'web', used_by: [] };
    assert.deepEqual({ ...parseBody(ProfilePutDto, put) }, { config: { 'user.a': '1', 'user.b': '2' }, description: 'new', devices: {} });
    refused(() => parseBody(ProfilePutDto, { ...put, metdata: {} }), 'metdata', /unknown field/);
  });

  it('takes a rename, refusing a name that is not a string', () => {
    assert.deepEqual({ ...parseBody(InstancePostDto, { name: 'db', migration: false, live: false }) }, { name: 'db' });
    refused(() => parseBody(InstancePostDto, { name: 42 }), 'name', /^Invalid name: must be a string$/);
    refused(() => parseBody(ProfilePostDto, {}), 'name', /^Invalid name: must be a string$/);
    refused(() => parseBody(ProfilePostDto, { name: 'db', live: false }), 'live', /unknown field/);
  });

  it('takes a server PUT with what GET /1.0 answered, refusing a config of the wrong shape in the server\'s words', () => {
    assert.deepEqual({ ...parseBody(ServerPutDto, { api_extensions: [], api_status: 'stable', auth: 'trusted', public: false, environment: {}, config: { 'user.site': 'lab' } }) }, { config: { 'user.site': 'lab' } });
    for (const config of [['user.site'], { 'user.site': 7 }]) refusedAsByDomain(() => parseBody(ServerPutDto, { config }), () => validateServerConfig(config));
  });
});
