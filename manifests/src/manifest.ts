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
import type { IPodSecurityContext } from 'kubernetes-models/v1/PodSecurityContext';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';

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
/** Where every client of Elasticsearch finds its CA (ca.crt), and the setup Job Kibana's (ECK). */
const CA_DIR = '/etc/elk-flow-collector-ca';
const KIBANA_CA_DIR = '/etc/elk-flow-collector-kibana-ca';

/** Pod Security "restricted", and a read-only root filesystem: every container of every manifest. */
const restricted = (user: number): ISecurityContext => ({
  runAsNonRoot: true,
  runAsUser: user,
  runAsGroup: user,
  readOnlyRootFilesystem: true,
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
});

/** The pod-level half of "restricted" (covers containers an operator adds), and volumes writable by the user. */
const podSecurity = (user: number): IPodSecurityContext => ({
  runAsNonRoot: true,
  seccompProfile: { type: 'RuntimeDefault' },
  fsGroup: user,
  fsGroupChangePolicy: 'OnRootMismatch',
});

const secretEnv = (name: string, key: string) => ({ name, valueFrom: { secretKeyRef: { name: SECRET, key } } });
const labels = (app: string) => ({ 'app.kubernetes.io/name': app, 'app.kubernetes.io/part-of': 'elk-flow-collector' });

/** Decompresses the bundle from the ConfigMap into an emptyDir (the root filesystem is read-only), then runs it. */
const collectorCommand = (args: string) => [
  'sh', '-c',
  `node -e "const fs=require('fs'),z=require('zlib');fs.writeFileSync('${APP_DIR}/elk-flow-collector.mjs',z.brotliDecompressSync(fs.readFileSync('${CONFIG_DIR}/elk-flow-collector.mjs.br')))" && exec node ${APP_DIR}/elk-flow-collector.mjs ${args}`,
];

/**
 * Written by the certificates Job: the quick start's own CA and Elasticsearch's HTTP certificate (ca.crt, tls.crt,
 * tls.key), and the CA alone for the clients (ca.crt), so that no client pod holds Elasticsearch's private key.
 */
export const ES_CERT_SECRET = 'elasticsearch-certs';
export const ES_CA_SECRET = 'elasticsearch-ca';
const ES_CERT_DIR = '/usr/share/elasticsearch/config/certs';

/**
 * A curl configuration line with the elastic user, written by the shell's printf (a builtin, so the password is in
 * no process's command line) to stdin or to a file in an emptyDir.
 */
const curlUser = (variable: string) => `printf 'user = "elastic:%s"\\n' "\${${variable}}"`;

/** An Elasticsearch container's view of the quick start's certificates. */
const esTls = [
  { name: 'xpack.security.http.ssl.enabled', value: 'true' },
  { name: 'xpack.security.http.ssl.key', value: `${ES_CERT_DIR}/tls.key` },
  { name: 'xpack.security.http.ssl.certificate', value: `${ES_CERT_DIR}/tls.crt` },
  { name: 'xpack.security.http.ssl.certificate_authorities', value: `${ES_CERT_DIR}/ca.crt` },
];

