// manifests/elk-flow-collector.yml as code: every object is built with the kubernetes-models classes, so the
// compiler catches a misspelt field, and validated against the Kubernetes schemas when generated.
// Elasticsearch and Kibana from Elastic's registry, the collector on the official Node.js image running the
// bundle from the ConfigMap: nothing to build or push.
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { Service } from 'kubernetes-models/v1/Service';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { ISecurityContext } from 'kubernetes-models/v1/SecurityContext';

export const ELASTIC_VERSION = '8.19.20';
export const NODE_IMAGE = 'node:22.23.4-bookworm-slim';
export const ELASTICSEARCH_IMAGE = `docker.elastic.co/elasticsearch/elasticsearch:${ELASTIC_VERSION}`;
export const KIBANA_IMAGE = `docker.elastic.co/kibana/kibana:${ELASTIC_VERSION}`;
/** Created by `kubectl create configmap elk-flow-collector --from-file=manifests/elk-flow-collector/`. */
export const CONFIGMAP = 'elk-flow-collector';
/** Created by the README's `kubectl create secret generic ...`: no password is ever written in these manifests. */
export const SECRET = 'elk-flow-collector-credentials';
export const SECRET_KEYS = { elastic: 'elastic-password', kibana: 'kibana-password', collector: 'collector-password' } as const;
export const KIBANA_NODE_PORT = 30007;

const CONFIG_DIR = '/etc/elk-flow-collector';
const STATE_DIR = '/var/lib/elk-flow-collector';
const APP_DIR = '/run/elk-flow-collector';

/** Non-root, read-only root filesystem, no privilege escalation, no capabilities: every container but the sysctl one. */
const restricted = (user: number): ISecurityContext => ({
  runAsNonRoot: true,
  runAsUser: user,
  runAsGroup: user,
  readOnlyRootFilesystem: true,
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
});

const secretEnv = (name: string, key: string) => ({ name, valueFrom: { secretKeyRef: { name: SECRET, key } } });
const labels = (app: string) => ({ 'app.kubernetes.io/name': app, 'app.kubernetes.io/part-of': 'elk-flow-collector' });

/** Decompresses the bundle from the ConfigMap into an emptyDir (the root filesystem is read-only), then runs it. */
const collectorCommand = (args: string) => [
  'sh', '-c',
  `node -e "const fs=require('fs'),z=require('zlib');fs.writeFileSync('${APP_DIR}/elk-flow-collector.mjs',z.brotliDecompressSync(fs.readFileSync('${CONFIG_DIR}/elk-flow-collector.mjs.br')))" && exec node ${APP_DIR}/elk-flow-collector.mjs ${args}`,
];

