import { Liquid } from 'liquidjs';
import type { TemplateTrigger } from './image-metadata.js';

/** What an image template sees, with the names LXD gives them (`container` and `instance` are the same). */
export interface TemplateInstance {
  readonly name: string;
  readonly architecture: string;
  readonly ephemeral: boolean;
  /** The expanded config (profiles, then the instance's own keys). */
  readonly config: Readonly<Record<string, string>>;
  readonly devices: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/** 1 MiB: far more than any file an image templates (hostname, hosts, cloud-init seeds). */
export const MAX_TEMPLATE_BYTES = 1024 * 1024;

/*
 * Templates come from the image, that is from a stranger, and render inside berthd. Liquid is a
 * language made for untrusted templates: no code, no prototype access (ownPropertyOnly), no file
 * access (includes resolve only against the empty in-memory set), and caps on parse size, render
 * time and allocations so a loop cannot hold the daemon.
 */
const engine = new Liquid({
  templates: {},
  ownPropertyOnly: true,
  strictFilters: true,
  cache: false,
  parseLimit: MAX_TEMPLATE_BYTES,
  renderLimit: 2_000,
  memoryLimit: 16 * MAX_TEMPLATE_BYTES,
});

/**
 * Renders one template of an image with LXD's variables: `trigger`, `path`, `container` and
 * `instance` (name, architecture, privileged, ephemeral as "true"/"false"), `config`, `devices`
 * and the template's own `properties`. The syntax is Liquid, which reads LXD's common templates
 * (`{{ container.name }}`, `{% if %}`, `{{ x | default: "y" }}`); pongo2 function calls such as
 * `config_get(...)` are not part of it and fail to parse.
 */
export async function renderTemplate(
  text: string,
  variables: { trigger: TemplateTrigger; path: string; instance: TemplateInstance; properties: Readonly<Record<string, string>> },
): Promise<string> {
  const { instance } = variables;
  const meta = {
    name: instance.name,
    architecture: instance.architecture,
    privileged: String(instance.config['security.privileged'] === 'true'),
    ephemeral: String(instance.ephemeral),
  };
  const output: unknown = await engine.parseAndRender(text, {
    trigger: variables.trigger,
    path: variables.path,
    container: meta,
    instance: meta,
    config: { ...instance.config },
    devices: structuredClone(instance.devices),
    properties: { ...variables.properties },
  });
  const rendered = String(output);
  if (Buffer.byteLength(rendered) > MAX_TEMPLATE_BYTES) throw new Error(`the rendered file exceeds ${MAX_TEMPLATE_BYTES} bytes`);
  return rendered;
}
