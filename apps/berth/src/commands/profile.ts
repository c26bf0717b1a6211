// berth profile list|show|create|edit|set|unset|copy|rename|delete
import type { Command } from 'commander';
import type { Profile, ProfilePut } from '../api.js';
import { formatOption, segment, type Cli, type FormatOptions } from '../cli.js';
import { applyConfigChanges, parseConfigArguments } from '../config-args.js';
import { editUntilAccepted, readStdin } from '../editor.js';
import { UsageError } from '../errors.js';
import { renderDocument, renderList, renderYaml, type Column } from '../format.js';
import { EDIT_HEADER, parseProfileYaml, profileDocument } from '../profile-yaml.js';

const PROFILES = '/1.0/profiles';
const profilePath = (name: string) => `${PROFILES}/${segment(name)}`;

export const PROFILE_COLUMNS: readonly Column<Profile>[] = [
  { header: 'NAME', value: (p) => p.name },
  { header: 'DESCRIPTION', value: (p) => p.description },
  { header: 'USED BY', value: (p) => String(p.used_by?.length ?? 0) },
];

interface FetchedProfile {
  profile: Profile;
  etag: string | undefined;
}

async function fetchProfile(cli: Cli, name: string): Promise<FetchedProfile> {
  const { envelope, headers } = await cli.client.request<Profile>('GET', profilePath(name));
  return { profile: envelope.metadata, etag: headers.etag };
}

/** Replace a profile's writable fields, guarded by the ETag it was read with. */
async function putProfile(cli: Cli, name: string, body: ProfilePut, etag?: string): Promise<void> {
  await cli.client.send('PUT', profilePath(name), body, etag ? { 'If-Match': etag } : {});
}

const writable = (profile: Profile): ProfilePut => ({
  description: profile.description,
  config: profile.config ?? {},
  devices: profile.devices ?? {},
});

export function registerProfileCommands(program: Command, cli: Cli): void {
  const profile = program.command('profile').description('Manage profiles');

  profile
    .command('list')
    .alias('ls')
    .description('List profiles')
    .addOption(formatOption('table'))
    .action(async ({ format }: FormatOptions) => {
      const profiles = await cli.client.get<Profile[]>(`${PROFILES}?recursion=1`);
      const sorted = [...profiles].sort((a, b) => a.name.localeCompare(b.name));
      cli.print(renderList(sorted.map(profileDocument), PROFILE_COLUMNS, format));
    });

  profile
    .command('show')
    .description('Show a profile')
    .argument('<name>')
    .addOption(formatOption('yaml'))
    .action(async (name: string, { format }: FormatOptions) => {
      const { profile } = await fetchProfile(cli, name);
      cli.print(renderDocument(profileDocument(profile), format));
    });

  profile
    .command('create')
    .description('Create a profile')
    .argument('<name>')
    .option('-d, --description <text>', 'description of the profile', '')
    .action(async (name: string, { description }: { description: string }) => {
      await cli.client.send('POST', PROFILES, { name, description, config: {}, devices: {} });
      cli.print(`Profile ${name} created`);
    });

  profile
    .command('edit')
    .description('Edit a profile as YAML in $EDITOR, or replace it with YAML read from standard input')
    .argument('<name>')
    .action(async (name: string) => {
      if (!cli.environment.interactive) {
        const edited = parseProfileYaml(await readStdin(), name);
        await putProfile(cli, name, edited);
        return;
      }
      const { profile, etag } = await fetchProfile(cli, name);
      const text = `${EDIT_HEADER}\n${renderYaml(profileDocument(profile))}\n`;
      await editUntilAccepted(cli.environment.editor, text, `${name}.yaml`, (edited) =>
        putProfile(cli, name, parseProfileYaml(edited, name), etag),
      );
    });

  profile
    .command('set')
    .description('Set profile config keys: <key>=<value>... or <key> <value> (an empty value unsets)')
    .argument('<name>')
    .argument('<config...>', '<key>=<value>... or <key> <value>')
    .action(async (name: string, args: string[]) => {
      const changes = parseConfigArguments(args);
      const { profile, etag } = await fetchProfile(cli, name);
      const body = writable(profile);
      await putProfile(cli, name, { ...body, config: applyConfigChanges(body.config, changes) }, etag);
    });

  profile
    .command('unset')
    .description('Unset a profile config key')
    .argument('<name>')
    .argument('<key>')
    .action(async (name: string, key: string) => {
      const { profile, etag } = await fetchProfile(cli, name);
      const body = writable(profile);
      if (!Object.hasOwn(body.config, key)) {
        throw new UsageError(`key "${key}" is not set on profile "${name}"`);
      }
      await putProfile(cli, name, { ...body, config: applyConfigChanges(body.config, { [key]: '' }) }, etag);
    });

  profile
    .command('copy')
    .alias('cp')
    .description('Copy a profile to a new one')
    .argument('<source>')
    .argument('<target>')
    .action(async (source: string, target: string) => {
      const { profile } = await fetchProfile(cli, source);
      await cli.client.send('POST', PROFILES, { name: target, ...writable(profile) });
    });

  profile
    .command('rename')
    .alias('mv')
    .description('Rename a profile')
    .argument('<name>')
    .argument('<new-name>')
    .action(async (name: string, newName: string) => {
      await cli.client.send('POST', profilePath(name), { name: newName });
      cli.print(`Profile ${name} renamed to ${newName}`);
    });

  profile
    .command('delete')
    .alias('rm')
    .description('Delete profiles')
    .argument('<names...>')
    .action(async (names: string[]) => {
      for (const name of names) {
        await cli.client.send('DELETE', profilePath(name));
        cli.print(`Profile ${name} deleted`);
      }
    });
}
