import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planAutostart } from './autostart.js';

describe('planAutostart', () => {
  it("follows LXD's rule: true starts, false never, no key starts what was running", () => {
    const plan = planAutostart([
      { name: 'on', config: { 'boot.autostart': 'true' }, wasRunning: false },
      { name: 'off', config: { 'boot.autostart': 'false' }, wasRunning: true },
      { name: 'was-running', config: {}, wasRunning: true },
      { name: 'was-stopped', config: {}, wasRunning: false },
    ]);
    assert.deepEqual(plan.map((p) => p.name), ['on', 'was-running']);
  });

  it('orders by priority, highest first, then by name, and carries the delay', () => {
    const plan = planAutostart([
      { name: 'b', config: { 'boot.autostart': '1' }, wasRunning: false },
      { name: 'low', config: { 'boot.autostart': 'yes', 'boot.autostart.priority': '-1' }, wasRunning: false },
      { name: 'high', config: { 'boot.autostart': 'on', 'boot.autostart.priority': '10', 'boot.autostart.delay': '3' }, wasRunning: false },
      { name: 'a', config: { 'boot.autostart': 'true' }, wasRunning: false },
    ]);
    assert.deepEqual(plan, [
      { name: 'high', priority: 10, delayS: 3 },
      { name: 'a', priority: 0, delayS: 0 },
      { name: 'b', priority: 0, delayS: 0 },
      { name: 'low', priority: -1, delayS: 0 },
    ]);
  });
});
