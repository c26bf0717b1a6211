import { natTableName, renderNftNatRuleset } from '../domain/nat-rules.js';
import type { Subnet } from '../domain/ipv4.js';
import { forwardTableName, localnetComment, renderNftForwardRuleset, type PortForward } from '../domain/port-forward.js';
import { run, runJson } from './command.js';
import { IptablesNat } from './iptables-nat.js';
import type { NatBackend } from './nat-backend.js';

interface NftTables {
  nftables: Array<{ table?: { family: string; name: string } }>;
}

export class NftablesNat implements NatBackend {
  readonly kind = 'nftables';

  async install(network: string, subnet: Subnet): Promise<void> {
    await run('nft', ['-f', '-'], renderNftNatRuleset(network, subnet));
  }

  async remove(network: string): Promise<void> {
    if (await this.exists(network)) await run('nft', ['delete', 'table', 'ip', natTableName(network)]);
  }

  async exists(network: string): Promise<boolean> {
    return hasTable(natTableName(network));
  }

  async installForward(id: string, forward: PortForward): Promise<void> {
    await run('nft', ['-f', '-'], renderNftForwardRuleset(id, forward));
  }

  async removeForward(id: string): Promise<void> {
    if (await this.forwardExists(id)) await run('nft', ['delete', 'table', 'ip', forwardTableName(id)]);
  }

  async forwardExists(id: string): Promise<boolean> {
    return hasTable(forwardTableName(id));
  }

  async localnetGuards(bridge: string): Promise<number> {
    return (await run('nft', ['list', 'ruleset'])).stdout.split(`comment "${localnetComment(bridge)}"`).length - 1;
  }
}

async function hasTable(name: string): Promise<boolean> {
  return (await listNftTables()).some((t) => t.family === 'ip' && t.name === name);
}

export async function listNftTables(): Promise<Array<{ family: string; name: string }>> {
  const out = await runJson<NftTables>('nft', ['-j', 'list', 'tables']);
  return out.nftables.flatMap((entry) => (entry.table ? [{ family: entry.table.family, name: entry.table.name }] : []));
}

/**
 * nftables when the `nft` tool runs and the kernel answers a listing, which is the usual case;
 * otherwise iptables if it can list the nat table; otherwise nft's own error.
 */
export async function detectNatBackend(): Promise<NatBackend> {
  try {
    await listNftTables();
    return new NftablesNat();
  } catch (nftError) {
    try {
      await run('iptables', ['-w', '-t', 'nat', '-S', 'POSTROUTING']);
      return new IptablesNat();
    } catch {
      throw nftError;
    }
  }
}