function elasticsearch() {
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
            securityContext: podSecurity(1000),
            automountServiceAccountToken: false,
            initContainers: [copyConfig],
            containers: [
              {
                name: 'elasticsearch',
                image: ELASTICSEARCH_IMAGE,
                env: [
                  { name: 'discovery.type', value: 'single-node' },
                  { name: 'ES_JAVA_OPTS', value: '-Xms1g -Xmx1g' },
                  // niofs instead of mmap: no vm.max_map_count to raise, so no privileged container on the node.
                  { name: 'node.store.allow_mmap', value: 'false' },
                  { name: 'xpack.security.enabled', value: 'true' },
                  ...esTls,
                  // One node: the transport layer talks to nobody (and the NetworkPolicy admits nothing to 9300).
                  { name: 'xpack.security.transport.ssl.enabled', value: 'false' },
                  secretEnv('ELASTIC_PASSWORD', SECRET_KEYS.elastic),
                ],
                ports: [{ name: 'https', containerPort: 9200 }],
                readinessProbe: {
                  exec: { command: ['bash', '-c', `${curlUser('ELASTIC_PASSWORD')} | curl -fsS -K - --cacert ${ES_CERT_DIR}/ca.crt "https://localhost:9200/_cluster/health?wait_for_status=yellow&timeout=2s"`] },
                  initialDelaySeconds: 20,
                  periodSeconds: 10,
                  timeoutSeconds: 5,
                },
                securityContext: restricted(1000),
                resources: { requests: { cpu: '500m', memory: '2Gi' }, limits: { cpu: '2', memory: '2Gi' } },
                volumeMounts: [
                  { name: 'data', mountPath: '/usr/share/elasticsearch/data' },
                  { name: 'config', mountPath: '/usr/share/elasticsearch/config' },
                  { name: 'certs', mountPath: ES_CERT_DIR, readOnly: true },
                  { name: 'logs', mountPath: '/usr/share/elasticsearch/logs' },
                  { name: 'tmp', mountPath: '/tmp' },
                ],
              },
            ],
            volumes: [
              { name: 'config', emptyDir: {} },
              // Until the certificates Job has written it, the pod waits in ContainerCreating.
              { name: 'certs', secret: { secretName: ES_CERT_SECRET } },
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
      spec: { clusterIP: 'None', selector: labels('elasticsearch'), ports: [{ name: 'https', port: 9200, targetPort: 'https' }] },
    }),
    new Service({
      metadata: { name: 'elasticsearch', labels: labels('elasticsearch') },
      spec: { selector: labels('elasticsearch'), ports: [{ name: 'https', port: 9200, targetPort: 'https' }] },
    }),
    // Only the collector, Kibana and the setup Job reach 9200; nothing reaches 9300.
    new NetworkPolicy({
      metadata: { name: 'elasticsearch', labels: labels('elasticsearch') },
      spec: {
        podSelector: { matchLabels: labels('elasticsearch') },
        policyTypes: ['Ingress'],
        ingress: [{ from: ES_CLIENTS.map((app) => ({ podSelector: { matchLabels: { 'app.kubernetes.io/name': app } } })), ports: [{ port: 9200, protocol: 'TCP' as const }] }],
      },
    }),
  ];
}

/** The pods that talk to Elasticsearch, by their app.kubernetes.io/name label. */
export const ES_CLIENTS = ['elk-flow-collector', 'kibana', 'elk-flow-collector-setup'];

/**
 * The quick start's CA and Elasticsearch's HTTP certificate, made once with elasticsearch-certutil (in the
 * Elasticsearch image) and written as two Secrets through the Kubernetes API with the Job's own ServiceAccount, so
 * that `kubectl apply` is all it takes. A Secret already there is left alone: delete both and run the Job again to
 * renew (the node certificate is valid for three years).
 */
