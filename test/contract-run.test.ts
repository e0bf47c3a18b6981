/**
 * ../shared/contract/README.md promises: "an agent or server started on a copy with real
 * addresses and certificates does what the comments say". This runs agent.yaml and
 * server.yaml, copied unchanged, on the addresses they state (lab/contract-lab.ts) and checks
 * each comment as a user would: at BIRD, in `quorate status`, with the operator's commands.
 * First ny-1 runs alone, so it sees 1 of 2 votes — a tie the quorum server breaks; then its
 * twin nj-1 (the same file, its own names and addresses) joins.
 */
import { existsSync } from 'node:fs';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EBGP, IBGP } from '../lab/agent-lab.js';
import { community, type BirdRoute } from '../lab/bird.js';
import { CONTRACT_DIR, ContractLab, SITE, type SiteName } from '../lab/contract-lab.js';
import { labRequirements } from '../lab/requirements.js';
import { waitUntil } from '../lab/wait.js';
import { ms } from '../src/core/duration.js';
import type { AgentStatusReport } from '../src/observe/status-report.js';
import type { PlanRow, PlannedRoute } from '../src/plan/plan.js';

const requirements = labRequirements({ programs: { unshare: 'util-linux', nsenter: 'util-linux', bash: 'bash' } });
if (!requirements.ok) console.warn(`contract-run tests skipped: ${requirements.reason}`);

const PAYMENTS_V4 = '203.0.113.10/32';
const PAYMENTS_V6 = '2001:db8:10::10/128';
const DNS_V4 = '203.0.113.53/32';
const DB_V4 = '192.0.2.100/32';
const EVERY_PREFIX = [PAYMENTS_V4, PAYMENTS_V6, DNS_V4, DB_V4];
const EXCLUSIVE_PREFIXES = [PAYMENTS_V4, PAYMENTS_V6, DB_V4];
const ONE_EACH = Object.fromEntries(EXCLUSIVE_PREFIXES.map((p) => [p, 1]));
const STATUS_OUT = '/tmp/contract-status.txt';
const STATUS_TWO_SITES_OUT = '/tmp/contract-status-two-sites.txt';
const PLAN_OUT = '/tmp/contract-plan.txt';
/** agent.yaml's `lease: 4s`, and a margin: long enough for a lease to have ended unrenewed. */
const LEASE_AND_MARGIN = ms(6000);

/** What a host directory holds (names, sizes, modification times): to show nothing changed. */
async function listing(dir: string): Promise<string> {
  const names = (await readdir(dir)).sort();
  const rows = await Promise.all(names.map(async (name) => {
    const s = await stat(join(dir, name)).catch(() => undefined);
    return `${name} ${s?.size ?? '-'} ${s?.mtimeMs ?? '-'}`;
  }));
  return rows.join('\n');
}

/** `65001:10` → the encoding BIRD's parser gives. */
function standard(text: string): number {
  const [asn, value] = text.split(':').map(Number);
  return community(asn ?? 0, value ?? 0);
}

function large(text: string): { global: number; local1: number; local2: number } {
  const [global, local1, local2] = text.split(':').map(Number);
  return { global: global ?? 0, local1: local1 ?? 0, local2: local2 ?? 0 };
}

