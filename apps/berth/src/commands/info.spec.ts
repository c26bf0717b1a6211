import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ServerInfo } from '../api.js';
import { renderServerSummary } from './info.js';

const info: ServerInfo = {
  api_extensions: ['a', 'b'],
  api_status: 'stable',
  api_version: '1.0',
  auth: 'trusted',
  public: false,
  auth_methods: ['unix'],
  environment: {
    server: 'berth',
    server_name: 'host1',
    server_version: '0.1.0',
    server_pid: 42,
    kernel: 'Linux',
    kernel_version: '6.1.0-18-amd64',
    kernel_architecture: 'x86_64',
    architectures: ['x86_64', 'i686'],
    os_name: 'Debian GNU/Linux',
    os_version: '12',
    storage: '',
    storage_version: '',
    driver: '',
    driver_version: '',
    firewall: 'nftables',
    database: { type: 'postgres', embedded: true, version: '17.2' },
  },
  config: {},
};

describe('renderServerSummary', () => {
  it('prints one aligned line per reported fact and leaves out empty ones', () => {
    assert.equal(
      renderServerSummary(info),
      [
        'Server:         berth 0.1.0 (pid 42)',
        'Server name:    host1',
        'API:            1.0 (stable)',
        'Auth:           trusted via unix',
        'Kernel:         Linux 6.1.0-18-amd64 (x86_64)',
        'Architectures:  x86_64, i686',
        'OS:             Debian GNU/Linux 12',
        'Firewall:       nftables',
        'Database:       postgres 17.2 (embedded)',
        'API extensions: 2',
      ].join('\n'),
    );
  });

  it('says when the database is an external server', () => {
    const external = {
      ...info,
      environment: { ...info.environment, database: { type: 'postgres', embedded: false, version: '16.4' } },
    };
    assert.match(renderServerSummary(external), /^Database: +postgres 16\.4 \(external\)$/m);
  });

  it('copes with a server that reports no environment', () => {
    assert.equal(
      renderServerSummary({ api_extensions: [], api_status: 'stable', api_version: '1.0', auth: 'trusted', public: false }),
      ['API:            1.0 (stable)', 'Auth:           trusted', 'API extensions: 0'].join('\n'),
    );
  });
});
