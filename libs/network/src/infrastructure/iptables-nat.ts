import { formatSubnet, type Subnet } from '../domain/ipv4.js';
import { isLoopback, localnetComment, portPairs, type PortForward } from '../domain/port-forward.js';
import { NetworkCommandError } from '../domain/network.errors.js';
import { run } from './command.js';
import type { NatBackend } from './nat-backend.js';

/** The chain that holds one network's rules in the nat table (iptables allows 28 characters). */
export function iptablesChainName(network: string): string {
  return `BERTH-${network}`;
}

/** The chains of one port forward: DNAT (nat, from PREROUTING and OUTPUT), SNAT (nat, from POSTROUTING), localnet guard (mangle). */
export function iptablesForwardChains(id: string): { dnat: string; snat: string; localnet: string } {
  return { dnat: `BERTHP-${id}-D`, snat: `BERTHP-${id}-S`, localnet: `BERTHP-${id}-L` };
}

/** Where each forward chain is jumped to from. */
const FORWARD_JUMPS: ReadonlyArray<[table: string, builtin: string, chain: 'dnat' | 'snat' | 'localnet']> = [
  ['nat', 'PREROUTING', 'dnat'],
  ['nat', 'OUTPUT', 'dnat'],
  ['nat', 'POSTROUTING', 'snat'],
  ['mangle', 'PREROUTING', 'localnet'],
];

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

  async installForward(id: string, forward: PortForward): Promise<void> {
    const chains = iptablesForwardChains(id);
    const { protocol: p, listenAddress: listen, targetAddress: target } = forward;
    const targetPorts = [...new Set(portPairs(forward).map(([, to]) => to))];
    await this.removeForward(id);
    try {
      await this.run('nat', '-N', chains.dnat);
      await this.run('nat', '-N', chains.snat);
      for (const [from, to] of portPairs(forward)) await this.run('nat', '-A', chains.dnat, '-d', `${listen}/32`, '-p', p, '--dport', String(from), '-j', 'DNAT', '--to-destination', `${target}:${to}`);
      for (const to of targetPorts) {
        await this.run('nat', '-A', chains.snat, '-s', `${target}/32`, '-d', `${target}/32`, '-p', p, '--dport', String(to), '-j', 'MASQUERADE');
        if (isLoopback(listen)) await this.run('nat', '-A', chains.snat, '-s', '127.0.0.0/8', '-d', `${target}/32`, '-p', p, '--dport', String(to), '-j', 'MASQUERADE');
      }
      if (isLoopback(listen)) {
        await this.run('mangle', '-N', chains.localnet);
        await this.run('mangle', '-A', chains.localnet, '-i', forward.bridge, '-d', '127.0.0.0/8', '-m', 'comment', '--comment', localnetComment(forward.bridge), '-j', 'DROP');
      }
      for (const [table, builtin, chain] of FORWARD_JUMPS) {
        if (chain === 'localnet' && !isLoopback(listen)) continue;
        await this.run(table, '-A', builtin, ...this.forwardJump(id, chains[chain]));
      }
    } catch (err) {
      await this.removeForward(id).catch(() => undefined);
      throw err;
    }
  }

  async removeForward(id: string): Promise<void> {
    const chains = iptablesForwardChains(id);
    for (const [table, builtin, chain] of FORWARD_JUMPS) {
      for (;;) {
        try {
          await this.run(table, '-D', builtin, ...this.forwardJump(id, chains[chain]));
        } catch (err) {
          if (err instanceof NetworkCommandError) break;
          throw err;
        }
      }
    }
    for (const [table, chain] of [['nat', chains.dnat], ['nat', chains.snat], ['mangle', chains.localnet]] as const) {
      if (!(await this.chainExists(table, chain))) continue;
      await this.run(table, '-F', chain);
      await this.run(table, '-X', chain);
    }
  }

  async forwardExists(id: string): Promise<boolean> {
    return this.chainExists('nat', iptablesForwardChains(id).dnat);
  }

  async localnetGuards(bridge: string): Promise<number> {
    return (await this.run('mangle', '-S')).split(`--comment "${localnetComment(bridge)}"`).length - 1;
  }

  /** The rules of one forward's chains and their jumps, as `iptables -S` prints them. */
  async forwardRules(id: string): Promise<string[]> {
    const lines: string[] = [];
    for (const table of ['nat', 'mangle']) lines.push(...(await this.run(table, '-S')).split('\n').filter((l) => l.includes(`BERTHP-${id}-`)));
    return lines;
  }

  private forwardJump(id: string, chain: string): string[] {
    return ['-m', 'comment', '--comment', `berth proxy ${id}`, '-j', chain];
  }

  private async chainExists(table: string, chain: string): Promise<boolean> {
    try {
      await this.run(table, '-S', chain);
      return true;
    } catch (err) {
      if (err instanceof NetworkCommandError && /No chain|does not exist/i.test(err.stderr)) return false;
      throw err;
    }
  }

  private async run(table: string, ...args: string[]): Promise<string> {
    return (await run(this.binary, ['-w', '-t', table, ...args])).stdout;
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

  // -w: wait for the xtables lock instead of failing when another tool holds it.
  private async iptables(...args: string[]): Promise<string> {
    return this.run('nat', ...args);
  }
}
