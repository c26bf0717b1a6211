import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import type { Request } from 'express';
import { pino } from 'pino';
import { createLogger, DatabaseUnavailableError, DomainError, ValidationError } from '#core';
import { DnsmasqError } from '../../../../libs/network/src/domain/network.errors.js';
import { ProfileInUseError } from '#profiles';
import { ContainerNotRunningError, InvalidContainerSpecError, NativeCallError } from '#runtime';
import { StorageRollbackIncompleteError } from '#storage';
import { ERROR_STATUS, toErrorResponse } from './error.filter.js';

const req = { id: 'req-1' } as Request;
const log = createLogger('silent');

/** A logger whose lines are kept, parsed. */
function recordingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { logger, lines };
}

/**
 * Every code a DomainError subclass declares, read from the build (dist/libs and dist/apps):
 * `readonly code = 'X.Y'` compiles to `this.code = 'X.Y'` in the class's constructor.
 */
function declaredCodes(): Map<string, string> {
  const dist = fileURLToPath(new URL('../../../../', import.meta.url));
  const codes = new Map<string, string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.js') && !/\.(spec|test)\.js$/.test(entry.name)) {
        for (const m of readFileSync(path, 'utf8').matchAll(/\bthis\.code = '([A-Z][A-Z0-9_]*(?:\.[A-Z0-9_]+)+)'/g)) codes.set(m[1]!, path);
      }
    }
  };
  walk(join(dist, 'libs'));
  walk(join(dist, 'apps'));
  return codes;
}

class UnmappedError extends DomainError {
  readonly code = 'TEST.UNMAPPED';
}

describe('ERROR_STATUS', () => {
  const declared = declaredCodes();

  it('has a status for every code a DomainError declares', () => {
    for (const known of ['REQUEST.INVALID', 'NETWORK.DNSMASQ_FAILED', 'STORAGE.ROLLBACK_INCOMPLETE', 'RUNTIME.SYSCALL_FAILED', 'MIGRATE.SOURCE_READ_FAILED']) {
      assert.ok(declared.has(known), `the scan of the build finds ${known}`);
    }
    const unmapped = [...declared].filter(([code]) => ERROR_STATUS[code] === undefined).map(([code, file]) => `${code} (${file})`);
    assert.deepEqual(unmapped, [], 'add these codes to ERROR_STATUS in apps/berthd/src/http/error.filter.ts');
  });

  it('lists only codes that some error declares', () => {
    assert.deepEqual(Object.keys(ERROR_STATUS).filter((code) => !declared.has(code)), []);
  });
});

describe('toErrorResponse', () => {
  it('maps a profile in use to 400 with the users listed', () => {
    const { status, body } = toErrorResponse(new ProfileInUseError('web', ['/1.0/instances/a']), req, log);
    assert.equal(status, 400);
    assert.deepEqual(body, { type: 'error', status: '', status_code: 0, operation: '', error_code: 400, error: 'Profile "web" is currently in use by: /1.0/instances/a', metadata: { used_by: ['/1.0/instances/a'] } });
  });

  it('maps validation errors to 400 naming the field', () => {
    const { status, body } = toErrorResponse(new ValidationError('config["x"]', 'unknown configuration key'), req, log);
    assert.equal(status, 400);
    assert.equal(body.error, 'Invalid config["x"]: unknown configuration key');
  });

  it('maps a lost database connection to 503', () => {
    const lost = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    assert.equal(toErrorResponse(lost, req, log).status, 503);
    assert.equal(toErrorResponse(new DatabaseUnavailableError('down'), req, log).status, 503);
    assert.equal(toErrorResponse({ driverError: { code: '57P01' } }, req, log).status, 503);
  });

  it('answers a failure of the host with 500 and its message, and logs it with the request id', () => {
    const { logger, lines } = recordingLogger();
    const failures = [
      new DnsmasqError('berthbr0', 'did not start', 'dnsmasq: failed to bind DHCP server socket: Address in use'),
      new StorageRollbackIncompleteError(new Error('mkfs.btrfs failed'), ['loop device /dev/loop7']),
      new NativeCallError('pivot_root(2) failed: EINVAL', 'pivot_root', 22, 'EINVAL'),
    ];
    for (const failure of failures) {
      const { status, body } = toErrorResponse(failure, req, logger);
      assert.equal(status, 500, failure.code);
      assert.equal(body.error_code, 500);
      assert.equal(body.error, failure.message);
    }
    assert.deepEqual(
      lines.map((l) => [l.level, l.reqId, l.code]),
      failures.map((f) => [50, 'req-1', f.code]),
    );
  });

  it('keeps the syscall and errno name of a native failure in the answer', () => {
    const { status, body } = toErrorResponse(new NativeCallError('no answer from /run/monitor.sock', 'read', 110, 'ETIMEDOUT'), req, log);
    assert.equal(status, 500);
    assert.equal(body.error, 'no answer from /run/monitor.sock: read(2) failed: ETIMEDOUT');
    assert.deepEqual(body.metadata, { syscall: 'read', errno: 110, code: 'ETIMEDOUT' });
  });

  it('answers what the runtime refuses as a request with 400', () => {
    assert.equal(toErrorResponse(new InvalidContainerSpecError('hostname', 'must be a hostname label'), req, log).status, 400);
    assert.equal(toErrorResponse(new ContainerNotRunningError('web'), req, log).status, 400);
  });

  it('hides unexpected errors behind a 500 with the request id, and logs their stack, never answers it', () => {
    const { logger, lines } = recordingLogger();
    const bug = new TypeError('x is undefined');
    const { status, body } = toErrorResponse(bug, req, logger);
    assert.equal(status, 500);
    assert.deepEqual(body, { type: 'error', status: '', status_code: 0, operation: '', error_code: 500, error: 'Internal error (request req-1)', metadata: null });
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.reqId, 'req-1');
    assert.equal((lines[0]!.err as { stack: string }).stack, bug.stack);
  });

  it('answers a code missing from the table with 500, logged as such', () => {
    const { logger, lines } = recordingLogger();
    const { status } = toErrorResponse(new UnmappedError('something'), req, logger);
    assert.equal(status, 500);
    assert.deepEqual([lines[0]!.reqId, lines[0]!.code], ['req-1', 'TEST.UNMAPPED']);
  });
});
