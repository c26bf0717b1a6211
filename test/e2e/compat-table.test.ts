import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { startDaemon, type Daemon } from '../support/daemon.js';

const README = fileURLToPath(new URL('../../../README.md', import.meta.url));

type Support = 'supported' | 'partly' | 'not';

/** The rows of the README table whose header starts with `first` (cells trimmed, backticks dropped). */
function table(text: string, first: string): string[][] {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`| ${first} |`));
  assert.ok(start >= 0, `the README has a table starting with "| ${first} |"`);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(line.slice(1, -1).split('|').map((c) => c.trim().replaceAll('`', '')));
  }
  return rows;
}

const support = (cell: string, row: string): Support => {
  const word = cell.split(/[\s:(]/)[0];
  assert.ok(word === 'supported' || word === 'partly' || word === 'not', `"${row}": support is supported, partly or not, not "${cell}"`);
  return word;
};

/**
 * The README's compatibility tables are what GET /1.0 says: every extension the daemon announces
 * is in the extensions table as supported or partly, no extension marked `not` is announced, and
 * each lxc command family marked supported or partly has every extension its client code checks
 * announced, while one marked `not` lacks at least one (so that lxc's own refusal is the answer).
 */
describe('the README compatibility tables', () => {
  let d: Daemon;
  let announced: Set<string>;

  before(async () => {
    d = await startDaemon();
    announced = new Set((await d.api().get('/1.0').expect(200)).body.metadata.api_extensions);
  });
  after(async () => {
    await d.destroy();
  });

  it('lists exactly the API extensions GET /1.0 announces', () => {
    const rows = table(readFileSync(README, 'utf8'), 'API extension');
    const listed = new Map(rows.map(([name, s]) => [name, support(s, name)]));
    assert.equal(listed.size, rows.length, 'each extension is listed once');
    for (const name of announced) assert.ok(listed.has(name) && listed.get(name) !== 'not', `announced "${name}" is in the table as supported or partly`);
    for (const [name, s] of listed) assert.equal(announced.has(name), s !== 'not', `"${name}" is ${s} in the table and ${announced.has(name) ? '' : 'not '}announced`);
  });

  it('marks each lxc command family by the extensions its client checks', () => {
    const rows = table(readFileSync(README, 'utf8'), 'lxc command family');
    assert.ok(rows.length >= 10);
    for (const [family, needs, s] of rows) {
      const required = needs.split(',').map((n) => n.trim()).filter((n) => n !== '' && n !== '-');
      const missing = required.filter((n) => !announced.has(n));
      if (support(s, family) === 'not') assert.ok(required.length === 0 || missing.length > 0, `"${family}" is marked not, yet ${required.join(', ')} are announced`);
      else assert.deepEqual(missing, [], `"${family}" is marked ${s}: the extensions it needs are announced`);
    }
  });
});
