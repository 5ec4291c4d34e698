// manifests/tls/: IPFIX over TLS (RFC 7011 §10.4) from Antrea to the collector. The quick start with the
// collector's TLS input on (mutual TLS), an example cert-manager setup that issues the collector's certificate and
// the exporters' client certificates from one CA, the Flow Aggregator's flowCollector.tls settings, and a
// FlowExporterDestination for Antrea agents that export directly. Field names are Antrea's own (v2.4–v2.7:
// pkg/config/flowaggregator, build/charts/flow-aggregator; crd.antrea.io/v1alpha1 FlowExporterDestination,
// v2.5+) and cert-manager's (cert-manager.io/v1, typed with @kubernetes-models/cert-manager).
import { Certificate } from '@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate';
import { ClusterIssuer } from '@kubernetes-models/cert-manager/cert-manager.io/v1/ClusterIssuer';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { eckObjects } from './eck.js';
import { manifestObjects, TLS_PORT, TLS_SECRET, type TlsInput } from './manifest.js';

/** The namespaces the README uses: ours, the Flow Aggregator's, Antrea's, and cert-manager's own. */
export const NAMESPACE = 'elk-flow-collector';
export const FLOW_AGGREGATOR_NAMESPACE = 'flow-aggregator';
export const ANTREA_NAMESPACE = 'kube-system';
export const CERT_MANAGER_NAMESPACE = 'cert-manager';

/** The collector's Service name, as exporters and certificates name it. */
const SERVICE_DNS = [`elk-flow-collector.${NAMESPACE}.svc`, `elk-flow-collector.${NAMESPACE}.svc.cluster.local`, `elk-flow-collector.${NAMESPACE}`];
/** What exporters verify the collector's certificate against (serverName / SNI). */
export const SERVER_NAME = SERVICE_DNS[0];

export const TLS_INPUT: TlsInput = { secret: TLS_SECRET, mutual: true };
/** The client certificate of the Flow Aggregator (its namespace) and of the agents (ours, read through RBAC). */
export const AGGREGATOR_CLIENT_SECRET = 'elk-flow-collector-client-tls';
export const AGENT_CLIENT_SECRET = 'antrea-agent-elk-flow-collector-client-tls';
/** The CA as a ConfigMap (key ca.crt), which is what a FlowExporterDestination reads. */
export const CA_CONFIGMAP = 'elk-flow-collector-ca';

/** Every object of manifests/tls/elk-flow-collector-tls.yml: the quick start with the TLS input. */
export function tlsManifestObjects() {
  return manifestObjects(TLS_INPUT);
}

/** Every object of manifests/tls/elk-flow-collector-eck-tls.yml: the ECK variant with the TLS input. */
export function tlsEckObjects() {
  return eckObjects(TLS_INPUT);
}

/**
 * manifests/tls/cert-manager.yml: a self-signed root made by cert-manager, a CA ClusterIssuer on it, and three
 * certificates: the collector's (server auth), the Flow Aggregator's and the agents' (client auth). Every Secret
 * cert-manager writes holds ca.crt beside tls.crt and tls.key; the collector trusts exactly that CA for clients.
 * cert-manager renews them before they expire; the collector reloads its files when the Secret changes.
 */
export function certManagerObjects() {
  const root = 'elk-flow-collector-root';
  const ca = 'elk-flow-collector-ca';
  const key = { algorithm: 'ECDSA' as const, size: 256, rotationPolicy: 'Always' as const };
  const issuer = { kind: 'ClusterIssuer', name: ca, group: 'cert-manager.io' };
  const client = (secretName: string, namespace: string, commonName: string) =>
    new Certificate({
      metadata: { name: secretName, namespace },
      spec: { secretName, commonName, usages: ['digital signature', 'client auth'], duration: '2160h', renewBefore: '360h', privateKey: key, issuerRef: issuer },
    });
  return [
    new ClusterIssuer({ metadata: { name: root }, spec: { selfSigned: {} } }),
    // A ClusterIssuer of type ca reads its Secret from cert-manager's own namespace.
    new Certificate({
      metadata: { name: ca, namespace: CERT_MANAGER_NAMESPACE },
      spec: {
        isCA: true,
        commonName: 'elk-flow-collector CA',
        secretName: ca,
        duration: '87600h',
        privateKey: key,
        issuerRef: { kind: 'ClusterIssuer', name: root, group: 'cert-manager.io' },
      },
    }),
    new ClusterIssuer({ metadata: { name: ca }, spec: { ca: { secretName: ca } } }),
    new Certificate({
      metadata: { name: TLS_SECRET, namespace: NAMESPACE },
      spec: {
        secretName: TLS_SECRET,
        commonName: SERVER_NAME,
        dnsNames: ['elk-flow-collector', ...SERVICE_DNS],
        usages: ['digital signature', 'server auth'],
        duration: '2160h',
        renewBefore: '360h',
        privateKey: key,
        issuerRef: issuer,
      },
    }),
    client(AGGREGATOR_CLIENT_SECRET, FLOW_AGGREGATOR_NAMESPACE, 'flow-aggregator'),
    client(AGENT_CLIENT_SECRET, NAMESPACE, 'antrea-agent'),
  ];
}

