import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('applies defaults', () => {
    const c = loadConfig({});
    assert.equal(c.BERTH_DIR, '/var/lib/berth');
    assert.equal(c.DATABASE_URL, undefined);
    assert.equal(c.BERTH_LOG_LEVEL, 'info');
    assert.equal(c.BERTH_DB_USER, 'postgres');
    assert.equal(c.BERTH_TEST_HOOKS, false);
    assert.equal(c.BERTH_STORAGE_DRIVER, 'auto');
    assert.equal(c.BERTH_DEFAULT_NETWORK, 'berthbr0');
  });
  it('reads every variable', () => {
    const c = loadConfig({ BERTH_DIR: '/srv/berth', DATABASE_URL: 'postgres://u:p@db:5432/berth', BERTH_LOG_LEVEL: 'debug', BERTH_DB_USER: 'pgberth', BERTH_TEST_HOOKS: 'true', BERTH_STORAGE_DRIVER: 'dir', BERTH_STORAGE_SIZE: '1073741824', BERTH_DEFAULT_NETWORK: 'none' });
    assert.deepEqual({ ...c }, { BERTH_DIR: '/srv/berth', DATABASE_URL: 'postgres://u:p@db:5432/berth', BERTH_LOG_LEVEL: 'debug', BERTH_DB_USER: 'pgberth', BERTH_TEST_HOOKS: true, BERTH_STORAGE_DRIVER: 'dir', BERTH_STORAGE_SIZE: '1073741824', BERTH_DEFAULT_NETWORK: 'none' });
  });
  const bad: Array<[NodeJS.ProcessEnv, string]> = [
    [{ BERTH_DIR: 'rel' }, 'Invalid environment variable BERTH_DIR="rel": must be an absolute path'],
    [{ DATABASE_URL: 'http://x' }, 'Invalid environment variable DATABASE_URL="http://x": must be a postgres:// or postgresql:// URL'],
    [{ BERTH_TEST_HOOKS: 'sure' }, 'Invalid environment variable BERTH_TEST_HOOKS="sure": must be true or false'],
    [{ BERTH_STORAGE_DRIVER: 'zfs' }, 'Invalid environment variable BERTH_STORAGE_DRIVER="zfs": must be one of auto, btrfs, dir'],
    [{ BERTH_DB_USER: 'Root User' }, 'Invalid environment variable BERTH_DB_USER="Root User": must be a valid system user name'],
  ];
  for (const [env, message] of bad) {
    it(`names the bad variable: ${Object.keys(env)[0]}`, () => assert.throws(() => loadConfig(env), (e: unknown) => e instanceof ConfigError && e.message === message));
  }
});
