import { formatSubnet, type Subnet } from '../domain/ipv4.js';
import { NetworkCommandError } from '../domain/network.errors.js';
import { run } from './command.js';
import type { NatBackend } from './nat-backend.js';

/** The chain that holds one network's rules in the nat table (iptables allows 28 characters). */
export function iptablesChainName(network: string): string {
  return `BERTH-${network}`;
}

/**
 * The fallback for hosts where nftables is unusable: one chain per network in the nat table,
 * jumped to from POSTROUTING by a single commented rule, so removal touches nothing else.
 * `binary` is `iptables` (whichever backend the host selected) or e.g. `iptables-legacy`.
 */
export class IptablesNat implements NatBackend {
  readonly kind = 'iptables';

  constructor(private readonly binary = 'iptables') {}

  async install(network: string, subnet: Subnet): Promise<void> {
    const chain = iptablesChainName(network);
    const cidr = formatSubnet(subnet);
    await this.remove(network);
    await this.iptables('-N', chain);
    try {
      await this.iptables('-A', chain, '-s', cidr, '!', '-d', cidr, '-j', 'MASQUERADE');
      await this.iptables('-A', 'POSTROUTING', ...this.jump(network));
    } catch (err) {
      await this.remove(network).catch(() => undefined);
      throw err;
    }
  }

  async remove(network: string): Promise<void> {
    if (!(await this.exists(network))) return;
    // -D removes one rule per call; a crash between -A and a record could have left two.
    for (;;) {
      try {
        await this.iptables('-D', 'POSTROUTING', ...this.jump(network));
      } catch (err) {
        if (err instanceof NetworkCommandError) break;
        throw err;
      }
    }
    const chain = iptablesChainName(network);
    await this.iptables('-F', chain);
    await this.iptables('-X', chain);
  }

  async exists(network: string): Promise<boolean> {
    try {
      await this.iptables('-S', iptablesChainName(network));
      return true;
    } catch (err) {
      if (err instanceof NetworkCommandError && /No chain|does not exist/i.test(err.stderr)) return false;
      throw err;
    }
  }

  /** The rules of the network's chain and its jump, as `iptables -S` prints them. */
  async rules(network: string): Promise<string[]> {
    const own = (await this.iptables('-S', iptablesChainName(network))).split('\n');
    const jumps = (await this.iptables('-S', 'POSTROUTING')).split('\n').filter((l) => l.includes(`-j ${iptablesChainName(network)}`));
    return [...own, ...jumps].filter(Boolean);
  }

  private jump(network: string): string[] {
    return ['-m', 'comment', '--comment', `berth network ${network}`, '-j', iptablesChainName(network)];
  }

  private async iptables(...args: string[]): Promise<string> {
    // -w: wait for the xtables lock instead of failing when another tool holds it.
    return (await run(this.binary, ['-w', '-t', 'nat', ...args])).stdout;
  }
}