function certificates() {
  const name = 'elasticsearch-certs';
  const sa = '/var/run/secrets/kubernetes.io/serviceaccount';
  const script = [
    'set -euo pipefail',
    `ns=$(cat ${sa}/namespace)`,
    // The token goes to curl through a configuration file, never on a command line.
    `printf 'header = "Authorization: Bearer %s"\\n' "$(cat ${sa}/token)" > /tmp/kube.curlrc`,
    `kube() { curl -sS --cacert ${sa}/ca.crt -K /tmp/kube.curlrc "https://kubernetes.default.svc/api/v1/namespaces/$ns/secrets$1" "\${@:2}"; }`,
    `status=$(kube /${ES_CERT_SECRET} -o /dev/null -w '%{http_code}')`,
    'if [ "$status" = 200 ]; then echo "certificates already there"; exit 0; fi',
    '[ "$status" = 404 ] || { echo "cannot read Secrets: HTTP $status"; exit 1; }',
    'cd /tmp',
    'elasticsearch-certutil ca --silent --pem --days 3650 --out ca.zip && unzip -q ca.zip',
    'hosts="elasticsearch,elasticsearch.$ns,elasticsearch.$ns.svc,elasticsearch.$ns.svc.cluster.local,elasticsearch-0.elasticsearch-nodes.$ns.svc.cluster.local,localhost"',
    'elasticsearch-certutil cert --silent --pem --ca-cert ca/ca.crt --ca-key ca/ca.key --name elasticsearch --dns "$hosts" --ip 127.0.0.1 --days 1095 --out node.zip && unzip -q node.zip',
    'b64() { base64 -w0 "$1"; }',
    // The CA's key is not kept: nothing else is ever signed with it. The CA Secret first, replaced if a run that
    // failed half-way left one; the certificate Secret last, as it is what says "done".
    `printf '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"${ES_CA_SECRET}"},"data":{"ca.crt":"%s"}}' "$(b64 ca/ca.crt)" > ca.json`,
    `status=$(kube '' -X POST -H 'Content-Type: application/json' --data-binary @ca.json -o /dev/null -w '%{http_code}')`,
    `if [ "$status" = 409 ]; then kube /${ES_CA_SECRET} -f -X PUT -H 'Content-Type: application/json' --data-binary @ca.json -o /dev/null; elif [ "$status" != 201 ]; then echo "cannot create Secret ${ES_CA_SECRET}: HTTP $status"; exit 1; fi`,
    `printf '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"${ES_CERT_SECRET}"},"type":"kubernetes.io/tls","data":{"ca.crt":"%s","tls.crt":"%s","tls.key":"%s"}}' "$(b64 ca/ca.crt)" "$(b64 elasticsearch/elasticsearch.crt)" "$(b64 elasticsearch/elasticsearch.key)" | kube '' -f -X POST -H 'Content-Type: application/json' --data-binary @- -o /dev/null`,
    'echo "certificates written"',
  ].join('\n');
  return [
    new ServiceAccount({ metadata: { name, labels: labels(name) } }),
    new Role({
      metadata: { name, labels: labels(name) },
      // create cannot be narrowed to names; get can.
      rules: [
        { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
        { apiGroups: [''], resources: ['secrets'], resourceNames: [ES_CERT_SECRET], verbs: ['get'] },
        { apiGroups: [''], resources: ['secrets'], resourceNames: [ES_CA_SECRET], verbs: ['update'] },
      ],
    }),
    new RoleBinding({
      metadata: { name, labels: labels(name) },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name }],
    }),
    new Job({
      metadata: { name, labels: labels(name) },
      spec: {
        backoffLimit: 6,
        template: {
          metadata: { labels: labels(name) },
          spec: {
            serviceAccountName: name,
            restartPolicy: 'OnFailure',
            securityContext: podSecurity(1000),
            containers: [
              {
                name: 'certutil',
                image: ELASTICSEARCH_IMAGE,
                command: ['bash', '-c', script],
                securityContext: restricted(1000),
                resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } },
                volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
              },
            ],
            volumes: [{ name: 'tmp', emptyDir: { medium: 'Memory' } }],
          },
        },
      },
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
            securityContext: podSecurity(1000),
            automountServiceAccountToken: false,
            containers: [
              {
                name: 'kibana',
                image: KIBANA_IMAGE,
                env: [
                  { name: 'ELASTICSEARCH_HOSTS', value: '["https://elasticsearch:9200"]' },
                  { name: 'ELASTICSEARCH_SSL_CERTIFICATEAUTHORITIES', value: `${CA_DIR}/ca.crt` },
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
                  { name: 'elasticsearch-ca', mountPath: CA_DIR, readOnly: true },
                ],
              },
            ],
            volumes: [{ name: 'data', emptyDir: {} }, { name: 'tmp', emptyDir: {} }, { name: 'elasticsearch-ca', secret: { secretName: ES_CA_SECRET } }],
          },
        },
      },
    }),
    new Service({
      metadata: { name: 'kibana', labels: labels('kibana') },
      spec: { type: 'NodePort', selector: labels('kibana'), ports: [{ name: 'http', port: 5601, targetPort: 'http', nodePort: KIBANA_NODE_PORT }] },
    }),
    // Users reach Kibana on its NodePort (from wherever the nodes admit); only 5601, nothing else.
    new NetworkPolicy({
      metadata: { name: 'kibana', labels: labels('kibana') },
      spec: { podSelector: { matchLabels: labels('kibana') }, policyTypes: ['Ingress'], ingress: [{ ports: [{ port: 5601, protocol: 'TCP' as const }] }] },
    }),
  ];
}

/**
 * How the collector and the setup Job reach Elasticsearch: the quick start's own single node or ECK's cluster, both
 * over HTTPS with their CA; the quick start's passwords from the README's Secret, ECK's elastic password from ECK.
 */
