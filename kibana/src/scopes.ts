// Which records each dashboard shows, written once for both query languages its panels use: KQL for the
// aggregation-based visualizations, Query DSL for the Vega ones. The dashboards assume the collector's default
// document target, `ipfix`.
import type { estypes } from '@elastic/elasticsearch';
import type { ExcludeFilter } from './saved-objects.js';

export const TARGET = 'ipfix';
/** The document path of an enriched record field. */
export const field = (name: string) => `${TARGET}.${name}`;

export interface Scope {
  kuery: string;
  dsl: estypes.QueryDslQueryContainer;
}

const exists = (name: string): estypes.QueryDslQueryContainer => ({ exists: { field: field(name) } });

/** A policy side is "set" when it has a name other than the 'N/A' the enrichment writes for none. */
const policySet = (side: 'ingress' | 'egress'): estypes.QueryDslQueryContainer => ({
  bool: { filter: [exists(`${side}NetworkPolicyName`)], must_not: [{ term: { [field(`${side}NetworkPolicyName`)]: 'N/A' } }] },
});

export const SCOPES = {
  /** Records from Antrea (every Antrea record has a flow type). */
  antrea: { kuery: `${field('flowType')}:*`, dsl: exists('flowType') },
  /** Intra- and inter-Node traffic between Pods. */
  podToPod: {
    kuery: `${field('flowType')}:(1 or 2) and ${field('flowKeyPodToPod')}:*`,
    dsl: { bool: { filter: [{ terms: { [field('flowType')]: [1, 2] } }, exists('flowKeyPodToPod')] } },
  },
  /** Traffic from Pods to Services (records naming the destination Service port). */
  podToService: { kuery: `${field('flowKeyPodToService')}:*`, dsl: exists('flowKeyPodToService') },
  /** Traffic from Pods to addresses outside the cluster. */
  podToExternal: {
    kuery: `${field('flowType')}:3 and ${field('flowKeyPodToExternal')}:*`,
    dsl: { bool: { filter: [{ term: { [field('flowType')]: 3 } }, exists('flowKeyPodToExternal')] } },
  },
  /** Traffic between Nodes or within one: both Node names are known. */
  nodes: {
    kuery: `${field('flowType')}:(1 or 2)`,
    dsl: { terms: { [field('flowType')]: [1, 2] } },
  },
  /** Traffic under at least one NetworkPolicy (ingress or egress). */
  policies: {
    kuery: `(${field('ingressNetworkPolicyName')}:* and not ${field('ingressNetworkPolicyName')}:"N/A") or ` +
      `(${field('egressNetworkPolicyName')}:* and not ${field('egressNetworkPolicyName')}:"N/A")`,
    dsl: { bool: { should: [policySet('ingress'), policySet('egress')], minimum_should_match: 1 } },
  },
} satisfies Record<string, Scope>;

/** The collector's own plumbing, left out of every dashboard but Flow Records (filters a user can switch off). */
export const PLUMBING_NAMESPACES = ['kube-system', 'elk-flow-collector', 'flow-aggregator'];
export const EXCLUDE_PLUMBING: ExcludeFilter[] = [
  { field: field('sourcePodNamespace'), values: PLUMBING_NAMESPACES },
  { field: field('destinationPodNamespace'), values: PLUMBING_NAMESPACES },
];

/** Panel limits, as Antrea's Grafana dashboards have them: beyond these a panel stops being readable. */
export const LIMITS = { sankeyLinks: 50, lineSeries: 50, pieSlices: 25, bars: 10 } as const;