/**
 * The Flow Aggregator's flowCollector settings for the collector's TLS port, the same keys in flow-aggregator.conf
 * and in the Helm chart's values (Antrea v2.4+). caSecretName and clientSecretName are Secrets in the Flow
 * Aggregator's namespace: ca.crt, and tls.crt/tls.key (cert-manager's client Secret holds all three).
 */
export function flowAggregatorSettings() {
  return {
    flowCollector: {
      enable: true,
      // <host>:<port>[:<proto>]; the host may be a DNS name (the aggregator dials it). TLS runs over tcp only.
      address: `${SERVER_NAME}:${TLS_PORT}:tcp`,
      recordFormat: 'IPFIX',
      tls: {
        enable: true,
        caSecretName: AGGREGATOR_CLIENT_SECRET,
        serverName: SERVER_NAME,
        clientSecretName: AGGREGATOR_CLIENT_SECRET,
        minVersion: 'VersionTLS12',
      },
    },
  };
}

/** crd.antrea.io/v1alpha1 FlowExporterDestination (Antrea v2.5, v2.6, v2.7), the fields used here. */
export interface FlowExporterDestination {
  apiVersion: 'crd.antrea.io/v1alpha1';
  kind: 'FlowExporterDestination';
  metadata: { name: string };
  spec: {
    address: string;
    protocol: { ipfix: { transport: 'tcp' | 'udp' | 'tls' } };
    activeFlowExportTimeoutSeconds?: number;
    idleFlowExportTimeoutSeconds?: number;
    tlsConfig?: {
      serverName?: string;
      minTLSVersion?: 'VersionTLS12' | 'VersionTLS13';
      caConfigMap: { namespace: string; name: string };
      clientSecret?: { namespace: string; name: string };
    };
  };
}

/**
 * manifests/tls/flowexporterdestination.yml: every agent exports IPFIX over mutual TLS straight to the collector
 * (a cluster-scoped resource; the address is <Namespace>/<Service>:<port>, resolved by the agent). The agents read
 * the CA ConfigMap and their client Secret in our namespace, which Antrea's own RBAC does not cover: a Role for
 * those two objects, bound to the antrea-agent ServiceAccount.
 */
export function flowExporterDestinationObjects(): { toJSON(): unknown; validate?(): void }[] {
  const destination: FlowExporterDestination = {
    apiVersion: 'crd.antrea.io/v1alpha1',
    kind: 'FlowExporterDestination',
    metadata: { name: 'elk-flow-collector' },
    spec: {
      address: `${NAMESPACE}/elk-flow-collector:${TLS_PORT}`,
      protocol: { ipfix: { transport: 'tls' } },
      tlsConfig: {
        serverName: SERVER_NAME,
        minTLSVersion: 'VersionTLS12',
        caConfigMap: { namespace: NAMESPACE, name: CA_CONFIGMAP },
        clientSecret: { namespace: NAMESPACE, name: AGENT_CLIENT_SECRET },
      },
    },
  };
  const name = 'antrea-agent-elk-flow-collector-tls';
  return [
    { toJSON: () => destination },
    new Role({
      metadata: { name, namespace: NAMESPACE },
      rules: [
        { apiGroups: [''], resources: ['configmaps'], resourceNames: [CA_CONFIGMAP], verbs: ['get'] },
        { apiGroups: [''], resources: ['secrets'], resourceNames: [AGENT_CLIENT_SECRET], verbs: ['get'] },
      ],
    }),
    new RoleBinding({
      metadata: { name, namespace: NAMESPACE },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name: 'antrea-agent', namespace: ANTREA_NAMESPACE }],
    }),
  ];
}