export interface ClusterAccess {
  url: string;
  /** Where the elastic user's password is: the README's Secret, or ECK's generated one. */
  elasticPassword: { secret: string; key: string };
  /** Secret holding ca.crt, mounted and given as ELASTICSEARCH_CA_CERT. */
  caSecret: string;
  /** The quick start's Kibana logs in as kibana_system with the Secret's password; ECK manages Kibana's credentials. */
  setKibanaSystemPassword: boolean;
  kibanaUrl: string;
  /** Secret holding the CA of Kibana's certificate (ECK), trusted through NODE_EXTRA_CA_CERTS. */
  kibanaCaSecret?: string;
  replicas: number;
}

export const QUICK_START: ClusterAccess = {
  url: 'https://elasticsearch:9200',
  kibanaUrl: 'http://kibana:5601',
  elasticPassword: { secret: SECRET, key: SECRET_KEYS.elastic },
  caSecret: ES_CA_SECRET,
  setKibanaSystemPassword: true,
  replicas: 1,
};

/**
 * The collector's IPFIX-over-TLS input (RFC 7011 §10.4, port 4740), from a kubernetes.io/tls Secret holding tls.crt,
 * tls.key and ca.crt (as cert-manager writes it). With mutual TLS, exporters must show a certificate signed by that
 * ca.crt. Mounted as a whole directory (no subPath), so that a renewed Secret reaches the files and the collector
 * reloads them.
 */
export interface TlsInput {
  secret: string;
  mutual: boolean;
}
export const TLS_PORT = 4740;
export const TLS_SECRET = 'elk-flow-collector-tls';
const TLS_DIR = '/etc/elk-flow-collector-tls';
/** The inputs.tls keys (issue 12), as load.ts names their environment variables (camelCase to SNAKE_CASE). */
export const TLS_ENV = {
  certFile: 'ELKFC_INPUTS_TLS_CERT_FILE',
  keyFile: 'ELKFC_INPUTS_TLS_KEY_FILE',
  clientCaFile: 'ELKFC_INPUTS_TLS_CLIENT_CA_FILE',
} as const;

/**
 * The Flow Aggregator's JSON records (recordFormat: JSON) on TCP and UDP: collector.yml's inputs.json.port, the
 * port Antrea's Logstash-based collector took them on. With the TLS input, JSON over TLS on a port of its own (next
 * to it, as 4740 is to 4739), so that plain JSON stays where it was, as plain IPFIX does.
 */
export const JSON_PORT = 4736;
export const JSON_TLS_PORT = 4737;
/** The inputs.json.tls keys, as load.ts names their environment variables. */
export const JSON_TLS_ENV = {
  port: 'ELKFC_INPUTS_JSON_TLS_PORT',
  certFile: 'ELKFC_INPUTS_JSON_TLS_CERT_FILE',
  keyFile: 'ELKFC_INPUTS_JSON_TLS_KEY_FILE',
  clientCaFile: 'ELKFC_INPUTS_JSON_TLS_CLIENT_CA_FILE',
} as const;

/** The elastic user's password, from wherever this cluster keeps it. */
const elasticPasswordEnv = (access: ClusterAccess, name: string) => ({
  name,
  valueFrom: { secretKeyRef: { name: access.elasticPassword.secret, key: access.elasticPassword.key } },
});

const caEnv = [{ name: 'ELASTICSEARCH_CA_CERT', value: `${CA_DIR}/ca.crt` }];
const caMounts = [{ name: 'ca', mountPath: CA_DIR, readOnly: true }];
const caVolumes = (access: ClusterAccess) => [{ name: 'ca', secret: { secretName: access.caSecret } }];

/**
 * What the collector's SIGTERM takes at most (collector/src/sinks/elasticsearch/sink.ts, SHUTDOWN_GRACE_MS twice):
 * up to 10 s for the cluster to take what is in memory, then spooling it, then up to 10 s for requests under way to
 * settle into the spool; plus saving the templates. Kubernetes sends SIGKILL after terminationGracePeriodSeconds.
 */
export const COLLECTOR_SHUTDOWN_SECONDS = 2 * 10;
export const COLLECTOR_GRACE_SECONDS = COLLECTOR_SHUTDOWN_SECONDS + 25;
/** The collector's PersistentVolumeClaim per replica: spool, dead letters and templates (collector.yml's paths). */
export const COLLECTOR_STATE_CLAIM = 'state';

