import { readFileSync } from 'node:fs';
import { hostname, machine, release, type } from 'node:os';
import { API_EXTENSIONS } from './api-extensions.js';

export interface ServerFacts {
  version: string;
  database: { type: 'postgres'; embedded: boolean; version: string };
}

function osRelease(): { name: string; version: string } {
  try {
    const text = readFileSync('/etc/os-release', 'utf8');
    const get = (k: string) => text.match(new RegExp(`^${k}="?([^"\\n]*)"?$`, 'm'))?.[1] ?? '';
    return { name: get('NAME') || '', version: get('VERSION_ID') || '' };
  } catch {
    return { name: '', version: '' };
  }
}


const ARCHITECTURES: Record<string, string[]> = {
  x86_64: ['x86_64', 'i686'],
  aarch64: ['aarch64', 'armv8l'],
};

/** What GET /1.0 says about this server (LXD's api.Server). Computed once at boot. */
export class ServerInfo {
  private readonly os = osRelease();

  constructor(private readonly facts: ServerFacts) {}

  describe(config: Record<string, string>) {
    return {
      api_extensions: [...API_EXTENSIONS],
      api_status: 'stable',
      api_version: '1.0',
      auth: 'trusted',
      auth_methods: ['unix'],
      public: false,
      config,
      environment: {
        server: 'berth',
        server_name: hostname(),
        server_version: this.facts.version,
        server_pid: process.pid,
        server_clustered: false,
        kernel: type(),
        kernel_version: release(),
        kernel_architecture: machine(),
        architectures: ARCHITECTURES[machine()] ?? [machine()],
        os_name: this.os.name,
        os_version: this.os.version,
        driver: 'berth',
        driver_version: this.facts.version,
        storage: '',
        storage_version: '',
        firewall: '',
        project: 'default',
        database: this.facts.database,
      },
    };
  }
}
