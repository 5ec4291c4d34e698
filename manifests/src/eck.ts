// manifests/eck/elk-flow-collector-eck.yml: for users who outgrow one node. Elasticsearch (three nodes) and
// Kibana (on NodePort 30007) as custom resources of the ECK operator, which manages their TLS and credentials;
// the collector scaled to three replicas (Service affinity keeps an exporter on one), using ECK's CA and elastic
// password for setup and its own user for shipping.
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { collector, setupJob, ELASTIC_VERSION, ES_CLIENTS, KIBANA_NODE_PORT, type ClusterAccess, type TlsInput } from './manifest.js';

const NAME = 'elk-flow-collector';

/** What the quick start's restricted() and podSecurity() give, for the containers ECK builds (user and fsGroup are ECK's: 1000). */
const RESTRICTED = { runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' }, readOnlyRootFilesystem: true };
const POD_SECURITY = { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } };
/** ECK's labels on the pods it makes, and the namespace of its operator (which calls Elasticsearch's API). */
const ES_PODS = { 'elasticsearch.k8s.elastic.co/cluster-name': NAME };
const KIBANA_PODS = { 'kibana.k8s.elastic.co/name': NAME };
export const ECK_OPERATOR_NAMESPACE = 'elastic-system';

/** The parts of the ECK custom resources used here (elasticsearch.k8s.elastic.co/v1, kibana.k8s.elastic.co/v1). */
interface EckResource {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: Record<string, unknown>;
}

export const ECK_ACCESS: ClusterAccess = {
  setKibanaSystemPassword: false,
  url: `https://${NAME}-es-http:9200`,
  elasticPassword: { secret: `${NAME}-es-elastic-user`, key: 'elastic' },
  caSecret: `${NAME}-es-http-certs-public`,
  kibanaUrl: `https://${NAME}-kb-http:5601`,
  kibanaCaSecret: `${NAME}-kb-http-certs-public`,
  replicas: 3,
};

export function eckResources(): EckResource[] {
  return [
    {
      apiVersion: 'elasticsearch.k8s.elastic.co/v1',
      kind: 'Elasticsearch',
      metadata: { name: NAME },
      spec: {
        version: ELASTIC_VERSION,
        nodeSets: [
          {
            name: 'default',
            count: 3,
            // niofs instead of mmap: no vm.max_map_count to raise, so no privileged init container.
            config: { 'node.store.allow_mmap': false },
            podTemplate: {
              spec: {
                // Pod Security "restricted" for ECK's own init containers too (ECK's defaults drop ALL capabilities).
                securityContext: POD_SECURITY,
                containers: [{ name: 'elasticsearch', securityContext: RESTRICTED, resources: { requests: { cpu: '1', memory: '4Gi' }, limits: { cpu: '2', memory: '4Gi' } } }],
              },
            },
            volumeClaimTemplates: [
              { metadata: { name: 'elasticsearch-data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '100Gi' } } } },
            ],
          },
        ],
      },
    },
    {
      apiVersion: 'kibana.k8s.elastic.co/v1',
      kind: 'Kibana',
      metadata: { name: NAME },
      spec: {
        version: ELASTIC_VERSION,
        count: 1,
        elasticsearchRef: { name: NAME },
        http: { service: { spec: { type: 'NodePort', ports: [{ name: 'https', port: 5601, targetPort: 5601, nodePort: KIBANA_NODE_PORT }] } } },
        podTemplate: { spec: { securityContext: POD_SECURITY, containers: [{ name: 'kibana', securityContext: RESTRICTED, resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '1', memory: '2Gi' } } }] } },
      },
    },
  ];
}

/**
 * Elasticsearch's HTTP port for the collector, Kibana, the setup Job and ECK's operator only; the transport port for
 * the other Elasticsearch nodes only. Kibana: its port only.
 */
export function eckPolicies() {
  const ns = (name: string) => ({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': name } } });
  return [
    new NetworkPolicy({
      metadata: { name: `${NAME}-es` },
      spec: {
        podSelector: { matchLabels: ES_PODS },
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: [
              ...ES_CLIENTS.filter((app) => app !== 'kibana').map((app) => ({ podSelector: { matchLabels: { 'app.kubernetes.io/name': app } } })),
              { podSelector: { matchLabels: KIBANA_PODS } },
              ns(ECK_OPERATOR_NAMESPACE),
            ],
            ports: [{ port: 9200, protocol: 'TCP' }],
          },
          { from: [{ podSelector: { matchLabels: ES_PODS } }], ports: [{ port: 9300, protocol: 'TCP' }] },
        ],
      },
    }),
    new NetworkPolicy({
      metadata: { name: `${NAME}-kb` },
      spec: { podSelector: { matchLabels: KIBANA_PODS }, policyTypes: ['Ingress'], ingress: [{ ports: [{ port: 5601, protocol: 'TCP' }] }] },
    }),
  ];
}

/** Every object of the ECK variant: the custom resources and their policies, then the collector and its setup Job. */
export function eckObjects(tls?: TlsInput): { toJSON(): unknown; validate?(): void }[] {
  return [...eckResources().map((r) => ({ toJSON: () => r })), ...eckPolicies(), ...collector(ECK_ACCESS, tls), setupJob(ECK_ACCESS)];
}