export function collector(access: ClusterAccess = QUICK_START, tls?: TlsInput) {
  const name = 'elk-flow-collector';
  // IPFIX and JSON over TLS from the one Secret: the same certificate, and the same client CA for mutual TLS.
  const tlsFiles = (names: { certFile: string; keyFile: string; clientCaFile: string }, mutual: boolean) => [
    { name: names.certFile, value: `${TLS_DIR}/tls.crt` },
    { name: names.keyFile, value: `${TLS_DIR}/tls.key` },
    ...(mutual ? [{ name: names.clientCaFile, value: `${TLS_DIR}/ca.crt` }] : []),
  ];
  const tlsEnv = tls
    ? [...tlsFiles(TLS_ENV, tls.mutual), { name: JSON_TLS_ENV.port, value: String(JSON_TLS_PORT) }, ...tlsFiles(JSON_TLS_ENV, tls.mutual)]
    : [];
  /** Every port exporters reach, by name: container, Service (targetPort) and NetworkPolicy take them from here. */
  const exporterPorts = [
    { name: 'ipfix-udp', port: 4739, protocol: 'UDP' as const },
    { name: 'ipfix-tcp', port: 4739, protocol: 'TCP' as const },
    ...(tls ? [{ name: 'ipfix-tls', port: TLS_PORT, protocol: 'TCP' as const }] : []),
    { name: 'json-udp', port: JSON_PORT, protocol: 'UDP' as const },
    { name: 'json-tcp', port: JSON_PORT, protocol: 'TCP' as const },
    ...(tls ? [{ name: 'json-tls', port: JSON_TLS_PORT, protocol: 'TCP' as const }] : []),
  ];
  return [
    // A StatefulSet so that each replica has its own volume, and the pod that replaces it (rolling update, eviction,
    // node drain) gets the same claim: it ships first what the last one spooled.
    new StatefulSet({
      metadata: { name, labels: labels(name) },
      spec: {
        serviceName: `${name}-pods`,
        replicas: access.replicas,
        // Replicas do not depend on each other: start and replace them all at once.
        podManagementPolicy: 'Parallel',
        updateStrategy: { type: 'RollingUpdate' },
        // A claim outlives its pod, its scale-down and the StatefulSet: an unsent spool is never deleted by Kubernetes.
        persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
        selector: { matchLabels: labels(name) },
        template: {
          metadata: { labels: labels(name) },
          spec: {
            securityContext: podSecurity(1000),
            automountServiceAccountToken: false,
            terminationGracePeriodSeconds: COLLECTOR_GRACE_SECONDS,
            containers: [
              {
                name: 'collector',
                image: NODE_IMAGE,
                command: collectorCommand(`run --config ${CONFIG_DIR}/collector.yml`),
                env: [
                  { name: 'ELASTICSEARCH_URL', value: access.url },
                  { name: 'ELASTICSEARCH_USERNAME', value: 'elk-flow-collector' },
                  secretEnv('ELASTICSEARCH_PASSWORD', SECRET_KEYS.collector),
                  ...caEnv,
                  ...tlsEnv,
                ],
                ports: [
                  ...exporterPorts.map(({ name: portName, port, protocol }) => ({ name: portName, containerPort: port, protocol })),
                  { name: 'http', containerPort: 9600, protocol: 'TCP' as const },
                ],
                livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 10, failureThreshold: 3 },
                readinessProbe: { httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 5 },
                securityContext: restricted(1000),
                resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '2', memory: '1Gi' } },
                volumeMounts: [
                  { name: 'config', mountPath: CONFIG_DIR, readOnly: true },
                  { name: 'app', mountPath: APP_DIR },
                  { name: COLLECTOR_STATE_CLAIM, mountPath: STATE_DIR },
                  ...caMounts,
                  ...(tls ? [{ name: 'tls', mountPath: TLS_DIR, readOnly: true }] : []),
                ],
              },
            ],
            volumes: [
              { name: 'config', configMap: { name: CONFIGMAP } },
              { name: 'app', emptyDir: {} },
              ...caVolumes(access),
              ...(tls ? [{ name: 'tls', secret: { secretName: tls.secret } }] : []),
            ],
          },
        },
        volumeClaimTemplates: [
          // The spool is bounded by collector.yml's spoolMaxBytes (1 GiB); templates and dead letters take little.
          { metadata: { name: COLLECTOR_STATE_CLAIM }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '2Gi' } } } },
        ],
      },
    }),
    // The StatefulSet's governing Service (stable pod names); exporters use the one below.
    new Service({
      metadata: { name: `${name}-pods`, labels: labels(name) },
      spec: { clusterIP: 'None', selector: labels(name), ports: [{ name: 'http', port: 9600, targetPort: 'http', protocol: 'TCP' as const }] },
    }),
    new Service({
      metadata: { name, labels: labels(name) },
      spec: {
        selector: labels(name),
        // One exporter's templates and data must reach the same replica.
        sessionAffinity: 'ClientIP',
        ports: exporterPorts.map(({ name: portName, port, protocol }) => ({ name: portName, port, targetPort: portName, protocol })),
      },
    }),
    new NetworkPolicy({
      metadata: { name, labels: labels(name) },
      spec: {
        podSelector: { matchLabels: labels(name) },
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: ['flow-aggregator', 'kube-system'].map((ns) => ({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } } })),
            ports: exporterPorts.map(({ port, protocol }) => ({ port, protocol })),
          },
          {
            from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } } }],
            ports: [{ port: 9600, protocol: 'TCP' as const }],
          },
        ],
      },
    }),
  ];
}

