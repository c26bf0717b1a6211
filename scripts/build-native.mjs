// Builds native/ (binding.gyp) with node-gyp against the headers of the running Node, which sit
// beside its binary (e.g. /usr/include/node): nothing is downloaded.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

const nodedir = dirname(dirname(process.execPath));
if (!existsSync(join(nodedir, 'include', 'node', 'node_api.h'))) {
  console.error(`build-native: Node's headers are not in ${nodedir}/include/node; install them (Debian: libnode-dev) or set npm_config_nodedir`);
  process.exit(1);
}
const gyp = process.env.npm_config_node_gyp;
const [cmd, args] = gyp ? [process.execPath, [gyp]] : ['node-gyp', []];
const root = new URL('..', import.meta.url).pathname;
const result = spawnSync(cmd, [...args, 'rebuild', `--directory=${join(root, 'native')}`, `--nodedir=${nodedir}`, '--silent'], { stdio: 'inherit' });
process.exit(result.status ?? 1);
