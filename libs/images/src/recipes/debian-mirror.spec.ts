import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, beforeEach, describe, it } from 'node:test';
import { debianMirror, NoDebianMirrorError } from './debian-mirror.js';

describe('debianMirror', () => {
  const dirs: string[] = [];
  let sourcesList: string;
  let sourcesDir: string;

  beforeEach(async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'berth-mirror-'));
    dirs.push(dir);
    sourcesList = path.join(dir, 'sources.list');
    sourcesDir = path.join(dir, 'sources.list.d');
    await mkdir(sourcesDir);
  });
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  const lookup = (env?: string) => debianMirror({ env, sourcesList, sourcesDir });

  it('takes BERTH_DEBIAN_MIRROR first, whatever apt says', async () => {
    await writeFile(sourcesList, 'deb http://apt.example.test/debian bookworm main\n');
    assert.equal(await lookup('http://env.example.test/debian'), 'http://env.example.test/debian');
  });

  it('reads one-line entries: options in brackets, comments, deb-src and other archives skipped', async () => {
    await writeFile(
      sourcesList,
      `# deb http://commented.example.test/debian bookworm main
deb-src http://source.example.test/debian bookworm main
deb http://security.example.test/debian-security bookworm-security main
deb [arch=amd64 signed-by=/usr/share/keyrings/k.gpg] http://one-line.example.test/debian/ bookworm main
`,
    );
    assert.equal(await lookup(), 'http://one-line.example.test/debian/');
  });

  it('reads deb822 stanzas: Types must include deb, Enabled: no is skipped, URIs may be several', async () => {
    await writeFile(
      path.join(sourcesDir, 'debian.sources'),
      `Types: deb-src
URIs: http://source.example.test/debian
Suites: bookworm

Types: deb
Enabled: no
URIs: http://disabled.example.test/debian

# a comment inside a stanza
Types: deb deb-src
URIs: http://security.example.test/debian-security
  http://deb822.example.test/debian
Suites: bookworm
`,
    );
    assert.equal(await lookup(), 'http://deb822.example.test/debian');
  });

  it('looks in sources.list first, then sources.list.d by name, ignoring files that are not .list or .sources', async () => {
    await writeFile(path.join(sourcesDir, 'b.list'), 'deb http://b.example.test/debian bookworm main\n');
    await writeFile(path.join(sourcesDir, 'a.sources'), 'Types: deb\nURIs: http://a.example.test/debian\n');
    await writeFile(path.join(sourcesDir, '0.list.disabled'), 'deb http://disabled.example.test/debian bookworm main\n');
    assert.equal(await lookup(), 'http://a.example.test/debian');
    await writeFile(sourcesList, 'deb http://main.example.test/debian bookworm main\n');
    assert.equal(await lookup(), 'http://main.example.test/debian');
  });

  it('fails naming both ways to configure one when neither gives a Debian archive', async () => {
    await writeFile(path.join(sourcesDir, 'other.list'), 'deb http://other.example.test/ubuntu noble main\n');
    await assert.rejects(lookup(''), (e: unknown) => {
      assert.ok(e instanceof NoDebianMirrorError);
      assert.equal(e.message, `No Debian mirror: set BERTH_DEBIAN_MIRROR or configure a Debian mirror in ${sourcesList} or ${sourcesDir}`);
      return true;
    });
    await rm(sourcesDir, { recursive: true });
    await assert.rejects(lookup(), NoDebianMirrorError, 'missing files are no mirror, not a crash');
  });
});