/** Once Elasticsearch answers: passwords for Kibana and the collector, the collector's role, then `setup`. */
export function setupJob(access: ClusterAccess = QUICK_START) {
  // Passwords reach curl through a configuration file and request bodies through stdin, never a command line.
  const users = [
    'set -euo pipefail',
    `${curlUser('ELASTIC_PASSWORD')} > /tmp/elastic.curlrc`,
    `es() { curl -fsS --cacert ${CA_DIR}/ca.crt -K /tmp/elastic.curlrc -H "Content-Type: application/json" "${access.url}$1" "\${@:2}"; }`,
    'until es "/_cluster/health?wait_for_status=yellow&timeout=5s" >/dev/null; do echo "waiting for Elasticsearch"; sleep 5; done',
    ...(access.setKibanaSystemPassword ? ['printf \'{"password":"%s"}\' "${KIBANA_PASSWORD}" | es /_security/user/kibana_system/_password -X POST --data-binary @-'] : []),
    'es /_security/role/elk-flow-collector -X PUT -d \'{"cluster":["monitor","manage_ilm","manage_index_templates"],"indices":[{"names":["flow-*"],"privileges":["create_doc","create_index","auto_configure","view_index_metadata"]}]}\'',
    'printf \'{"password":"%s","roles":["elk-flow-collector"]}\' "${COLLECTOR_PASSWORD}" | es /_security/user/elk-flow-collector -X PUT --data-binary @-',
  ].join('\n');
  return new Job({
    metadata: { name: 'elk-flow-collector-setup', labels: labels('elk-flow-collector-setup') },
    spec: {
      backoffLimit: 10,
      template: {
        metadata: { labels: labels('elk-flow-collector-setup') },
        spec: {
          restartPolicy: 'OnFailure',
          securityContext: podSecurity(1000),
          automountServiceAccountToken: false,
          initContainers: [
            {
              name: 'users',
              image: ELASTICSEARCH_IMAGE,
              command: ['bash', '-c', users],
              env: [
                elasticPasswordEnv(access, 'ELASTIC_PASSWORD'),
                ...(access.setKibanaSystemPassword ? [secretEnv('KIBANA_PASSWORD', SECRET_KEYS.kibana)] : []),
                secretEnv('COLLECTOR_PASSWORD', SECRET_KEYS.collector),
              ],
              volumeMounts: [...caMounts, { name: 'tmp', mountPath: '/tmp' }],
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
                ...caEnv,
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
                ...caMounts,
                ...(access.kibanaCaSecret ? [{ name: 'kibana-ca', mountPath: KIBANA_CA_DIR, readOnly: true }] : []),
              ],
            },
          ],
          volumes: [
            { name: 'config', configMap: { name: CONFIGMAP } },
            { name: 'app', emptyDir: {} },
            { name: 'tmp', emptyDir: { medium: 'Memory' } },
            ...caVolumes(access),
            ...(access.kibanaCaSecret ? [{ name: 'kibana-ca', secret: { secretName: access.kibanaCaSecret } }] : []),
          ],
        },
      },
    },
  });
}

/** Every object of manifests/elk-flow-collector.yml, in apply order. */
export function manifestObjects(tls?: TlsInput) {
  return [...certificates(), ...elasticsearch(), ...kibana(), ...collector(QUICK_START, tls), setupJob()];
}
