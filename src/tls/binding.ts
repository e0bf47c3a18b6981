/**
 * How a certificate says who holds it (README: "Identity: mutual TLS from one CA"). One CA signs every certificate of a
 * deployment; the identity is carried in URI subjectAltNames, which OpenSSL and every PKI can
 * issue and which cannot be confused with host names:
 *
 *   urn:quorate:node:<cluster>:<node-id>   a node of one cluster (client and server side)
 *   urn:quorate:server                     the quorum server
 *
 * Cluster names and node ids match NAME_RE, so `:` never appears inside them and the URI
 * splits without ambiguity. The CN is informative only (the node id); nothing trusts it.
 */
import type { ClusterName, NodeId } from '../core/ids.js';
import { clusterName, nodeId } from '../core/ids.js';

/** The names config accepts for clusters and nodes; also what a binding may contain. */
export const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

const NODE_PREFIX = 'urn:quorate:node:';
export const SERVER_BINDING_URI = 'urn:quorate:server';

export interface NodeBinding { readonly kind: 'node'; readonly cluster: ClusterName; readonly node: NodeId }
export interface ServerBinding { readonly kind: 'server' }
export type Binding = NodeBinding | ServerBinding;

export function nodeBindingUri(cluster: ClusterName, node: NodeId): string {
  if (!NAME_RE.test(cluster)) throw new Error(`cluster name "${cluster}" cannot be bound in a certificate (allowed: ${NAME_RE.source})`);
  if (!NAME_RE.test(node)) throw new Error(`node id "${node}" cannot be bound in a certificate (allowed: ${NAME_RE.source})`);
  return `${NODE_PREFIX}${cluster}:${node}`;
}

/**
 * What the URI SANs of a certificate bind. `subjectaltname` is Node's rendering
 * (`URI:urn:…, DNS:…, IP Address:…`). URIs under urn:quorate: that do not parse are returned
 * as `malformed`, so a caller can refuse them rather than ignore them.
 */
export function parseBindings(subjectaltname: string | undefined): { bindings: Binding[]; malformed: string[] } {
  const bindings: Binding[] = [];
  const malformed: string[] = [];
  for (const uri of uriSans(subjectaltname)) {
    if (!uri.toLowerCase().startsWith('urn:quorate:')) continue;
    if (uri === SERVER_BINDING_URI) {
      bindings.push({ kind: 'server' });
      continue;
    }
    const rest = uri.startsWith(NODE_PREFIX) ? uri.slice(NODE_PREFIX.length).split(':') : [];
    const [cluster, node] = rest;
    if (rest.length === 2 && cluster !== undefined && node !== undefined && NAME_RE.test(cluster) && NAME_RE.test(node)) {
      bindings.push({ kind: 'node', cluster: clusterName(cluster), node: nodeId(node) });
    } else {
      malformed.push(uri);
    }
  }
  return { bindings, malformed };
}

/**
 * Node joins SAN entries with ", " and quotes an entry (JSON style) when its value itself
 * contains a comma or quote; our URIs never do, but a hostile certificate may, so honour the
 * quoting instead of splitting blindly.
 */
function uriSans(subjectaltname: string | undefined): string[] {
  if (!subjectaltname) return [];
  const out: string[] = [];
  const entry = /\s*(?:"((?:[^"\\]|\\.)*)"|([^,]*))(?:,|$)/gy;
  let match: RegExpExecArray | null;
  while (entry.lastIndex < subjectaltname.length && (match = entry.exec(subjectaltname)) !== null) {
    const text = match[1] !== undefined ? (JSON.parse(`"${match[1]}"`) as string) : (match[2] ?? '');
    if (text.startsWith('URI:')) out.push(text.slice(4));
    if (match[0].length === 0) break;
  }
  return out;
}

export function describeBinding(b: Binding): string {
  return b.kind === 'server' ? SERVER_BINDING_URI : `${NODE_PREFIX}${b.cluster}:${b.node}`;
}
