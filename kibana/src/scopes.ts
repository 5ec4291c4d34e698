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

const policyKuery = (side: 'ingress' | 'egress') => `${field(`${side}NetworkPolicyName`)}:* and not ${field(`${side}NetworkPolicyName`)}:"N/A"`;

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
  /** Antrea records with a source Pod: all but From-External (flow type 4), whose source is an address. */
  podSource: {
    kuery: `${field('flowType')}:* and not ${field('flowType')}:4`,
    dsl: { bool: { filter: [exists('flowType')], must_not: [{ term: { [field('flowType')]: 4 } }] } },
  },
  /** Antrea records with a destination Pod: all but To-External (flow type 3), whose Pod fields are empty. */
  podDestination: {
    kuery: `${field('flowType')}:* and not ${field('flowType')}:3`,
    dsl: { bool: { filter: [exists('flowType')], must_not: [{ term: { [field('flowType')]: 3 } }] } },
  },
  /** Traffic under an ingress NetworkPolicy (the destination Pod's). */
  ingressPolicy: { kuery: policyKuery('ingress'), dsl: policySet('ingress') },
  /** Traffic under an egress NetworkPolicy (the source Pod's). */
  egressPolicy: { kuery: policyKuery('egress'), dsl: policySet('egress') },
  /** Traffic under at least one NetworkPolicy (ingress or egress). */
  policies: {
    kuery: `(${policyKuery('ingress')}) or (${policyKuery('egress')})`,
    dsl: { bool: { should: [policySet('ingress'), policySet('egress')], minimum_should_match: 1 } },
  },
} satisfies Record<string, Scope>;

const NO_SCOPE: Scope = { kuery: '', dsl: { match_all: {} } };

/** The Query DSL of a panel's KQL scope: every panel's scope is one of SCOPES (or none), written in both languages. */
export function scopeOfKuery(kuery: string): Scope {
  const scope = kuery === '' ? NO_SCOPE : Object.values(SCOPES).find((s) => s.kuery === kuery);
  if (!scope) throw new Error(`no Query DSL for the KQL scope ${kuery}: write panel scopes in SCOPES`);
  return scope;
}

/** The collector's own plumbing, left out of every dashboard but Flow Records (filters a user can switch off). */
export const PLUMBING_NAMESPACES = ['kube-system', 'elk-flow-collector', 'flow-aggregator'];
export const EXCLUDE_PLUMBING: ExcludeFilter[] = [
  { field: field('sourcePodNamespace'), values: PLUMBING_NAMESPACES },
  { field: field('destinationPodNamespace'), values: PLUMBING_NAMESPACES },
];

/** Panel limits, as Antrea's Grafana dashboards have them: beyond these a panel stops being readable. */
export const LIMITS = { sankeyLinks: 50, lineSeries: 50, pieSlices: 25, bars: 10 } as const;
