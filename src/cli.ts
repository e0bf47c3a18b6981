import { Command } from 'commander';

/** `quorate <command>`: the entry point of bin/quorate. */
export async function main(argv: string[]): Promise<void> {
  const program = new Command('quorate')
    .description('Failover agent: announces a service\'s prefixes through GoBGP only while it is healthy and its node holds quorum')
    .version('0.1.0');
  await program.parseAsync(argv, { from: 'user' });
}
