/**
 * (issue 4, item 6) `arp`: the outage a client on the segment sees when the address of an
 * exclusive service moves by ARP, quorate beside keepalived on the same lab in the same run.
 *
 * Lab: the cluster lab with three sites (NY, NJ, CH) on one bridge and its ARP side
 * (lab/cluster-lab-arp.ts): whoami bound to 192.0.2.100 / 2001:db8:2::100 at every site, a
 * client probing both every 10 ms over UDP and watching gratuitous ARPs / NAs, and here also
 * `ip monitor address` at every site (who holds the address, by the kernels). CH is the
 * holder; NY takes over. Outage = last answer before the fault → first answer from the new
 * holder (IPv4; IPv6 in the facts). Faults and restores: bench/arp-quorate.ts and
 * bench/arp-keepalived.ts.
 *
 * Targets (issue 4): service death median < 250 ms; host death ≤ dead-after + interval +
 * 300 ms = 700 ms; agent death ≤ dead-after + lifetime + 300 ms = 2,600 ms with never two
 * holders.
 */
import { ms, type Millis } from '../src/core/duration.js';
import { addArpSide, VIP_V4, VIP_V6, type ArpSide } from '../lab/cluster-lab-arp.js';
import { ClusterLab, type Site } from '../lab/cluster-lab.js';
import { run } from '../lab/netns.js';
import { labRequirements } from '../lab/requirements.js';
import { waitUntil } from '../lab/wait.js';
import { AddressWatch } from './arp-address-watch.js';
import { KEEPALIVED_CHECK, KEEPALIVED_PRIORITY, runKeepalivedArp, type KeepalivedCase } from './arp-keepalived.js';
import { QUORATE_ARP_SETTINGS, runQuorateArp, type QuorateCase } from './arp-quorate.js';
import type { ArpBenchLab, TakeoverRecord } from './arp-trial.js';
import type { BenchContext } from './context.js';
import { row, type BenchmarkResult, type Row } from './measurement.js';
import { summarize } from './summary.js';

const S = QUORATE_ARP_SETTINGS;
const TARGET = {
  service: ms(250),
  host: ms(S.deadAfter + S.heartbeatInterval + 300),
  agent: ms(S.deadAfter + S.lifetime + 300),
};

