import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { BerthConfig } from '#core';
import { InstanceNotFoundError } from '../../domain/instance.errors.js';
import { ConsoleLogs } from '../../infrastructure/exec-logs.js';
import { fakeRepository, instanceOf, Journal } from '../../testing/fakes.js';
import { ClearConsoleLogCommand } from './clear-console-log.command.js';
import { ClearConsoleLogHandler } from './clear-console-log.handler.js';

const berthDir = mkdtempSync(path.join(os.tmpdir(), 'berth-console-'));
after(() => rmSync(berthDir, { recursive: true, force: true }));

/** A console log as the monitor leaves it: the current file and the part before the last rotation. */
function consoleLog(name: string): string {
  const dir = path.join(berthDir, 'containers', name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'console.log.1'), 'older boot\n');
  writeFileSync(path.join(dir, 'console.log'), 'login: \n');
  return dir;
}

const handler = () => new ClearConsoleLogHandler(fakeRepository(new Journal(), instanceOf('c1')), new ConsoleLogs({ BERTH_DIR: berthDir } as BerthConfig));

describe('ClearConsoleLogHandler', () => {
  it('answers 404 for an unknown instance, leaving any log where it is', async () => {
    const dir = consoleLog('gone');
    await assert.rejects(handler().execute(new ClearConsoleLogCommand('gone')), InstanceNotFoundError);
    assert.equal(readFileSync(path.join(dir, 'console.log'), 'utf8'), 'login: \n');
    assert.equal(existsSync(path.join(dir, 'console.log.1')), true);
  });

  it('empties the log of a known instance, the file kept for its monitor and the rotated part removed', async () => {
    const dir = consoleLog('c1');
    await handler().execute(new ClearConsoleLogCommand('c1'));
    assert.equal(readFileSync(path.join(dir, 'console.log'), 'utf8'), '');
    assert.equal(existsSync(path.join(dir, 'console.log.1')), false);
  });
});
