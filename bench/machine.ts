/** The machine and the daemons' versions, recorded with every result. */
import { readFileSync } from 'node:fs';
import { availableParallelism, release } from 'node:os';
import { run } from '../lab/netns.js';
import { DEBIAN_PYTHON } from '../lab/exabgp.js';

export interface MachineInfo {
  nproc: number;
  cpu: string;
  kernel: string;
  node: string;
  gobgpd: string;
  bird: string;
  exabgp: string;
  loadAverageAtStart: string;
}

export async function machineInfo(): Promise<MachineInfo> {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const cpu = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown';
  const version = async (command: string, args: string[], pattern: RegExp): Promise<string> => {
    const out = await run(command, args, { allowFailure: true });
    return pattern.exec(`${out.stdout}\n${out.stderr}`)?.[1] ?? 'unknown';
  };
  return {
    nproc: availableParallelism(),
    cpu,
    kernel: release(),
    node: process.version,
    gobgpd: await version('gobgpd', ['--version'], /version\s+(\S+)/i),
    bird: await version('bird', ['--version'], /BIRD version\s+(\S+)/i),
    exabgp: await version(DEBIAN_PYTHON, ['-m', 'exabgp', '--version'], /ExaBGP\s*:\s*(\S+)/i),
    loadAverageAtStart: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
  };
}
