/**
 * Can this machine run the routed lab? The base lab needs (root, namespaces, gobgpd, bird)
 * plus FRR's daemons, vtysh, curl (the client's one-off GETs) and nft (the faults).
 * Synchronous, for `describe.skipIf(...)` and for the show's first line.
 */
import { existsSync } from 'node:fs';
import { labRequirements, type LabRequirements } from './requirements.js';

export function routedLabRequirements(): LabRequirements {
  const base = labRequirements({ programs: { vtysh: 'frr', curl: 'curl', nft: 'nftables' } });
  if (!base.ok) return base;
  for (const daemon of ['zebra', 'ospfd', 'bgpd']) {
    if (!existsSync(`/usr/lib/frr/${daemon}`)) return { ok: false, reason: `missing /usr/lib/frr/${daemon} (Debian package frr)` };
  }
  return base;
}