function elasticsearch() {
  const sysctl: IContainer = {
    // The one exception to the restricted security context: Elasticsearch needs vm.max_map_count raised on the node.
    name: 'max-map-count',
    image: ELASTICSEARCH_IMAGE,
    command: ['sysctl', '-w', 'vm.max_map_count=262144'],
    securityContext: { privileged: true, runAsUser: 0 },
    resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '100m', memory: '64Mi' } },
  };
  const copyConfig: IContainer = {
    // The image's config directory, copied to a writable volume (Elasticsearch writes its keystore there).
    name: 'config',
    image: ELASTICSEARCH_IMAGE,
    command: ['sh', '-c', 'cp -a /usr/share/elasticsearch/config/. /config/'],
    securityContext: restricted(1000),
    volumeMounts: [{ name: 'config', mountPath: '/config' }],
    resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { cpu: '200m', memory: '128Mi' } },
  };
  return [
    new StatefulSet({
      metadata: { name: 'elasticsearch', labels: labels('elasticsearch') },
      spec: {
        serviceName: 'elasticsearch-nodes',
        replicas: 1,
        selector: { matchLabels: labels('elasticsearch') },
        template: {
          metadata: { labels: labels('elasticsearch') },
          spec: {
            securityContext: { fsGroup: 1000 },
            initContainers: [sysctl, copyConfig],
            containers: [
              {
                name: 'elasticsearch',
                image: ELASTICSEARCH_IMAGE,
                env: [
                  { name: 'discovery.type', value: 'single-node' },
                  { name: 'ES_JAVA_OPTS', value: '-Xms1g -Xmx1g' },
                  { name: 'xpack.security.enabled', value: 'true' },
                  // Inside the cluster over HTTP (the NetworkPolicy keeps others out); see README for TLS.
                  { name: 'xpack.security.http.ssl.enabled', value: 'false' },
                  { name: 'xpack.security.transport.ssl.enabled', value: 'false' },
                  secretEnv('ELASTIC_PASSWORD', SECRET_KEYS.elastic),
                ],
                ports: [{ name: 'http', containerPort: 9200 }],
                readinessProbe: {
                  exec: { command: ['sh', '-c', 'curl -fsS -u "elastic:${ELASTIC_PASSWORD}" "http://localhost:9200/_cluster/health?wait_for_status=yellow&timeout=2s"'] },
                  initialDelaySeconds: 20,
                  periodSeconds: 10,
                  timeoutSeconds: 5,
                },
                securityContext: restricted(1000),
                resources: { requests: { cpu: '500m', memory: '2Gi' }, limits: { cpu: '2', memory: '2Gi' } },
                volumeMounts: [
                  { name: 'data', mountPath: '/usr/share/elasticsearch/data' },
                  { name: 'config', mountPath: '/usr/share/elasticsearch/config' },
                  { name: 'logs', mountPath: '/usr/share/elasticsearch/logs' },
                  { name: 'tmp', mountPath: '/tmp' },
                ],
              },
            ],
            volumes: [
              { name: 'config', emptyDir: {} },
              { name: 'logs', emptyDir: {} },
              { name: 'tmp', emptyDir: {} },
            ],
          },
        },
        volumeClaimTemplates: [
          { metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Gi' } } } },
        ],
      },
    }),
    new Service({
      metadata: { name: 'elasticsearch-nodes', labels: labels('elasticsearch') },
      spec: { clusterIP: 'None', selector: labels('elasticsearch'), ports: [{ name: 'http', port: 9200, targetPort: 'http' }] },
    }),
    new Service({
      metadata: { name: 'elasticsearch', labels: labels('elasticsearch') },
      spec: { selector: labels('elasticsearch'), ports: [{ name: 'http', port: 9200, targetPort: 'http' }] },
    }),
  ];
}

function kibana() {
  return [
    new Deployment({
      metadata: { name: 'kibana', labels: labels('kibana') },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels('kibana') },
        template: {
          metadata: { labels: labels('kibana') },
          spec: {
            securityContext: { fsGroup: 1000 },
            containers: [
              {
                name: 'kibana',
                image: KIBANA_IMAGE,
                env: [
                  { name: 'ELASTICSEARCH_HOSTS', value: '["http://elasticsearch:9200"]' },
                  { name: 'ELASTICSEARCH_USERNAME', value: 'kibana_system' },
                  secretEnv('ELASTICSEARCH_PASSWORD', SECRET_KEYS.kibana),
                ],
                ports: [{ name: 'http', containerPort: 5601 }],
                readinessProbe: { tcpSocket: { port: 'http' }, initialDelaySeconds: 30, periodSeconds: 10 },
                securityContext: restricted(1000),
                resources: { requests: { cpu: '250m', memory: '1Gi' }, limits: { cpu: '1', memory: '1536Mi' } },
                volumeMounts: [
                  { name: 'data', mountPath: '/usr/share/kibana/data' },
                  { name: 'tmp', mountPath: '/tmp' },
                ],
              },
            ],
            volumes: [{ name: 'data', emptyDir: {} }, { name: 'tmp', emptyDir: {} }],
          },
        },
      },
    }),
    new Service({
      metadata: { name: 'kibana', labels: labels('kibana') },
      spec: { type: 'NodePort', selector: labels('kibana'), ports: [{ name: 'http', port: 5601, targetPort: 'http', nodePort: KIBANA_NODE_PORT }] },
    }),
  ];
}

/**
 * How the collector and the setup Job reach Elasticsearch: the quick start's own single node over HTTP with the
 * Secret's passwords, or ECK's cluster over HTTPS with ECK's elastic password and CA.
 */
export interface ClusterAccess {
  url: string;
  /** Where the elastic user's password is: the README's Secret, or ECK's generated one. */
  elasticPassword: { secret: string; key: string };
  /** Secret holding ca.crt (ECK), mounted and given as ELASTICSEARCH_CA_CERT. */
  caSecret?: string;
  kibanaUrl: string;
  /** Secret holding the CA of Kibana's certificate (ECK), trusted through NODE_EXTRA_CA_CERTS. */
  kibanaCaSecret?: string;
  replicas: number;
}

