import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { flatten, formatInfoDate, formatListDate, formatSize, renderCsv, renderDocument, renderList, renderTable, type Column } from './format.js';

interface Row {
  name: string;
  count: number;
}
const columns: Column<Row>[] = [
  { header: 'NAME', value: (row) => row.name },
  { header: 'COUNT', value: (row) => String(row.count) },
];
const rows: Row[] = [
  { name: 'default', count: 0 },
  { name: 'web', count: 12 },
];

describe('renderTable', () => {
  it('draws an ASCII table with centred headers and a rule between rows, like lxc', () => {
    assert.equal(
      renderTable(['NAME', 'DESCRIPTION', 'USED BY'], [
        ['default', 'Default profile', '0'],
        ['web', '', '12'],
      ]),
      [
        '+---------+-----------------+---------+',
        '|  NAME   |   DESCRIPTION   | USED BY |',
        '+---------+-----------------+---------+',
        '| default | Default profile | 0       |',
        '+---------+-----------------+---------+',
        '| web     |                 | 12      |',
        '+---------+-----------------+---------+',
      ].join('\n'),
    );
  });

  it('emits no terminal colour codes', () => {
    assert.doesNotMatch(renderTable(['A'], [['b']]), /\u001b\[/);
  });

  it('draws only the header when there are no rows', () => {
    assert.equal(renderTable(['A'], []), '+---+\n| A |\n+---+');
  });
});

describe('renderCsv', () => {
  it('quotes fields holding commas, quotes or newlines, and doubles inner quotes', () => {
    assert.equal(
      renderCsv([
        ['plain', 'a,b', 'say "hi"', 'two\nlines'],
        ['', 'x', 'y', 'z'],
      ]),
      'plain,"a,b","say ""hi""","two\nlines"\n,x,y,z',
    );
  });

  it('renders nothing for no rows', () => {
    assert.equal(renderCsv([]), '');
  });
});

describe('renderList', () => {
  it('renders the columns as a table', () => {
    assert.match(renderList(rows, columns, 'table'), /\| web {5}\| 12 {4}\|/);
  });

  it('renders the columns as headerless CSV', () => {
    assert.equal(renderList(rows, columns, 'csv'), 'default,0\nweb,12');
  });

  it('renders the whole objects as JSON and YAML, not just the columns', () => {
    assert.deepEqual(JSON.parse(renderList(rows, columns, 'json')), rows);
    assert.deepEqual(parseYaml(renderList(rows, columns, 'yaml')), rows);
  });
});

describe('renderDocument', () => {
  const profile = {
    name: 'web',
    description: 'Web servers',
    config: { 'limits.cpu': '2' },
    devices: { eth0: { type: 'nic', network: 'br0' } },
    used_by: [],
  };

  it('renders YAML that parses back to the object, keeping numeric strings as strings', () => {
    const text = renderDocument(profile, 'yaml');
    assert.match(text, /limits\.cpu: "2"/);
    assert.deepEqual(parseYaml(text), profile);
  });

  it('renders JSON that parses back to the object', () => {
    assert.deepEqual(JSON.parse(renderDocument(profile, 'json')), profile);
  });

  it('renders KEY/VALUE rows of the flattened fields as CSV', () => {
    assert.equal(
      renderDocument(profile, 'csv'),
      [
        'name,web',
        'description,Web servers',
        'config.limits.cpu,2',
        'devices.eth0.type,nic',
        'devices.eth0.network,br0',
        'used_by,',
      ].join('\n'),
    );
  });

  it('renders KEY/VALUE rows as a table', () => {
    assert.equal(
      renderDocument({ name: 'web', config: { 'limits.cpu': '2' } }, 'table'),
      [
        '+-------------------+-------+',
        '|        KEY        | VALUE |',
        '+-------------------+-------+',
        '| name              | web   |',
        '+-------------------+-------+',
        '| config.limits.cpu | 2     |',
        '+-------------------+-------+',
      ].join('\n'),
    );
  });
});

describe('flatten', () => {
  it('joins nested keys with dots and lists of scalars with newlines', () => {
    assert.deepEqual(flatten({ a: { b: 1, c: true }, list: ['x', 'y'], none: null }), [
      ['a.b', '1'],
      ['a.c', 'true'],
      ['list', 'x\ny'],
      ['none', ''],
    ]);
  });

  it('numbers the items of a list of objects', () => {
    assert.deepEqual(flatten({ ops: [{ id: 'a' }, { id: 'b' }] }), [
      ['ops.0.id', 'a'],
      ['ops.1.id', 'b'],
    ]);
  });

  it('keeps an empty object or list as one empty value', () => {
    assert.deepEqual(flatten({ config: {}, used_by: [] }), [
      ['config', ''],
      ['used_by', ''],
    ]);
  });
});

describe('formatSize', () => {
  it('prints sizes as LXD does: bytes, then IEC units with two decimals', () => {
    assert.equal(formatSize(0), '0B');
    assert.equal(formatSize(1023), '1023B');
    assert.equal(formatSize(1024), '1.00KiB');
    assert.equal(formatSize(1536), '1.50KiB');
    assert.equal(formatSize(128_900_000), '122.93MiB');
    assert.equal(formatSize(5 * 1024 ** 3), '5.00GiB');
  });
});

describe('dates', () => {
  it('prints the upload date as lxc lists it, in UTC with a 12-hour clock', () => {
    assert.equal(formatListDate('2023-11-14T22:13:20Z'), 'Nov 14, 2023 at 10:13pm (UTC)');
    assert.equal(formatListDate('2025-01-02T00:05:00Z'), 'Jan 2, 2025 at 12:05am (UTC)');
    assert.equal(formatListDate('2025-01-02T12:00:00Z'), 'Jan 2, 2025 at 12:00pm (UTC)');
  });

  it('prints info timestamps, and the epoch or year 1 as never', () => {
    assert.equal(formatInfoDate('2023-11-14T22:13:20Z'), '2023/11/14 22:13 UTC');
    assert.equal(formatInfoDate('1970-01-01T00:00:00Z'), 'never');
    assert.equal(formatInfoDate('0001-01-01T00:00:00Z'), 'never');
    assert.equal(formatListDate(''), '');
  });
});