export async function arpFailoverBench(ctx: BenchContext): Promise<BenchmarkResult> {
  const requirements = labRequirements({ programs: { keepalived: 'keepalived', tcpdump: 'tcpdump', arping: 'iputils-arping', na6: 'ipv6toolkit' } });
  if (!requirements.ok) throw new Error(`bench arp: cannot run: ${requirements.reason}`);
  const n = ctx.trials;
  const source = await sourceRevision();
  let arp: ArpSide | undefined;
  const { quorate, keepalived } = await ctx.withLab(
    async () => (await ClusterLab.up({
      tag: 'barp', sites: 3, tls: 'mutual',
      heartbeat: { interval: `${S.heartbeatInterval}ms`, deadAfter: `${S.deadAfter}ms` },
      agents: { votingOnly: true, vip: { via: ['arp'], only: true } },
    }, async (l) => { arp = await addArpSide(l); })).lab,
    async (lab) => {
      // BIRD has nothing to say about an ARP-only cluster: its sampler would only cost CPU.
      await lab.sampler?.stop();
      lab.sampler = undefined;
      const sites = new Map(lab.members.map((s): [Site, typeof lab.sites.ch.ns] => [s, lab.sites[s].ns]));
      const b: ArpBenchLab = { lab, arp: arp!, watch: await AddressWatch.start(lab.lab, sites, [VIP_V4, VIP_V6]) };
      const quorate = await runQuorateArp(b, ctx, { service: n, host: n, agent: n });
      for (const site of lab.members) await lab.stopAgent(site);
      await waitUntil(() => b.watch.holders(VIP_V4).length === 0 && b.watch.holders(VIP_V6).length === 0, { timeout: ms(10_000), what: 'stopped agents to release the address' });
      const keepalived = await runKeepalivedArp(b, ctx, { service: n, host: n, 'agent-kill': n, 'agent-crash': n });
      return { quorate, keepalived };
    },
  );

  const q = quorate.trials;
  const k = keepalived.trials;
  const failures = [...quorate.failures, ...keepalived.failures];
  const outage = (r: readonly TakeoverRecord[]): Millis[] => r.map((t) => t.outage);
  const pick = (r: readonly TakeoverRecord[], f: (t: TakeoverRecord) => Millis | undefined): Millis[] => r.map(f).filter((v): v is Millis => v !== undefined);
  const count = (r: readonly TakeoverRecord[], f: (t: TakeoverRecord) => boolean): number => r.filter(f).length;
  const rows: Row[] = [
    row('a. service death (whoami SIGKILL): outage', 'quorate', outage(q.service), [{ stat: 'median', below: TARGET.service }]),
    row('a. service death (whoami SIGKILL): outage', 'keepalived', outage(k.service)),
    row('b. host death (link down + SIGKILL all): outage', 'quorate', outage(q.host), [{ stat: 'median', below: TARGET.host }, { stat: 'p99', below: TARGET.host }]),
    row('b. host death (link down + SIGKILL all): outage', 'keepalived', outage(k.host)),
    row('c. agent death (SIGKILL, host alive): outage', 'quorate', outage(q.agent), [{ stat: 'median', below: TARGET.agent }, { stat: 'p99', below: TARGET.agent }]),
    row('c. agent death: longest silence', 'quorate', q.agent.map((t) => t.silence), [], 'CH answers until its address expires'),
    row('c. agent death: two holders (kernels, IPv4)', 'quorate', q.agent.map((t) => t.twoHolders), [{ stat: 'max', below: 1 }]),
    row('c. agent death: two holders (kernels, IPv6)', 'quorate', q.agent.map((t) => t.twoHoldersV6), [{ stat: 'max', below: 1 }]),
    row('c. agent death: CH copy expired → NY added it', 'quorate', q.agent.map((t) => ms((t.newAddressAfter ?? NaN) - (t.oldAddressGoneAfter ?? NaN)))),
    row('c. keepalived SIGKILL (child releases): outage', 'keepalived', outage(k['agent-kill'])),
    row('c. keepalived SIGKILL: two holders (kernels, IPv4)', 'keepalived', k['agent-kill'].map((t) => t.twoHolders)),
    row('c. keepalived crash (child too): outage', 'keepalived', outage(k['agent-crash'])),
    row('c. keepalived crash: longest silence', 'keepalived', k['agent-crash'].map((t) => t.silence)),
    row('c. keepalived crash: two holders (kernels, IPv4)', 'keepalived', k['agent-crash'].map((t) => t.twoHolders), [], 'observed until 500 ms after the takeover: open-ended'),
  ];

  const all: [string, readonly TakeoverRecord[]][] = [
    ...(['service', 'host', 'agent'] as QuorateCase[]).map((c): [string, readonly TakeoverRecord[]] => [`quorate ${c}`, q[c]]),
    ...(['service', 'host', 'agent-kill', 'agent-crash'] as KeepalivedCase[]).map((c): [string, readonly TakeoverRecord[]] => [`keepalived ${c}`, k[c]]),
  ];
  const perCase = Object.fromEntries(all.map(([name, r]) => [name, {
    trials: r.length,
    newHolders: [...new Set(r.map((t) => t.newHolder))],
    outageV6: summarize(pick(r, (t) => t.outageV6)),
    silence: summarize(r.map((t) => t.silence)),
    oldAddressGoneAfter: summarize(pick(r, (t) => t.oldAddressGoneAfter)),
    newAddressAfter: summarize(pick(r, (t) => t.newAddressAfter)),
    oldAddressGoneAfterV6: summarize(pick(r, (t) => t.oldAddressGoneAfterV6)),
    newAddressAfterV6: summarize(pick(r, (t) => t.newAddressAfterV6)),
    trialsWithTwoHolders: count(r, (t) => t.twoHolders > 0),
    trialsWithTwoHoldersV6: count(r, (t) => t.twoHoldersV6 > 0),
    twoHoldersV6: summarize(r.map((t) => t.twoHoldersV6)),
    twoNodeAnswerWindows: r.flatMap((t, i) => t.twoAnswerDetail.map((d) => `trial ${i + 1}: ${d}`)),
    trialsWithTwoNodeAnswerWindows: count(r, (t) => t.twoAnswerWindows > 0),
    trialsWithTwoMacGarpWindows: count(r, (t) => t.twoGarpWindows > 0),
  }]));
  const notNy = all.filter(([, r]) => r.some((t) => t.newHolder !== S.nodes.ny)).map(([name]) => name);
  const neverTwo = q.agent.every((t) => t.twoHolders === 0 && t.twoHoldersV6 === 0 && t.twoAnswerWindows === 0 && t.twoGarpWindows === 0);
  return {
    name: 'arp',
    settings: {
      trials: n,
      source,
      lab: 'cluster lab, three sites (NY 192.0.2.1, NJ .2, CH .3) + client .200 on one bridge; service address 192.0.2.100/32 and 2001:db8:2::100/128; whoami (UDP 7000, health TCP 127.0.0.1:7100) at every site',
      prober: 'UDP to both addresses every 10 ms from the client; outage = last answer before the fault → first answer from the new holder (IPv4)',
      quorate: `ARP-only agents (no speaker), mutual TLS, votingOnly (no quorum server in the chain); tcp check interval ${S.checkInterval} ms, timeout ${S.checkTimeout} ms, rise ${S.rise}, fall ${S.fall}; heartbeat ${S.heartbeatInterval} ms, dead-after ${S.deadAfter} ms; address lifetime ${S.lifetime} ms; takeover probes and garp at their defaults (3 × arping -D 60 ms; garp 3 rounds 200 ms apart); priorities CH 300, NY 200, NJ 100, preempt`,
      keepalived: `keepalived (Debian) --vrrp, VRRPv3 multicast, advert_int 0.01, vrrp_script interval 1 timeout 1 fall 1 rise 1: ${KEEPALIVED_CHECK}; priorities CH ${KEEPALIVED_PRIORITY.ch}, NY ${KEEPALIVED_PRIORITY.ny}, NJ ${KEEPALIVED_PRIORITY.nj}, preempt; garp_master_delay 0, garp_master_repeat 5`,
      faults: 'service: SIGKILL whoami at CH; host: bridge port p-ch down + SIGKILL of the agent (keepalived: parent and VRRP child) and whoami at once; agent: SIGKILL of the agent only (keepalived: kill() = parent SIGKILL, child releases; crash() = child and parent SIGKILL)',
      targets: TARGET,
    },
    rows,
    notes: [
      `Targets: a median < ${TARGET.service} ms; b ≤ dead-after ${S.deadAfter} + interval ${S.heartbeatInterval} + 300 = ${TARGET.host} ms; c ≤ dead-after ${S.deadAfter} + lifetime ${S.lifetime} + 300 = ${TARGET.agent} ms, never two holders.`,
      `quorate agent death: never two holders (kernels IPv4 and IPv6, client answers within 20 ms, GARPs within 20 ms) in every trial: ${neverTwo ? 'yes' : 'NO'}` +
        ` (kernels IPv4 ${count(q.agent, (t) => t.twoHolders > 0)}, IPv6 ${count(q.agent, (t) => t.twoHoldersV6 > 0)}, answers ${count(q.agent, (t) => t.twoAnswerWindows > 0)}, GARPs ${count(q.agent, (t) => t.twoGarpWindows > 0)} of ${q.agent.length} trials).`,
      'Host death: the old holder\'s kernel keeps its copy while its link is down (nobody can reach it), so its "two holders" by the kernels is not a split brain and is not reported as one.',
      `keepalived crash: two holders in ${perCase['keepalived agent-crash']!.trialsWithTwoHolders}/${k['agent-crash'].length} trials (CH keeps its copy until removed by hand; the bench removes it).`,
      ...(notNy.length ? [`A node other than NY took over in: ${notNy.join(', ')}.`] : []),
      ...(failures.length ? [`${failures.length} trial(s) failed and are left out of the rows (the lab was recovered and the series went on): ${failures.map((f) => f.trial).join(', ')}; reasons in facts.trialFailures.`] : []),
      'Both tools run on the same namespaces, one after the other (quorate agents stopped before keepalived starts), with the same prober and watchers.',
    ],
    facts: { perCase, quorateTakeoverLogs: quorate.takeoverLogs, trialFailures: failures },
  };
}

/** The commit the agents were built from, and whether src/ had changes on top (the figures move with the product). */
async function sourceRevision(): Promise<string> {
  const head = await run('git', ['rev-parse', '--short', 'HEAD'], { allowFailure: true });
  const dirty = await run('git', ['status', '--porcelain', '--', 'src'], { allowFailure: true });
  if (head.code !== 0) return 'unknown (no git)';
  return `${head.stdout.trim()}${dirty.stdout.trim() ? ' + uncommitted changes in src/' : ''}`;
}
