/**
 * The exabgp baseline works as lab/exabgp-notes.md says: Debian's exabgp with its health
 * checker, in a namespace, peered with BIRD, announces while the check passes and
 * withdraws when it fails.
 */
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ms } from '../src/core/duration.js';
import { parsePrefix } from '../src/core/prefix.js';
import { startBird, type BirdInstance } from '../lab/bird.js';
import { startExabgp } from '../lab/exabgp.js';
import { Lab, listNamespaces } from '../lab/netns.js';
import { labRequirements } from '../lab/requirements.js';

const requirements = labRequirements({ programs: { exabgp: 'exabgp' } });
if (!requirements.ok) console.warn(`lab-exabgp tests skipped: ${requirements.reason}`);

const TIMEOUT = ms(30_000);
const VIP = parsePrefix('203.0.113.50/32');

describe.skipIf(!requirements.ok)('exabgp healthcheck baseline against BIRD', () => {
  let lab: Lab;
  let bird: BirdInstance;
  let healthFile: string;

  beforeAll(async () => {
    lab = await Lab.create('exabgp');
    const router = await lab.namespace('r');
    const speaker = await lab.namespace('s');
    await lab.veth(
      { ns: speaker, device: 'eth0', addresses: ['192.0.2.65/26'] },
      { ns: router, device: 'eth0', addresses: ['192.0.2.66/26'] },
    );
    bird = await startBird(lab, router, {
      routerId: '192.0.2.66',
      neighbors: [{ name: 'exa', address: '192.0.2.65', localAs: 65102, peerAs: 65101, families: ['ipv4'] }],
    });
    healthFile = join(await lab.tempDir('health'), 'healthy');
    await writeFile(healthFile, 'ok\n');
    await startExabgp(lab, speaker, {
      routerId: '192.0.2.65',
      localAddress: '192.0.2.65',
      localAs: 65101,
      neighbor: '192.0.2.66',
      peerAs: 65102,
      healthcheck: {
        command: `test -e ${healthFile}`,
        prefixes: [VIP],
        nextHop: '192.0.2.65',
        interval: 0.5,
        fastInterval: 0.1,
        rise: 1,
        fall: 1,
        timeout: 1,
      },
    });
  });

  afterAll(async () => {
    await lab?.teardown();
  });

  it('announces while healthy, withdraws when the check fails, re-announces when it passes', async () => {
    await bird.control.waitEstablished('exa', TIMEOUT);
    const present = (want: boolean) =>
      bird.control.waitFor(async (b) => ((await b.showRoute(VIP)).length > 0) === want || undefined, TIMEOUT, {
        what: `${VIP.key} ${want ? 'announced' : 'withdrawn'} at BIRD`,
      });

    await present(true);
    const [route] = await bird.control.showRoute(VIP);
    expect(route).toMatchObject({ protocol: 'exa', bgp: { origin: 'igp', med: 100, asPath: [65101], nextHop: ['192.0.2.65'] } });

    await rm(healthFile);
    await present(false);

    await writeFile(healthFile, 'ok\n');
    await present(true);
  });

  it('leaves none of its namespaces behind', async () => {
    await lab.teardown();
    expect((await listNamespaces()).filter((name) => name.startsWith(lab.prefix))).toEqual([]);
  });
});
