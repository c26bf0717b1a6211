import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '#core';
import { InstanceExecPostDto } from '../api/dto/instance-exec.dto.js';
import { InstanceStatePutDto } from '../api/dto/instance-state.dto.js';
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
