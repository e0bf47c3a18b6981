/**
 * The AS of the gobgpd the agent runs, read from its TOML (`[global.config] as`), so the plan
 * can show the AS path an `as-path-prepend` makes. Undefined without `run`, or when the file
 * cannot tell (check reports why).
 */
import { readFileSync } from 'node:fs';
import { parse as parseToml } from 'smol-toml';
import type { AgentConfig } from '../config/types.js';

export function speakerAs(config: AgentConfig): number | undefined {
  const file = config.bgp?.gobgp.run?.config;
  if (!file) return undefined;
  try {
    const toml = parseToml(readFileSync(file, 'utf8')) as { global?: { config?: { as?: unknown } } };
    const as = toml.global?.config?.as;
    return typeof as === 'number' && Number.isInteger(as) && as > 0 ? as : undefined;
  } catch {
    return undefined;
  }
}
