/**
 * The pure parts of the ARP edge, without namespaces: lifetime rounding, interface state
 * parsing and usability, the tool command lines, the option defaults and their checks.
 */
import { describe, expect, it } from 'vitest';
import { ms } from '../src/core/duration.js';
import { parsePrefix } from '../src/core/prefix.js';
import { ARP_DEFAULTS, arpOptions } from '../src/arp/arp-options.js';
import { parseProbeOutput } from '../src/arp/duplicate-probe.js';
import { announceCommand } from '../src/arp/gratuitous.js';
import { kernelLifetime } from '../src/arp/host-address.js';
import { arpUsability, parseInterfaceState, type InterfaceState } from '../src/arp/interface-state.js';

/** Trimmed real output of `ip -j addr show dev e0` for a veth in a lab namespace. */
const VETH_JSON = JSON.stringify([
  {
    ifindex: 2, ifname: 'e0', flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'], mtu: 1500, operstate: 'UP', link_type: 'ether',
    address: '36:D9:4b:7d:a4:3d',
    addr_info: [
      { family: 'inet', local: '198.51.100.2', prefixlen: 24, scope: 'global', valid_life_time: 4294967295, preferred_life_time: 4294967295 },
      { family: 'inet', local: '198.51.100.10', prefixlen: 32, scope: 'global', dynamic: true, valid_life_time: 2, preferred_life_time: 2 },
      { family: 'inet6', local: '2001:db8:5::2', prefixlen: 64, scope: 'global', nodad: true, valid_life_time: 4294967295, preferred_life_time: 4294967295 },
      { family: 'inet6', local: 'fe80::34d9:4bff:fe7d:a43d', prefixlen: 64, scope: 'link', tentative: true, valid_life_time: 4294967295, preferred_life_time: 4294967295 },
    ],
  },
]);

const state = (over: Partial<InterfaceState> = {}): InterfaceState => ({ ...parseInterfaceState(VETH_JSON, 'e0')!, ...over });

describe('kernelLifetime: whole seconds, rounded down, never past what is allowed', () => {
  it('takes the configured lifetime when the validity allows more', () => {
    expect(kernelLifetime(ms(2000), ms(60_000))).toEqual({ hold: true, lifetime: expect.objectContaining({ seconds: 2 }) });
  });
  it('rounds the allowed time down, never up', () => {
    expect(kernelLifetime(ms(5000), ms(2999))).toEqual({ hold: true, lifetime: expect.objectContaining({ seconds: 2 }) });
    expect(kernelLifetime(ms(2500), ms(60_000))).toEqual({ hold: true, lifetime: expect.objectContaining({ seconds: 2 }) });
    expect(kernelLifetime(ms(5000), ms(1000))).toEqual({ hold: true, lifetime: expect.objectContaining({ seconds: 1 }) });
  });
  it('says "do not hold" below one second, at zero and when the validity has passed', () => {
    for (const allowed of [999, 0, -500, NaN]) expect(kernelLifetime(ms(2000), ms(allowed)).hold).toBe(false);
  });
});

describe('interface state from ip -j addr', () => {
  it('reads up, MAC (lower case), addresses and lifetimes (forever = undefined)', () => {
    const s = parseInterfaceState(VETH_JSON, 'e0')!;
    expect(s.up).toBe(true);
    expect(s.mac).toBe('36:d9:4b:7d:a4:3d');
    expect(s.addresses.map((a) => [a.address, a.prefixLength, a.family, a.validLft, a.tentative])).toEqual([
      ['198.51.100.2', 24, 4, undefined, false],
      ['198.51.100.10', 32, 4, 2, false],
      ['2001:db8:5::2', 64, 6, undefined, false],
      ['fe80::34d9:4bff:fe7d:a43d', 64, 6, undefined, true],
    ]);
  });
  it('is undefined for an interface the output does not hold', () => {
    expect(parseInterfaceState(VETH_JSON, 'e1')).toBeUndefined();
  });
  it('is down without carrier (veth peer down) or when set down', () => {
    const noCarrier = JSON.parse(VETH_JSON) as Record<string, unknown>[];
    noCarrier[0]!.flags = ['NO-CARRIER', 'BROADCAST', 'MULTICAST', 'UP'];
    noCarrier[0]!.operstate = 'DOWN';
    expect(parseInterfaceState(JSON.stringify(noCarrier), 'e0')!.up).toBe(false);
    noCarrier[0]!.flags = ['BROADCAST', 'MULTICAST'];
    expect(parseInterfaceState(JSON.stringify(noCarrier), 'e0')!.up).toBe(false);
  });
});

