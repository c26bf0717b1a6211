// Runs every compiled test (unit specs beside the code, integration and e2e suites in test/)
// with node's test runner, then prints the line CI reads: "N passed, N failed".
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dist = join(root, 'dist');

function find(dir, pattern, out = []) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) find(path, pattern, out);
    else if (pattern.test(name)) out.push(path);
  }
  return out;
}

const only = process.argv.slice(2);
const files = find(dist, /\.(spec|test)\.js$/)
  .filter((f) => only.length === 0 || only.some((o) => relative(dist, f).includes(o)))
  .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));

if (only.length > 0 && files.length === 0) {
  // node --test given no file would run every test it finds: a filter naming nothing is an error.
  console.error(`no compiled test matches ${only.join(', ')} (give a name as it is under dist/, e.g. test/e2e/load)`);
  process.exit(2);
}

function rank(file) {
  const rel = relative(dist, file);
  return rel.startsWith('libs') || rel.startsWith('apps') ? 0 : rel.startsWith('test/integration') ? 1 : 2;
}

const tap = join(process.env.TMPDIR ?? '/tmp', `berth-tests-${process.pid}.tap`);
const child = spawn(
  process.execPath,
  ['--test', '--test-concurrency=1', '--test-timeout=600000', '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${tap}`, ...files],
  { stdio: 'inherit', cwd: root },
);
child.on('exit', (code) => {
  const report = readFileSync(tap, 'utf8');
  const count = (key) => Number(report.match(new RegExp(`^# ${key} (\\d+)$`, 'm'))?.[1] ?? 0);
  const passed = count('pass');
  const failed = count('fail') + count('cancelled');
  const skipped = count('skipped') + count('todo');
  if (skipped > 0) console.log(`${skipped} skipped or todo (not counted as passed)`);
  console.log(`${passed} passed, ${failed + skipped} failed`);
  process.exit(code === 0 && failed === 0 && skipped === 0 && passed > 0 ? 0 : 1);
});