describe.skipIf(!requirements.ok)('the contract files agent.yaml and server.yaml, run as written', () => {
  let lab: ContractLab;
  let hostBinBefore: string;
  const hostStateDirExisted = existsSync('/var/lib/quorate');

  const status = async (site: SiteName): Promise<AgentStatusReport> => {
    const out = await lab.operator(site, 'status', '--json');
    expect(out.code, out.stderr).toBe(0);
    return JSON.parse(out.stdout) as AgentStatusReport;
  };
  const waitStatus = (site: SiteName, what: string, accept: (s: AgentStatusReport) => boolean): Promise<AgentStatusReport> =>
    waitUntil(async () => {
      const s = await status(site);
      return accept(s) ? s : undefined;
    }, { timeout: ms(20_000), what: `${site}: ${what}` });

  /**
   * Runs `change` while sampling BIRD; resolves with the most sites seen announcing each
   * exclusive prefix at once ("one node of the quorate partition serves it": never two).
   */
  const watchingExclusive = async (change: () => Promise<void>): Promise<Record<string, number>> => {
    const most = new Map(EXCLUSIVE_PREFIXES.map((p) => [p, 0]));
    let watching = true;
    const watch = (async () => {
      while (watching) {
        for (const prefix of EXCLUSIVE_PREFIXES) most.set(prefix, Math.max(most.get(prefix)!, (await lab.announcers(prefix)).length));
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    try {
      await change();
    } finally {
      watching = false;
      await watch;
    }
    return Object.fromEntries(most);
  };

  beforeAll(async () => {
    hostBinBefore = await listing('/usr/local/bin');
    lab = await ContractLab.create('contract');
  }, 60_000);

  afterAll(async () => {
    await lab?.teardown();
  }, 30_000);

  it('`quorate check` accepts both copies and the twin, every file they name in place', async () => {
    expect(await readFile(lab.sites.ny.config, 'utf8')).toBe(await readFile(join(CONTRACT_DIR, 'agent.yaml'), 'utf8'));
    expect(await readFile(lab.serverConfig, 'utf8')).toBe(await readFile(join(CONTRACT_DIR, 'server.yaml'), 'utf8'));
    for (const site of ['ny', 'nj'] as const) {
      const out = await lab.checkAgentConfig(site);
      expect(out.code, out.stdout + out.stderr).toBe(0);
      expect(out.stdout).toMatch(new RegExp(`: ok: agent ${SITE[site].node} of cluster payments, 1 of 2 votes, quorum voting → server 203\\.0\\.113\\.250:7481; runs its own gobgpd`));
      expect(out.stdout + out.stderr, site).not.toMatch(/does not exist/);
    }
    const server = await lab.checkServerConfig();
    expect(server.code, server.stdout + server.stderr).toBe(0);
    expect(server.stdout + server.stderr).not.toMatch(/does not exist|error/);
  });

  it('ny-1 alone sees 1 of 2 votes, a tie, and the quorum server (prefer: ny-1) grants it the lease', async () => {
    await lab.startQuorumServer({ fresh: true });
    await lab.startAgent('ny');
    await lab.waitSessions('ny');
    const quorate = await waitStatus('ny', 'quorate', (s) => s.quorum.quorate);
    expect(quorate.quorum.reason).toMatch(/^server: lease granted by the quorum server \(\d+ ms\)$/);
    expect(quorate.quorum.trail[0]).toMatchObject({ module: 'voting', vote: 'QUORUMTIE' });
    expect(quorate.quorum.leaseRemainingMs).toBeGreaterThan(0);
    expect(quorate.peers).toEqual([expect.objectContaining({ id: 'nj-1', address: '198.51.100.1:7480', seen: false })]);
    expect(lab.server!.logs.some((l) => /^lease of .*payments.* granted to partition/.test(l.msg))).toBe(true);
  });

  it('BIRD receives every prefix with the attributes `quorate plan` prints (eBGP and iBGP)', async () => {
    const plan = await lab.plan('ny', '--format', 'json');
    expect(plan.code, plan.stderr).toBe(0);
    const planned: PlannedRoute[] = (JSON.parse(plan.stdout) as PlanRow[])
      .filter((row) => row.state === 'healthy, quorate')
      .flatMap((row) => row.routes);
    expect(planned.map((r) => r.prefix).sort()).toEqual([...EVERY_PREFIX].sort());

    for (const want of planned) {
      // One route per session: eBGP (AS 65000) and iBGP (AS 65001).
      const routes = await lab.waitRoutes(want.prefix, 2);
      const byProtocol = (name: string): BirdRoute => routes.find((r) => r.protocol === name)!;
      const ebgp = byProtocol(EBGP);
      const ibgp = byProtocol(IBGP);
      for (const route of [ebgp, ibgp]) {
        expect(route.bgp.nextHop[0], want.prefix).toBe(want.nextHop);
        expect(route.bgp.origin).toBe(want.origin);
        expect(route.bgp.med, want.prefix).toBe(want.med);
        expect([...route.bgp.communities].sort(), want.prefix).toEqual((want.communities ?? []).map(standard).sort());
        expect(route.bgp.largeCommunities, want.prefix).toEqual((want.largeCommunities ?? []).map(large));
      }
      // eBGP carries the speaker's AS in the path and no local-pref (BIRD gives its own
      // default); iBGP carries the service's local-pref and an empty path.
      expect(ebgp.bgp.asPath, want.prefix).toEqual([65001]);
      expect(ibgp.bgp.asPath, want.prefix).toEqual([]);
      expect(ibgp.bgp.localPref, want.prefix).toBe(want.localPref ?? 100);
    }
    // What the contract's comments name, spelled out once.
    const payments = (await lab.routes(PAYMENTS_V4, IBGP))[0]!;
    expect(payments.bgp).toMatchObject({ med: 10, localPref: 200, largeCommunities: [{ global: 65001, local1: 1, local2: 10 }] });
    expect(payments.bgp.communities.sort()).toEqual([community(65001, 10), community(65001, 100)]);
    expect((await lab.routes(DNS_V4, EBGP))[0]!.bgp.communities).toEqual([community(65001, 100)]);
    expect((await lab.routes(DB_V4, EBGP))[0]!.bgp.nextHop[0]).toBe(SITE.ny.v4);
  });

  it('`quorate status` lists the three services serving, by bgp, ny-1 holding the exclusive ones', async () => {
    const out = await lab.operator('ny', 'status');
    expect(out.code, out.stderr).toBe(0);
    const table = out.stdout;
    expect(table).toMatch(/^node ny-1 of cluster payments, up /m);
    expect(table).toMatch(/^quorum: held \(server: lease granted by the quorum server \(\d+ ms\), lease \d+\.\ds left\)$/m);
    expect(table).toMatch(/^payments-api +exclusive +healthy +serving +bgp +ny-1 +203\.0\.113\.10\/32 2001:db8:10::10\/128 /m);
    expect(table).toMatch(/^dns +anycast +healthy +serving +bgp +- +203\.0\.113\.53\/32 /m);
    expect(table).toMatch(/^db-vip +exclusive +healthy +serving +bgp +ny-1 +192\.0\.2\.100\/32 /m);
    expect(table).toMatch(/^dns: exec \/usr\/local\/bin\/check-dns --quick +up /m);
    expect(table).toMatch(/^nj-1 +198\.51\.100\.1:7480 +1 +NO /m);
    expect(table).toMatch(/^192\.0\.2\.2 +65000 +ESTABLISHED$/m);
    // The exec check ran the script the config names, with its argument.
    expect(await lab.checkDnsRuns('ny')).toContain('--quick');

    const plan = await lab.plan('ny');
    expect(plan.code, plan.stderr).toBe(0);
    console.log(`quorate status -c agent.yaml (contract copy, ny-1 alone, serving on the quorum server's lease):\n${table}`);
    console.log(`quorate plan -c agent.yaml (contract copy):\n${plan.stdout}`);
    await writeFile(STATUS_OUT, table);
    await writeFile(PLAN_OUT, plan.stdout);
  });

  it('`quorate drain payments-api` withdraws it at BIRD; `undrain` brings it back', async () => {
    const drained = await lab.operator('ny', 'drain', 'payments-api');
    expect(drained.code, drained.stderr).toBe(0);
    expect(drained.stdout).toMatch(/^payments-api: drained \(agent on .*\); no other node serves it now$/m);
    await lab.waitRoutes(PAYMENTS_V4, 0);
    await lab.waitRoutes(PAYMENTS_V6, 0);
    expect(await lab.routes(DNS_V4)).toHaveLength(2);
    expect(await lab.routes(DB_V4)).toHaveLength(2);
    expect(existsSync(join(lab.stateDir('ny'), 'maintenance', 'payments-api'))).toBe(true);
    expect((await lab.operator('ny', 'status')).stdout).toMatch(/^payments-api +exclusive +healthy +drained /m);

    const undrained = await lab.operator('ny', 'undrain', 'payments-api');
    expect(undrained.code, undrained.stderr).toBe(0);
    await lab.waitRoutes(PAYMENTS_V4, 2);
    await lab.waitRoutes(PAYMENTS_V6, 2);
    expect(existsSync(join(lab.stateDir('ny'), 'maintenance', 'payments-api'))).toBe(false);
  });

  it('nj-1 absent, quorum server stopped: "a final tie is no quorum", ny withdraws everything when its lease ends', async () => {
    await lab.stopQuorumServer();
    for (const prefix of EVERY_PREFIX) await lab.waitRoutes(prefix, 0);
    const s = await status('ny');
    expect(s.quorum.quorate).toBe(false);
    expect(s.quorum.reason).toMatch(/^server: .*\(a tie from the last module is no quorum\)$/);
    expect(s.services.map((v) => [v.name, v.serving])).toEqual([['payments-api', false], ['dns', false], ['db-vip', false]]);
    // Not by ARP either: db-vip's fallback needs quorum too.
    expect(s.arp?.held ?? []).toEqual([]);
    expect((await lab.sites.ny.ns.ip(['-o', 'addr', 'show', 'dev', 'eth0'])).stdout).not.toMatch(/192\.0\.2\.100\//);
  });

  it('the quorum server restarted from its state file grants ny-1 the lease again', async () => {
    await lab.startQuorumServer();
    expect(lab.server!.logs.some((l) => l.msg === 'resumed the recorded leases')).toBe(true);
    await waitStatus('ny', 'quorate again', (s) => s.quorum.quorate && /^server: lease granted/.test(s.quorum.reason));
    for (const prefix of EVERY_PREFIX) await lab.waitRoutes(prefix, 2);
  });

  it('the twin nj-1 joins: 2 of 2 votes, dns from both sites, each exclusive service from one (equal priority: the lowest id, nj-1)', async () => {
    // The handover is watched at BIRD throughout: "one node serves it" means never two.
    const mostAnnouncers = await watchingExclusive(async () => {
      await lab.startAgent('nj');
      await lab.waitSessions('nj');
      for (const site of ['ny', 'nj'] as const) {
        await waitStatus(site, 'quorate by 2 of 2 votes', (s) => s.quorum.reason === 'voting: 2 of 2 votes visible');
      }
      await lab.waitAnnouncers(DNS_V4, ['ny', 'nj']);
      for (const prefix of EXCLUSIVE_PREFIXES) await lab.waitAnnouncers(prefix, ['nj']);
    });
    expect(mostAnnouncers).toEqual(ONE_EACH);
    const ny = await waitStatus('ny', 'sees nj-1 holding both exclusive services', (s) =>
      s.services.every((v) => v.mode === 'anycast' || v.holder === 'nj-1'));
    const nj = await status('nj');
    expect(nj.services.map((v) => [v.name, v.serving, v.holder ?? '-'])).toEqual([['payments-api', true, 'nj-1'], ['dns', true, '-'], ['db-vip', true, 'nj-1']]);
    expect(ny.services.map((v) => [v.name, v.serving])).toEqual([['payments-api', false], ['dns', true], ['db-vip', false]]);
    // The twin's own addresses are its next hops; db-vip goes by BGP (nj's eth0 has no address
    // in 192.0.2.100's subnet, so ARP is not usable there, as the comment says).
    expect((await lab.routes(PAYMENTS_V6)).map((r) => r.bgp.nextHop[0])).toEqual([SITE.nj.v6]);
    expect(nj.arp?.interfaces['db-vip']).not.toBe('usable');

    const table = (await lab.operator('ny', 'status')).stdout;
    console.log(`quorate status -c agent.yaml (contract copy, ny-1 with its twin nj-1 up):\n${table}`);
    await writeFile(STATUS_TWO_SITES_OUT, table);
  });

  it('health decides: the highest healthy priority serves an exclusive service, every healthy node an anycast one', async () => {
    const nj = lab.sites.nj.services;
    const ny = lab.sites.ny.services;
    const mostAnnouncers = await watchingExclusive(async () => {
      nj.paymentsApi.failHealth(); // /healthz answers 503
      await lab.waitAnnouncers(PAYMENTS_V4, ['ny']);
      await lab.waitAnnouncers(PAYMENTS_V6, ['ny']);
      expect(await lab.announcers(DB_V4)).toEqual(['nj']);
      nj.paymentsApi.restoreHealth(); // healthy again: equal priority, so back to the lowest id
      await lab.waitAnnouncers(PAYMENTS_V4, ['nj']);
      await lab.waitAnnouncers(PAYMENTS_V6, ['nj']);
    });
    expect(mostAnnouncers).toEqual(ONE_EACH);

    await ny.dns.stop(); // nothing accepts on 127.0.0.1:53 at ny
    await lab.waitAnnouncers(DNS_V4, ['nj']);
    expect((await status('ny')).services.find((v) => v.name === 'dns')).toMatchObject({ healthy: false, serving: false });
    lab.sites.ny.services.dns = await ny.dns.restart();
    await lab.waitAnnouncers(DNS_V4, ['nj', 'ny'], ms(30_000));
  });

  it('both sites up, quorum server down: both keep serving', async () => {
    await lab.stopQuorumServer();
    // Sampled for longer than a lease: nothing that leaned on the server would outlive it.
    const until = Date.now() + LEASE_AND_MARGIN;
    let samples = 0;
    while (Date.now() < until) {
      expect(await lab.announcers(DNS_V4)).toEqual(['nj', 'ny']);
      expect(await lab.announcers(PAYMENTS_V4)).toEqual(['nj']);
      samples++;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(samples).toBeGreaterThan(10);
    expect((await status('ny')).quorum).toMatchObject({ quorate: true, reason: 'voting: 2 of 2 votes visible' });
  });

  it('then nj-1 stops: ny sees a tie that nobody breaks, and withdraws everything', async () => {
    await lab.stopAgent('nj');
    for (const prefix of EVERY_PREFIX) await lab.waitAnnouncers(prefix, []);
    const s = await waitStatus('ny', 'no quorum', (v) => !v.quorum.quorate);
    expect(s.quorum.reason).toMatch(/\(a tie from the last module is no quorum\)$/);
    expect(s.services.every((v) => !v.serving)).toBe(true);
  });

  it('leaves the host alone: /usr/local/bin unchanged, no /var/lib/quorate made', async () => {
    expect(await listing('/usr/local/bin')).toBe(hostBinBefore);
    expect(existsSync('/usr/local/bin/check-dns')).toBe(false);
    expect(existsSync('/var/lib/quorate')).toBe(hostStateDirExisted);
    // The agents' state went where the mounts put it.
    expect(existsSync(join(lab.stateDir('ny'), 'control.sock'))).toBe(true);
  });
});