describe('arpUsability', () => {
  it('is usable for a host address inside a subnet of the interface (IPv4 and IPv6)', () => {
    expect(arpUsability(state(), parsePrefix('198.51.100.10/32'))).toEqual({ usable: true });
    expect(arpUsability(state(), parsePrefix('198.51.100.254/32'))).toEqual({ usable: true });
    expect(arpUsability(state(), parsePrefix('2001:db8:5::10/128'))).toEqual({ usable: true });
  });
  it('is not usable outside every subnet of the interface, with the reason', () => {
    const r = arpUsability(state(), parsePrefix('203.0.113.10/32'));
    expect(r).toEqual({ usable: false, reason: expect.stringContaining('no IPv4 address in a subnet containing 203.0.113.10') });
    expect(arpUsability(state(), parsePrefix('2001:db8:6::10/128')).usable).toBe(false);
  });
  it('does not count the service address itself, nor other host addresses, as the subnet', () => {
    const onlyVip = state({ addresses: state().addresses.filter((a) => a.prefixLength === 32) });
    expect(arpUsability(onlyVip, parsePrefix('198.51.100.10/32')).usable).toBe(false);
  });
  it('does not count a tentative IPv6 address', () => {
    const onlyLinkLocal = state({ addresses: state().addresses.filter((a) => a.tentative) });
    expect(arpUsability(onlyLinkLocal, parsePrefix('fe80::10/128')).usable).toBe(false);
  });
  it('is not usable when the interface is down or missing, or for a prefix that is not one host', () => {
    expect(arpUsability(state({ up: false, operstate: 'DOWN' }), parsePrefix('198.51.100.10/32'))).toEqual({ usable: false, reason: expect.stringContaining('not up') });
    expect(arpUsability(undefined, parsePrefix('198.51.100.10/32'))).toEqual({ usable: false, reason: 'interface does not exist' });
    expect(arpUsability(state(), parsePrefix('198.51.100.0/28'))).toEqual({ usable: false, reason: expect.stringContaining('not a host address') });
  });
});

describe('tool command lines', () => {
  it('IPv4: arping -U for the request form, -A for the reply form, one packet each', () => {
    const vip = parsePrefix('198.51.100.10/32');
    expect(announceCommand('e0', vip, 'request')).toEqual(['arping', '-U', '-c', '1', '-I', 'e0', '-s', '198.51.100.10', '198.51.100.10']);
    expect(announceCommand('e0', vip, 'reply')).toEqual(['arping', '-A', '-c', '1', '-I', 'e0', '-s', '198.51.100.10', '198.51.100.10']);
  });
  it('IPv6: one unsolicited NA with override flag and target link-layer option to all nodes', () => {
    expect(announceCommand('e0', parsePrefix('2001:db8:5::10/128'), 'request')).toEqual(['na6', '-i', 'e0', '-s', '2001:db8:5::10', '-d', 'ff02::1', '-t', '2001:db8:5::10', '-o', '-e']);
  });
});

describe('ARP options', () => {
  it('has documented defaults', () => {
    expect(ARP_DEFAULTS).toEqual({ lifetime: 2000, garp: { forms: ['request', 'reply'], count: 3, interval: 200, refresh: 10_000 }, syncInterval: 1000 });
    expect(arpOptions()).toEqual(ARP_DEFAULTS);
  });
  it('merges what is given over the defaults', () => {
    expect(arpOptions({ lifetime: ms(3000), garp: { count: 5 } })).toMatchObject({ lifetime: 3000, garp: { count: 5, interval: 200, forms: ['request', 'reply'] } });
  });
  it('rejects a lifetime the kernel cannot hold, and empty forms', () => {
    expect(() => arpOptions({ lifetime: ms(500) })).toThrow(/whole seconds/);
    expect(() => arpOptions({ lifetime: ms(1500) })).toThrow(/whole seconds/);
    expect(() => arpOptions({ garp: { forms: [] } })).toThrow(/at least one/);
    expect(() => arpOptions({ garp: { count: 0 } })).toThrow(/at least 1/);
  });
});

describe('arping -D output', () => {
  it('a reply means in use, with the MAC that answered', () => {
    const out = 'ARPING 198.51.100.10 from 0.0.0.0 e0\nUnicast reply from 198.51.100.10 [36:D9:4B:7D:A4:3D]  0.549ms\nSent 1 probes (1 broadcast(s))\nReceived 1 response(s)\n';
    expect(parseProbeOutput(1, out)).toEqual({ inUse: true, mac: '36:d9:4b:7d:a4:3d' });
  });
  it('no reply to a probe that was sent means free', () => {
    expect(parseProbeOutput(0, 'ARPING 198.51.100.77 from 0.0.0.0 e0\nSent 2 probes (2 broadcast(s))\nReceived 0 response(s)\n')).toEqual({ inUse: false });
  });
  it('an error, or a probe never sent, is not an answer (arping exits 1 on a bad argument too)', () => {
    expect(parseProbeOutput(1, '')).toBeUndefined();
    expect(parseProbeOutput(0, 'Sent 0 probes (0 broadcast(s))\nReceived 0 response(s)\n')).toBeUndefined();
    expect(parseProbeOutput(2, 'arping: Device e9 not available.')).toBeUndefined();
  });
});
