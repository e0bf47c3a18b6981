/** Names that are strings on the wire but must not be confused deep inside. */
export type NodeId = string & { readonly __kind: 'NodeId' };
export type ServiceName = string & { readonly __kind: 'ServiceName' };
export type ClusterName = string & { readonly __kind: 'ClusterName' };

export const nodeId = (s: string): NodeId => s as NodeId;
export const serviceName = (s: string): ServiceName => s as ServiceName;
export const clusterName = (s: string): ClusterName => s as ClusterName;
