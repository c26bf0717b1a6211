/**
 * The migrate context: VM sources read into a root filesystem (sources/), guest inspection and
 * fix-ups with their report (guest/), and the import command that makes an instance of it.
 */
export * from './sources/index.js';
export * from './guest/index.js';
