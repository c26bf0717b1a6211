import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { leaseViews } from './lease-views.js';

describe('leaseViews', () => {
  it('lists the static reservations, then the dynamic leases a static entry does not already show', () => {
    const views = leaseViews(
      ['00:16:3E:00:00:01,10.10.0.50,web', '00:16:3e:00:00:02,db'],
      [
        { expiresAt: null, mac: '00:16:3e:00:00:01', ipv4: '10.10.0.50', hostname: 'web', clientId: null },
        { expiresAt: new Date(0), mac: '00:16:3e:00:00:02', ipv4: '10.10.0.77', hostname: 'db', clientId: null },
        { expiresAt: null, mac: '00:16:3e:00:00:03', ipv4: '10.10.0.78', hostname: null, clientId: null },
      ],
    );
    assert.deepEqual(views, [
      { hostname: 'web', hwaddr: '00:16:3e:00:00:01', address: '10.10.0.50', type: 'static', location: 'none' },
      { hostname: 'db', hwaddr: '00:16:3e:00:00:02', address: '10.10.0.77', type: 'dynamic', location: 'none' },
      { hostname: '', hwaddr: '00:16:3e:00:00:03', address: '10.10.0.78', type: 'dynamic', location: 'none' },
    ]);
  });
});
