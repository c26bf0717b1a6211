/**
 * Picks `count` CPUs for a container limited by a CPU count, the least loaded first (LXD
 * spreads such containers over the host and rebalances as they come and go). `pinned` maps CPU id
 * to how many other containers currently use it.
 */
export function allocateCpus(count: number, online: number[], pinned: ReadonlyMap<number, number>): number[] {
  return [...online]
    .sort((a, b) => (pinned.get(a) ?? 0) - (pinned.get(b) ?? 0) || a - b)
    .slice(0, count)
    .sort((a, b) => a - b);
}
