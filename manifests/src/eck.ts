// manifests/eck/elk-flow-collector-eck.yml: for users who outgrow one node. Elasticsearch (three nodes) and
// Kibana (on NodePort 30007) as custom resources of the ECK operator, which manages their TLS and credentials;
// the collector scaled to three replicas (Service affinity keeps an exporter on one), using ECK's CA and elastic
// password for setup and its own user for shipping.
import { collector, setupJob, ELASTIC_VERSION, KIBANA_NODE_PORT } from './manifest.js';

const NAME = 'elk-flow-collector';

/** The parts of the ECK custom resources used here (elasticsearch.k8s.elastic.co/v1, kibana.k8s.elastic.co/v1). */
interface EckResource {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: Record<string, unknown>;
}

export const ECK_ACCESS = {
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
            podTemplate: {
              spec: {
                // As in the quick start, the one privileged container: vm.max_map_count on the node.
                initContainers: [{ name: 'max-map-count', command: ['sh', '-c', 'sysctl -w vm.max_map_count=262144'], securityContext: { privileged: true, runAsUser: 0 } }],
                containers: [{ name: 'elasticsearch', resources: { requests: { cpu: '1', memory: '4Gi' }, limits: { cpu: '2', memory: '4Gi' } } }],
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
        podTemplate: { spec: { containers: [{ name: 'kibana', resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '1', memory: '2Gi' } } }] } },
      },
    },
  ];
}

/** Every object of the ECK variant: the custom resources, then the collector and its setup Job. */
export function eckObjects(): { toJSON(): unknown; validate?(): void }[] {
  return [...eckResources().map((r) => ({ toJSON: () => r })), ...collector(ECK_ACCESS), setupJob(ECK_ACCESS)];
}