export const QUICK_START: ClusterAccess = {
  url: 'http://elasticsearch:9200',
  kibanaUrl: 'http://kibana:5601',
  elasticPassword: { secret: SECRET, key: SECRET_KEYS.elastic },
  replicas: 1,
};

/** The elastic user's password, from wherever this cluster keeps it. */
const elasticPasswordEnv = (access: ClusterAccess, name: string) => ({
  name,
  valueFrom: { secretKeyRef: { name: access.elasticPassword.secret, key: access.elasticPassword.key } },
});

const CA_DIR = '/etc/elk-flow-collector-ca';
const KIBANA_CA_DIR = '/etc/elk-flow-collector-kibana-ca';
const caEnv = (access: ClusterAccess) => (access.caSecret ? [{ name: 'ELASTICSEARCH_CA_CERT', value: `${CA_DIR}/ca.crt` }] : []);
const caMounts = (access: ClusterAccess) => (access.caSecret ? [{ name: 'ca', mountPath: CA_DIR, readOnly: true }] : []);
const caVolumes = (access: ClusterAccess) => (access.caSecret ? [{ name: 'ca', secret: { secretName: access.caSecret } }] : []);

export function collector(access: ClusterAccess = QUICK_START) {
  return [
    new Deployment({
      metadata: { name: 'elk-flow-collector', labels: labels('elk-flow-collector') },
      spec: {
        replicas: access.replicas,
        selector: { matchLabels: labels('elk-flow-collector') },
        template: {
          metadata: { labels: labels('elk-flow-collector') },
          spec: {
            containers: [
              {
                name: 'collector',
                image: NODE_IMAGE,
                command: collectorCommand(`run --config ${CONFIG_DIR}/collector.yml`),
                env: [
                  { name: 'ELASTICSEARCH_URL', value: access.url },
                  { name: 'ELASTICSEARCH_USERNAME', value: 'elk-flow-collector' },
                  secretEnv('ELASTICSEARCH_PASSWORD', SECRET_KEYS.collector),
                  ...caEnv(access),
                ],
                ports: [
                  { name: 'ipfix-udp', containerPort: 4739, protocol: 'UDP' },
                  { name: 'ipfix-tcp', containerPort: 4739, protocol: 'TCP' },
                  { name: 'http', containerPort: 9600, protocol: 'TCP' },
                ],
                livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 10, failureThreshold: 3 },
                readinessProbe: { httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 5 },
                securityContext: restricted(1000),
                resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '2', memory: '1Gi' } },
                volumeMounts: [
                  { name: 'config', mountPath: CONFIG_DIR, readOnly: true },
                  { name: 'app', mountPath: APP_DIR },
                  { name: 'state', mountPath: STATE_DIR },
                  ...caMounts(access),
                ],
              },
            ],
            volumes: [
              { name: 'config', configMap: { name: CONFIGMAP } },
              { name: 'app', emptyDir: {} },
              // Templates and the Elasticsearch spool survive container restarts; see README for a volume.
              { name: 'state', emptyDir: {} },
              ...caVolumes(access),
            ],
          },
        },
      },
    }),
    new Service({
      metadata: { name: 'elk-flow-collector', labels: labels('elk-flow-collector') },
      spec: {
        selector: labels('elk-flow-collector'),
        // One exporter's templates and data must reach the same replica.
        sessionAffinity: 'ClientIP',
        ports: [
          { name: 'ipfix-udp', port: 4739, targetPort: 'ipfix-udp', protocol: 'UDP' },
          { name: 'ipfix-tcp', port: 4739, targetPort: 'ipfix-tcp', protocol: 'TCP' },
        ],
      },
    }),
    new NetworkPolicy({
      metadata: { name: 'elk-flow-collector', labels: labels('elk-flow-collector') },
      spec: {
        podSelector: { matchLabels: labels('elk-flow-collector') },
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: ['flow-aggregator', 'kube-system'].map((ns) => ({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } } })),
            ports: [{ port: 4739, protocol: 'UDP' }, { port: 4739, protocol: 'TCP' }],
          },
          {
            from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } } }],
            ports: [{ port: 9600, protocol: 'TCP' }],
          },
        ],
      },
    }),
  ];
}

