// Nic limits are quotas: parsed in #quotas, where their typed rows are kept; shaped here.
export { parseBitRate, parseNicLimits, type NicLimits } from '#quotas';