/** Once Elasticsearch answers: passwords for Kibana and the collector, the collector's role, then `setup`. */
export function setupJob(access: ClusterAccess = QUICK_START) {
  const ca = access.caSecret ? ` --cacert ${CA_DIR}/ca.crt` : '';
  const users = [
    'set -eu',
    `es() { curl -fsS${ca} -u "elastic:\${ELASTIC_PASSWORD}" -H "Content-Type: application/json" "${access.url}$1" "\${@:2}"; }`,
    'until es "/_cluster/health?wait_for_status=yellow&timeout=5s" >/dev/null; do echo "waiting for Elasticsearch"; sleep 5; done',
    // The quick start's Kibana logs in as kibana_system; ECK manages Kibana's credentials itself.
    ...(access.caSecret ? [] : ['es /_security/user/kibana_system/_password -X POST -d "{\\"password\\":\\"${KIBANA_PASSWORD}\\"}"']),
    'es /_security/role/elk-flow-collector -X PUT -d \'{"cluster":["monitor","manage_ilm","manage_index_templates"],"indices":[{"names":["flow-*"],"privileges":["create_doc","create_index","auto_configure","view_index_metadata"]}]}\'',
    'es /_security/user/elk-flow-collector -X PUT -d "{\\"password\\":\\"${COLLECTOR_PASSWORD}\\",\\"roles\\":[\\"elk-flow-collector\\"]}"',
  ].join('\n');
  return new Job({
    metadata: { name: 'elk-flow-collector-setup', labels: labels('elk-flow-collector-setup') },
    spec: {
      backoffLimit: 10,
      template: {
        metadata: { labels: labels('elk-flow-collector-setup') },
        spec: {
          restartPolicy: 'OnFailure',
          initContainers: [
            {
              name: 'users',
              image: ELASTICSEARCH_IMAGE,
              command: ['bash', '-c', users],
              env: [
                elasticPasswordEnv(access, 'ELASTIC_PASSWORD'),
                ...(access.caSecret ? [] : [secretEnv('KIBANA_PASSWORD', SECRET_KEYS.kibana)]),
                secretEnv('COLLECTOR_PASSWORD', SECRET_KEYS.collector),
              ],
              ...(access.caSecret ? { volumeMounts: caMounts(access) } : {}),
              securityContext: restricted(1000),
              resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
            },
          ],
          containers: [
            {
              name: 'setup',
              image: NODE_IMAGE,
              command: collectorCommand(`setup --config ${CONFIG_DIR}/collector.yml --kibana-objects ${CONFIG_DIR}/kibana.ndjson.br`),
              // Installs the Elasticsearch assets and imports the dashboards; until Kibana answers it fails and the
              // Job tries again.
              env: [
                { name: 'ELASTICSEARCH_URL', value: access.url },
                { name: 'ELASTICSEARCH_USERNAME', value: 'elastic' },
                elasticPasswordEnv(access, 'ELASTICSEARCH_PASSWORD'),
                ...caEnv(access),
                { name: 'KIBANA_URL', value: access.kibanaUrl },
                { name: 'KIBANA_USERNAME', value: 'elastic' },
                elasticPasswordEnv(access, 'KIBANA_PASSWORD'),
                ...(access.kibanaCaSecret ? [{ name: 'NODE_EXTRA_CA_CERTS', value: `${KIBANA_CA_DIR}/ca.crt` }] : []),
              ],
              securityContext: restricted(1000),
              resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '512Mi' } },
              volumeMounts: [
                { name: 'config', mountPath: CONFIG_DIR, readOnly: true },
                { name: 'app', mountPath: APP_DIR },
                ...caMounts(access),
                ...(access.kibanaCaSecret ? [{ name: 'kibana-ca', mountPath: KIBANA_CA_DIR, readOnly: true }] : []),
              ],
            },
          ],
          volumes: [
            { name: 'config', configMap: { name: CONFIGMAP } },
            { name: 'app', emptyDir: {} },
            ...caVolumes(access),
            ...(access.kibanaCaSecret ? [{ name: 'kibana-ca', secret: { secretName: access.kibanaCaSecret } }] : []),
          ],
        },
      },
    },
  });
}

/** Every object of manifests/elk-flow-collector.yml, in apply order. */
export function manifestObjects() {
  return [...elasticsearch(), ...kibana(), ...collector(), setupJob()];
}
