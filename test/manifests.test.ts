// The ConfigMap folder (manifests/elk-flow-collector/): its configuration is valid for the collector, its Antrea
// definitions decode as the built-in ones, and the ConfigMap `kubectl create configmap --from-file` makes of it
// stays under Kubernetes' 1 MiB object limit.
import { readdirSync, readFileSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../collector/src/config/load.js';
import { ElementRegistry } from '../collector/src/ie/registry.js';
import { loadIpfixDefinitions } from '../collector/src/ie/logstash-definitions.js';
import { createSocket } from 'node:dgram';
import { createConnection } from 'node:net';
import { aggregatorLayout, aggregatorRecord, dataMessage, templateMessage } from './support/antrea-encoder.js';
import { flowAggregatorJson } from './support/go-ipfix-json.js';
import { decodeAll, testPipeline } from './support/offline.js';
import { until } from './support/wait.js';

const folder = new URL('../manifests/elk-flow-collector/', import.meta.url).pathname;

/** What `kubectl create configmap NAME --from-file=FOLDER --dry-run=client -o yaml` prints: UTF-8 files under data, others base64 under binaryData. */
function configMapYaml(name: string): string {
  const data: Record<string, string> = {};
  const binaryData: Record<string, string> = {};
  for (const file of readdirSync(folder).sort()) {
    const bytes = readFileSync(join(folder, file));
    if (isUtf8(bytes)) data[file] = bytes.toString('utf8');
    else binaryData[file] = bytes.toString('base64');
  }
  return stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'elk-flow-collector' }, data, binaryData }, { lineWidth: 0 });
}

describe('ConfigMap folder', () => {
  it('holds a configuration the collector accepts', () => {
    const config = loadConfig(join(folder, 'collector.yml'), { ELASTICSEARCH_URL: 'https://elasticsearch:9200' });
    expect(config.output.sink).toBe('elasticsearch');
    expect(config.decoding.ipfixDefinitions).toEqual(['/etc/elk-flow-collector/antrea-ipfix.yml']);
    // The Flow Aggregator's JSON records on the legacy collector's port, TCP and UDP; IPFIX on 4739; no TLS here.
    expect(listenedPorts(config)).toEqual(['4736/TCP', '4736/UDP', '4739/TCP', '4739/UDP']);
  });

  it('has Antrea definitions that decode records exactly as the built-in elements do', () => {
    const registry = ElementRegistry.builtin().extend(loadIpfixDefinitions(join(folder, 'antrea-ipfix.yml')), []);
    const layout = aggregatorLayout(4);
    const header = { exportTimeSecs: 1_700_000_000, sequence: 0, domain: 1 };
    const messages = [templateMessage(header, 300, layout), dataMessage(header, 300, layout, [aggregatorRecord(1)])];
    const withFile = decodeAll(testPipeline({ registry }).pipeline, messages)[0].fields;
    const builtin = decodeAll(testPipeline().pipeline, messages)[0].fields;
    expect(withFile).toEqual(builtin);
    expect(withFile.flowEndSecondsFromSourceNode).toBe('2023-11-14T22:14:21.000Z');
  });

  it('makes a ConfigMap under the 1 MiB object limit', () => {
    const size = Buffer.byteLength(configMapYaml('elk-flow-collector'));
    expect(size).toBeLessThan(1024 * 1024);
  });
});

describe('manifests/elk-flow-collector.yml', async () => {
  const { parseAllDocuments } = await import('yaml');
  const manifest = await import('../manifests/src/manifest.js');
  const text = readFileSync(new URL('../manifests/elk-flow-collector.yml', import.meta.url), 'utf8');
  type K8s = { kind: string; metadata: { name: string }; spec: Record<string, any> };
  const objects = parseAllDocuments(text).map((d) => d.toJSON() as K8s);
  const objectsOf = (kind: string) => objects.filter((o) => o.kind === kind);
  const podSpecs = objects.flatMap((o) => (o.spec?.template ? [{ owner: `${o.kind}/${o.metadata.name}`, labels: o.spec.template.metadata?.labels ?? {}, spec: o.spec.template.spec }] : []));
  const containers = podSpecs.flatMap((p) => [...(p.spec.initContainers ?? []), ...p.spec.containers].map((c: any) => ({ owner: p.owner, pod: p, c })));

  it('holds valid Kubernetes objects', async () => {
    const classes: Record<string, new (o: any) => { validate(): void }> = {
      StatefulSet: (await import('kubernetes-models/apps/v1/StatefulSet')).StatefulSet,
      Deployment: (await import('kubernetes-models/apps/v1/Deployment')).Deployment,
      Service: (await import('kubernetes-models/v1/Service')).Service,
      NetworkPolicy: (await import('kubernetes-models/networking.k8s.io/v1/NetworkPolicy')).NetworkPolicy,
      Job: (await import('kubernetes-models/batch/v1/Job')).Job,
      ServiceAccount: (await import('kubernetes-models/v1/ServiceAccount')).ServiceAccount,
      Role: (await import('kubernetes-models/rbac.authorization.k8s.io/v1/Role')).Role,
      RoleBinding: (await import('kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding')).RoleBinding,
    };
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'Deployment/kibana', 'Job/elasticsearch-certs', 'Job/elk-flow-collector-setup',
      'NetworkPolicy/elasticsearch', 'NetworkPolicy/elk-flow-collector', 'NetworkPolicy/kibana',
      'Role/elasticsearch-certs', 'RoleBinding/elasticsearch-certs', 'Service/elasticsearch', 'Service/elasticsearch-nodes',
      'Service/elk-flow-collector', 'Service/elk-flow-collector-pods', 'Service/kibana', 'ServiceAccount/elasticsearch-certs',
      'StatefulSet/elasticsearch', 'StatefulSet/elk-flow-collector',
    ]);
    for (const o of objects) expect(() => new classes[o.kind](o).validate(), `${o.kind}/${o.metadata.name}`).not.toThrow();
  });

  it('references only what exists: ConfigMap files, Secret keys, volumes, port names, selectors', () => {
    const files = new Set(readdirSync(folder));
    const secretKeys = new Set(Object.values(manifest.SECRET_KEYS));
    // The Secrets a pod mounts: the certificates Job's two, which its script writes under these names.
    const certScript = objects.find((o) => o.metadata.name === 'elasticsearch-certs' && o.kind === 'Job')!.spec.template.spec.containers[0].command.join(' ');
    for (const { pod } of containers) for (const v of pod.spec.volumes ?? []) if (v.secret) {
      expect([manifest.ES_CERT_SECRET, manifest.ES_CA_SECRET], `${pod.owner} volume ${v.name}`).toContain(v.secret.secretName);
      expect(certScript).toContain(`"metadata":{"name":"${v.secret.secretName}"}`);
    }
    for (const { owner, pod, c } of containers) {
      for (const file of String(c.command?.join(' ') ?? '').match(/\/etc\/elk-flow-collector\/[\w.-]+/g) ?? []) expect(files, `${owner} ${file}`).toContain(file.split('/').pop());
      for (const e of c.env ?? []) if (e.valueFrom) {
        expect(e.valueFrom.secretKeyRef.name).toBe(manifest.SECRET);
        expect(secretKeys, `${owner} ${e.name}`).toContain(e.valueFrom.secretKeyRef.key);
      }
      const volumes = new Set((pod.spec.volumes ?? []).map((v: any) => v.name));
      const claims = objects.find((o) => `${o.kind}/${o.metadata.name}` === owner)?.spec.volumeClaimTemplates?.map((v: any) => v.metadata.name) ?? [];
      for (const m of c.volumeMounts ?? []) expect([...volumes, ...claims], `${owner} mount ${m.name}`).toContain(m.name);
      for (const v of pod.spec.volumes ?? []) if (v.configMap) expect(v.configMap.name).toBe(manifest.CONFIGMAP);
    }
    for (const service of objects.filter((o) => o.kind === 'Service')) {
      const pods = podSpecs.filter((p) => Object.entries(service.spec.selector).every(([k, v]) => p.labels[k] === v));
      expect(pods.length, `Service/${service.metadata.name}`).toBe(1);
      const portNames = new Set(pods[0].spec.containers.flatMap((c: any) => (c.ports ?? []).map((p: any) => p.name)));
      for (const port of service.spec.ports) expect(portNames, `Service/${service.metadata.name}`).toContain(port.targetPort);
    }
    for (const o of objects.filter((x) => x.spec?.selector?.matchLabels)) {
      expect(o.spec.template.metadata.labels).toMatchObject(o.spec.selector.matchLabels);
    }
  });

  it('exposes Kibana on NodePort 30007 and the collector on 4739 (IPFIX) and 4736 (JSON), UDP and TCP, with client affinity, behind a NetworkPolicy', () => {
    const kibana = objects.find((o) => o.kind === 'Service' && o.metadata.name === 'kibana')!;
    expect(kibana.spec.type).toBe('NodePort');
    expect(kibana.spec.ports[0].nodePort).toBe(30007);
    const collector = objects.find((o) => o.kind === 'Service' && o.metadata.name === 'elk-flow-collector')!;
    expect(collector.spec.sessionAffinity).toBe('ClientIP');
    expect(collector.spec.ports.map((p: any) => `${p.port}/${p.protocol}`).sort()).toEqual(['4736/TCP', '4736/UDP', '4739/TCP', '4739/UDP']);
    const policy = objects.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'elk-flow-collector')!;
    const sources = policy.spec.ingress[0].from.map((f: any) => f.namespaceSelector.matchLabels['kubernetes.io/metadata.name']);
    expect(sources).toEqual(['flow-aggregator', 'kube-system']);
    // Service, container and NetworkPolicy carry exactly what the pod's configuration listens on.
    const set = objects.find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'elk-flow-collector')!;
    expect(exporterPortViolations(objects, set.spec.template.spec.containers[0])).toEqual([]);
  });

  it('runs every container under Pod Security "restricted", read-only, with requests and limits', () => {
    expect(containers.length).toBe(7);
    for (const { owner, pod, c } of containers) {
      expect(c.resources?.requests && c.resources?.limits, `${owner}/${c.name} resources`).toBeTruthy();
      expect(restrictedViolations(pod.spec, c), `${owner}/${c.name}`).toEqual([]);
    }
    for (const { spec, owner } of podSpecs) {
      expect(spec.hostNetwork ?? false, owner).toBe(false);
      expect((spec.volumes ?? []).filter((v: any) => v.hostPath), owner).toEqual([]);
    }
    expect(text).not.toMatch(/sysctl|privileged: true/);
    expect(objectsOf('StatefulSet').find((o) => o.metadata.name === 'elasticsearch')!.spec.template.spec.containers[0].env).toContainEqual({ name: 'node.store.allow_mmap', value: 'false' });
    expect(text).not.toMatch(/password["']?\s*[:=]\s*["']?\w/i);
  });

  it('puts no password or token on a command line: they reach curl through files and stdin, from Secrets', () => {
    for (const { owner, c } of containers) expect(commandLineSecrets(c), `${owner}/${c.name}`).toEqual([]);
    const probe = objectsOf('StatefulSet').find((o) => o.metadata.name === 'elasticsearch')!.spec.template.spec.containers[0].readinessProbe.exec.command;
    expect(commandLineSecrets({ command: probe })).toEqual([]);
    expect(probe.join(' ')).toContain('-K -');
  });

  it('serves Elasticsearch over HTTPS with generated certificates, the CA handed to every client', () => {
    const es = objectsOf('StatefulSet').find((o) => o.metadata.name === 'elasticsearch')!.spec.template.spec;
    const env = Object.fromEntries(es.containers[0].env.map((e: any) => [e.name, e.value]));
    expect(env['xpack.security.http.ssl.enabled']).toBe('true');
    const certDir = es.containers[0].volumeMounts.find((m: any) => m.name === 'certs').mountPath;
    for (const key of ['xpack.security.http.ssl.key', 'xpack.security.http.ssl.certificate', 'xpack.security.http.ssl.certificate_authorities']) {
      expect(env[key].startsWith(`${certDir}/`), key).toBe(true);
      expect(env[key].startsWith('/usr/share/elasticsearch/config/'), `${key}: Elasticsearch reads only files under its config directory`).toBe(true);
    }
    expect(es.volumes.find((v: any) => v.name === 'certs').secret.secretName).toBe(manifest.ES_CERT_SECRET);
    const certs = objectsOf('Job').find((o) => o.metadata.name === 'elasticsearch-certs')!;
    const script = certs.spec.template.spec.containers[0].command.join(' ');
    expect(script).toMatch(/elasticsearch-certutil ca .*--pem/);
    expect(script).toMatch(/--dns "\$hosts"/);
    expect(script).toContain('hosts="elasticsearch,');
    // The Job may create Secrets and read only its own; the ServiceAccount is its alone.
    const role = objectsOf("Role")[0] as any;
    expect(role.rules.flatMap((r: any) => r.verbs).sort()).toEqual(['create', 'get', 'update']);
    expect(role.rules.every((r: any) => r.resources.join() === 'secrets')).toBe(true);
    expect(certs.spec.template.spec.serviceAccountName).toBe(objectsOf('ServiceAccount')[0].metadata.name);
    for (const { owner, pod, c } of containers.filter((x) => x.pod.owner !== 'Job/elasticsearch-certs' && x.pod.owner !== 'StatefulSet/elasticsearch' && x.c.name !== 'config')) {
      const text = JSON.stringify(c);
      expect(text, `${owner}/${c.name}`).not.toContain('http://elasticsearch');
      const caVolume = pod.spec.volumes.find((v: any) => v.secret?.secretName === manifest.ES_CA_SECRET);
      expect(caVolume, `${owner}/${c.name} mounts the CA`).toBeTruthy();
      const mount = c.volumeMounts.find((m: any) => m.name === caVolume.name);
      expect(text, `${owner}/${c.name} uses the CA`).toContain(`${mount.mountPath}/ca.crt`);
    }
    const kibanaEnv = objectsOf('Deployment')[0].spec.template.spec.containers[0].env;
    expect(kibanaEnv).toContainEqual({ name: 'ELASTICSEARCH_HOSTS', value: '["https://elasticsearch:9200"]' });
  });

  it('lets only the collector, Kibana and the setup Job reach Elasticsearch, on 9200 only', () => {
    const policy = objectsOf('NetworkPolicy').find((o) => o.metadata.name === 'elasticsearch')!;
    const esPods = podSpecs.filter((p) => Object.entries(policy.spec.podSelector.matchLabels).every(([k, v]) => p.labels[k] === v));
    expect(esPods.map((p) => p.owner)).toEqual(['StatefulSet/elasticsearch']);
    expect(policy.spec.policyTypes).toEqual(['Ingress']);
    expect(policy.spec.ingress).toHaveLength(1);
    expect(policy.spec.ingress[0].ports).toEqual([{ port: 9200, protocol: 'TCP' }]);
    const admitted = podSpecs.filter((p) => policy.spec.ingress[0].from.some((f: any) => f.podSelector && !f.namespaceSelector && Object.entries(f.podSelector.matchLabels).every(([k, v]) => p.labels[k] === v)));
    expect(admitted.map((p) => p.owner).sort()).toEqual(['Deployment/kibana', 'Job/elk-flow-collector-setup', 'StatefulSet/elk-flow-collector']);
    const kibana = objectsOf('NetworkPolicy').find((o) => o.metadata.name === 'kibana')!;
    expect(kibana.spec.ingress).toEqual([{ ports: [{ port: 5601, protocol: 'TCP' }] }]);
  });

  it('keeps the collector\'s spool, dead letters and templates on a claim per replica that outlives the pod', () => {
    expect(collectorStateViolations(objects, readFileSync(join(folder, 'collector.yml'), 'utf8'))).toEqual([]);
  });

  it('pod simulation: a rolling update during an outage; the next pod, on the same claim, ships what the last one spooled', async () => {
    const { mkdtempSync, mkdirSync, cpSync, writeFileSync: write } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { rootCertificates } = await import('node:tls');
    const { replay } = await import('../collector/src/cli/replay.js');
    const { startFakeElasticsearch } = await import('./support/fake-elasticsearch.js');
    const { startProcess, killCollectors } = await import('./support/process.js');
    const { scrapeMetric } = await import('./support/wait.js');
    const statefulSet = objects.find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'elk-flow-collector')!;
    const pod = statefulSet.spec.template.spec;
    const container = pod.containers[0];
    const root = mkdtempSync(join(tmpdir(), 'elkfc-pod-'));
    // Each mount of the pod as a directory: the ConfigMap, the emptyDirs, the CA Secret, and the claim, which is the
    // one directory both pods share (the same ordinal's PersistentVolumeClaim).
    const claim = statefulSet.spec.volumeClaimTemplates[0].metadata.name;
    const dirs = (podName: string): Record<string, string> =>
      Object.fromEntries(container.volumeMounts.map((m: any) => [m.mountPath, join(root, m.name === claim ? 'claim' : `${podName}-${m.name}`)]));
    const prepare = (podName: string) => {
      const mounts = dirs(podName);
      const remap = (t: string) => Object.entries(mounts).sort(([a], [b]) => b.length - a.length).reduce((r, [from, to]) => r.replaceAll(from, to), t);
      for (const dir of Object.values(mounts)) mkdirSync(dir, { recursive: true });
      const configDir = mounts['/etc/elk-flow-collector'];
      // The ConfigMap's files where the volume mount puts them; ports 0 so that tests never collide.
      cpSync(folder, configDir, { recursive: true });
      write(join(configDir, 'collector.yml'), remap(readFileSync(join(folder, 'collector.yml'), 'utf8')).replace(/port: \d+/g, 'port: 0').replaceAll("host: '::'", 'host: 127.0.0.1'));
      // The CA Secret's file (a real certificate; the stand-in cluster below speaks HTTP).
      const ca = pod.volumes.find((v: any) => v.secret?.secretName === manifest.ES_CA_SECRET).name;
      write(join(mounts[container.volumeMounts.find((m: any) => m.name === ca).mountPath], 'ca.crt'), rootCertificates[0]);
      const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: root };
      for (const e of container.env) env[e.name] = e.value === undefined ? 'from-the-secret' : remap(e.value);
      env.ELASTICSEARCH_URL = es.url; // the Service elasticsearch:9200, here the local stand-in
      return startProcess(container.command.map(remap), { cwd: root, env });
    };
    const es = await startFakeElasticsearch();
    try {
      const first = await prepare('elk-flow-collector-0-old');
      expect((await fetch(`http://127.0.0.1:${first.httpPort}/readyz`)).status).toBe(200);
      es.faults.down = true;
      await replay({ files: [`${SOFTFLOWD_CAPTURE}`], host: '127.0.0.1', port: first.udpPort, protocol: 'udp', rate: 0, repeat: 1 });
      await until(async () => (await scrapeMetric(first.httpPort, 'elkfc_records_decoded_total')) >= 15, 15_000, 'records decoded');
      const ipfixDecoded = await scrapeMetric(first.httpPort, 'elkfc_records_decoded_total');
      // The JSON input the ConfigMap turns on: one Flow Aggregator JSON record over TCP, one over UDP, to the ports
      // the pod's collector says it listens on (collector.yml's 4736, here port 0).
      const listening = (msg: string) => {
        const line = first.log().split('\n').find((l) => l.startsWith('{') && JSON.parse(l).msg === msg);
        expect(line, `${msg}: ${first.log()}`).toBeTruthy();
        return (JSON.parse(line!).address as { port: number }).port;
      };
      const jsonPort = listening('JSON-TCP input listening');
      expect(listening('JSON UDP input listening')).toBe(jsonPort);
      const sendTime = Math.floor(Date.now() / 1000);
      const tcp = createConnection({ host: '127.0.0.1', port: jsonPort });
      await new Promise<void>((resolve, reject) => tcp.once('error', reject).end(flowAggregatorJson(aggregatorLayout(4), aggregatorRecord(1), sendTime), resolve));
      const udp = createSocket('udp4');
      await new Promise<void>((resolve, reject) => udp.send(flowAggregatorJson(aggregatorLayout(4), aggregatorRecord(2), sendTime), jsonPort, '127.0.0.1', (error) => (error ? reject(error) : resolve())));
      udp.close();
      await until(async () => (await scrapeMetric(first.httpPort, 'elkfc_records_decoded_total')) >= ipfixDecoded + 2, 15_000, 'JSON records decoded');
      const decoded = await scrapeMetric(first.httpPort, 'elkfc_records_decoded_total');
      expect(decoded).toBe(ipfixDecoded + 2);
      // The rolling update: SIGTERM, within the grace period the pod spools what the cluster did not take.
      const started = Date.now();
      first.child.kill('SIGTERM');
      expect(await first.exited, first.log()).toBe(0);
      expect(Date.now() - started).toBeLessThan(statefulSet.spec.template.spec.terminationGracePeriodSeconds * 1000);
      expect(es.documents.size).toBe(0);
      es.faults.down = false;
      const second = await prepare('elk-flow-collector-0-new');
      await until(() => es.documents.size >= decoded, 20_000, 'the spooled documents in the stand-in cluster').catch((error) => {
        throw new Error(`${(error as Error).message}; collector log: ${second.log()}`);
      });
      expect(es.documents.size).toBe(decoded);
      expect([...es.received.values()].every((n) => n === 1)).toBe(true);
      expect([...es.documents.values()][0].index).toMatch(/^flow-\d{4}\.\d{2}\.\d{2}$/); // daily indices, the default
      // The two JSON records among them, as Flow Aggregator documents.
      const pods = [...es.documents.values()].map((d) => (d.document.ipfix as Record<string, unknown> | undefined)?.sourcePodName).filter(Boolean);
      expect(pods.sort()).toEqual(['client-1', 'client-2']);
    } finally {
      killCollectors();
      await es.close();
    }
  }, 60_000);
});

/** What a collector configuration listens on for exporters, as `port/PROTOCOL`, sorted (inputs/*.ts's rules). */
function listenedPorts(config: ReturnType<typeof loadConfig>): string[] {
  const { udp, tcp, tls, json } = config.inputs;
  const tlsOn = (t: { certFile: string | null; keyFile: string | null }) => t.certFile !== null && t.keyFile !== null;
  const ports = new Set<string>();
  if (udp.enabled) ports.add(`${udp.port}/UDP`);
  if (tcp.enabled) ports.add(`${tcp.port}/TCP`);
  if (tlsOn(tls)) ports.add(`${tls.port}/TCP`);
  if (json.port !== null) {
    // UDP always; TCP plain, or TLS in its place when inputs.json.tls has no port of its own.
    ports.add(`${json.port}/UDP`);
    ports.add(`${json.port}/TCP`);
    if (tlsOn(json.tls) && json.tls.port !== null) ports.add(`${json.tls.port}/TCP`);
  }
  return [...ports].sort();
}

/**
 * Where the collector's exporter ports disagree: the pod's configuration (the ConfigMap's collector.yml with the
 * container's ELKFC_ environment) against the container's ports, the exporters' Service and the NetworkPolicy.
 */
function exporterPortViolations(objects: { kind: string; metadata: { name: string }; spec: any }[], container: any): string[] {
  const env: NodeJS.ProcessEnv = { ELASTICSEARCH_URL: 'https://elasticsearch:9200' };
  for (const e of container.env ?? []) if (e.name.startsWith('ELKFC_')) env[e.name] = e.value;
  const listened = listenedPorts(loadConfig(join(folder, 'collector.yml'), env));
  const key = (port: number, protocol = 'TCP') => `${port}/${protocol}`;
  const out: string[] = [];
  const compare = (what: string, ports: string[]) => {
    const sorted = [...ports].sort();
    if (JSON.stringify(sorted) !== JSON.stringify(listened)) out.push(`${what} ${sorted.join(',')} but the configuration listens on ${listened.join(',')}`);
  };
  compare('container ports', container.ports.filter((p: any) => p.name !== 'http').map((p: any) => key(p.containerPort, p.protocol)));
  const service = objects.find((o) => o.kind === 'Service' && o.metadata.name === 'elk-flow-collector')!;
  compare('Service ports', service.spec.ports.map((p: any) => key(p.port, p.protocol)));
  const byName = new Map(container.ports.map((p: any) => [p.name, key(p.containerPort, p.protocol)]));
  for (const p of service.spec.ports) if (byName.get(p.targetPort) !== key(p.port, p.protocol)) out.push(`Service port ${p.name} targets ${p.targetPort}`);
  const policy = objects.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'elk-flow-collector')!;
  compare('NetworkPolicy exporter ports', policy.spec.ingress[0].ports.map((p: any) => key(p.port, p.protocol)));
  return out;
}

/** Pod Security Standards "restricted" (v1.30), for one container with its pod's context: what it breaks. */
function restrictedViolations(pod: any, c: any): string[] {
  const sc = c.securityContext ?? {};
  const ps = pod.securityContext ?? {};
  const out: string[] = [];
  if (sc.privileged) out.push('privileged');
  if (sc.allowPrivilegeEscalation !== false) out.push('allowPrivilegeEscalation not false');
  if (!(sc.runAsNonRoot ?? ps.runAsNonRoot)) out.push('runAsNonRoot not true');
  if ((sc.runAsUser ?? ps.runAsUser) === 0) out.push('runAsUser 0');
  const seccomp = sc.seccompProfile?.type ?? ps.seccompProfile?.type;
  if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') out.push(`seccompProfile ${seccomp}`);
  if (!(sc.capabilities?.drop ?? []).includes('ALL')) out.push('capabilities not dropped');
  for (const cap of sc.capabilities?.add ?? []) if (cap !== 'NET_BIND_SERVICE') out.push(`adds ${cap}`);
  if (sc.readOnlyRootFilesystem !== true) out.push('root filesystem writable');
  return out;
}

/**
 * Lines of a container's command that would put a secret into a process's argv: a variable holding a password or
 * token expanded as an argument of anything but the shell's printf (a builtin: no process), or curl's -u.
 */
function commandLineSecrets(c: { command?: string[]; args?: string[] }): string[] {
  const lines = [...(c.command ?? []), ...(c.args ?? [])].join('\n').split('\n');
  return lines.filter((line) => /\s-u\s/.test(line) || (/\$\{?\w*(PASSWORD|TOKEN)\}?|cat \S*token/i.test(line) && !/^\s*printf\s/.test(line)));
}

/**
 * What keeps the collector's state across a rolling update, for a manifest's objects and its collector.yml: a
 * StatefulSet (no Deployment), a ReadWriteOnce claim per replica mounted where every state path is, retained,
 * not shadowed by a pod volume, and a grace period longer than the collector's shutdown.
 */
function collectorStateViolations(objects: { kind: string; metadata: { name: string }; spec: any }[], collectorYml: string): string[] {
  const out: string[] = [];
  if (objects.some((o) => o.kind === 'Deployment' && o.metadata.name === 'elk-flow-collector')) out.push('a Deployment');
  const set = objects.find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'elk-flow-collector');
  if (!set) return [...out, 'no StatefulSet'];
  const governing = objects.find((o) => o.kind === 'Service' && o.metadata.name === set.spec.serviceName);
  if (governing?.spec.clusterIP !== 'None') out.push(`serviceName ${set.spec.serviceName} is no headless Service`);
  const pod = set.spec.template.spec;
  const container = pod.containers[0];
  const claims = (set.spec.volumeClaimTemplates ?? []) as any[];
  if (claims.length !== 1) return [...out, `${claims.length} claims`];
  const claim = claims[0];
  if (claim.spec.accessModes.join() !== 'ReadWriteOnce') out.push('claim not ReadWriteOnce');
  if (!claim.spec.resources?.requests?.storage) out.push('claim without a size');
  if ((pod.volumes ?? []).some((v: any) => v.name === claim.metadata.name)) out.push('a pod volume shadows the claim');
  const mount = container.volumeMounts.find((m: any) => m.name === claim.metadata.name);
  if (!mount || mount.readOnly) return [...out, 'claim not mounted writable'];
  const config = parse(collectorYml);
  const paths = { spoolDirectory: config.elasticsearch.spoolDirectory, deadLetterPath: config.elasticsearch.deadLetterPath, templateStatePath: config.decoding.templateStatePath };
  for (const [key, path] of Object.entries(paths)) if (!String(path).startsWith(`${mount.mountPath}/`)) out.push(`${key} ${path} not on the claim`);
  const retention = set.spec.persistentVolumeClaimRetentionPolicy ?? {};
  if (retention.whenDeleted !== 'Retain' || retention.whenScaled !== 'Retain') out.push('claims not retained');
  const spoolMax = Number(config.elasticsearch.spoolMaxBytes);
  if (parseQuantity(claim.spec.resources.requests.storage) < spoolMax * 1.5) out.push(`claim ${claim.spec.resources.requests.storage} too small for spoolMaxBytes ${spoolMax} and the rest`);
  // The collector's own figure: the cluster's grace on SIGTERM, twice (memory, then requests under way).
  const sink = readFileSync(new URL('../collector/src/sinks/elasticsearch/sink.ts', import.meta.url), 'utf8');
  const grace = Number(sink.match(/SHUTDOWN_GRACE_MS = ([\d_]+)/)?.[1].replaceAll('_', '') ?? 10_000) / 1000;
  if (!(pod.terminationGracePeriodSeconds > 2 * grace + 10)) out.push(`terminationGracePeriodSeconds ${pod.terminationGracePeriodSeconds} leaves no margin over ${2 * grace} s`);
  return out;
}

function parseQuantity(q: string): number {
  const units: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
  const m = /^(\d+)(Ki|Mi|Gi|Ti)?$/.exec(q);
  if (!m) throw new Error(`quantity ${q}`);
  return Number(m[1]) * (m[2] ? units[m[2]] : 1);
}

const SOFTFLOWD_CAPTURE = new URL('../../shared/fixtures/softflowd/softflowd_ipfix_small.pcap', import.meta.url).pathname;

describe('manifests/eck/elk-flow-collector-eck.yml', async () => {
  const { parseAllDocuments } = await import('yaml');
  const text = readFileSync(new URL('../manifests/eck/elk-flow-collector-eck.yml', import.meta.url), 'utf8');
  type K8s = { kind: string; apiVersion: string; metadata: { name: string }; spec: Record<string, any> };
  const objects = parseAllDocuments(text).map((d) => d.toJSON() as K8s);
  const find = (kind: string) => objects.find((o) => o.kind === kind)!;

  it('has a three-node Elasticsearch and Kibana on NodePort 30007 for the ECK operator', () => {
    expect(find('Elasticsearch')).toMatchObject({ apiVersion: 'elasticsearch.k8s.elastic.co/v1', spec: { nodeSets: [{ count: 3 }] } });
    const kibana = find('Kibana');
    expect(kibana.spec.elasticsearchRef.name).toBe(find('Elasticsearch').metadata.name);
    expect(kibana.spec.http.service.spec).toMatchObject({ type: 'NodePort', ports: [{ nodePort: 30007 }] });
  });

  it('scales the collector and gives it and the setup Job the cluster CA over HTTPS', async () => {
    const { StatefulSet } = await import('kubernetes-models/apps/v1/StatefulSet');
    const { Job } = await import('kubernetes-models/batch/v1/Job');
    const { NetworkPolicy } = await import('kubernetes-models/networking.k8s.io/v1/NetworkPolicy');
    const set = find('StatefulSet');
    expect(() => new StatefulSet(set as never).validate()).not.toThrow();
    expect(() => new Job(find('Job') as never).validate()).not.toThrow();
    for (const policy of objects.filter((o) => o.kind === 'NetworkPolicy')) expect(() => new NetworkPolicy(policy as never).validate()).not.toThrow();
    expect(set.spec.replicas).toBe(3);
    const container = set.spec.template.spec.containers[0];
    const env = Object.fromEntries(container.env.map((e: any) => [e.name, e.value]));
    expect(env.ELASTICSEARCH_URL).toBe('https://elk-flow-collector-es-http:9200');
    expect(env.ELASTICSEARCH_CA_CERT).toBe('/etc/elk-flow-collector-ca/ca.crt');
    const ca = set.spec.template.spec.volumes.find((v: any) => v.name === 'ca');
    expect(ca.secret.secretName).toBe('elk-flow-collector-es-http-certs-public');
    expect(container.volumeMounts.map((m: any) => m.name)).toContain('ca');
    const users = find('Job').spec.template.spec.initContainers[0];
    expect(users.command.join(' ')).toContain('--cacert /etc/elk-flow-collector-ca/ca.crt');
    expect(users.command.join(' ')).not.toContain('kibana_system');
    expect(users.env.find((e: any) => e.name === 'ELASTIC_PASSWORD').valueFrom.secretKeyRef).toEqual({ name: 'elk-flow-collector-es-elastic-user', key: 'elastic' });
    expect(commandLineSecrets(users)).toEqual([]);
  });

  it('keeps each collector replica\'s state on its own claim, across rolling updates', () => {
    expect(collectorStateViolations(objects, readFileSync(join(folder, 'collector.yml'), 'utf8'))).toEqual([]);
  });

  it('runs no privileged container, and Elasticsearch and Kibana under "restricted" where ECK lets us say so', () => {
    expect(text).not.toMatch(/sysctl|privileged: true/);
    const es = find('Elasticsearch');
    expect(es.spec.nodeSets[0].config['node.store.allow_mmap']).toBe(false);
    for (const resource of [es.spec.nodeSets[0], find('Kibana').spec]) {
      const pod = resource.podTemplate.spec;
      expect(pod.initContainers ?? []).toEqual([]);
      for (const c of pod.containers) expect(restrictedViolations(pod, c), c.name).toEqual([]);
    }
    for (const o of objects.filter((x) => x.spec?.template)) {
      const pod = o.spec.template.spec;
      for (const c of [...(pod.initContainers ?? []), ...pod.containers]) expect(restrictedViolations(pod, c), `${o.kind}/${c.name}`).toEqual([]);
    }
  });

  it('lets only the collector, Kibana, the setup Job and ECK\'s operator reach 9200, and only Elasticsearch nodes 9300', () => {
    const policy = objects.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'elk-flow-collector-es')!;
    expect(policy.spec.podSelector.matchLabels).toEqual({ 'elasticsearch.k8s.elastic.co/cluster-name': find('Elasticsearch').metadata.name });
    const [http, transport] = policy.spec.ingress;
    expect(http.ports).toEqual([{ port: 9200, protocol: 'TCP' }]);
    const labelsOf = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name)!.spec.template.metadata.labels;
    const admits = (labels: Record<string, string>) => http.from.some((f: any) => f.podSelector && Object.entries(f.podSelector.matchLabels).every(([k, v]) => labels[k] === v));
    expect(admits(labelsOf('StatefulSet', 'elk-flow-collector'))).toBe(true);
    expect(admits(labelsOf('Job', 'elk-flow-collector-setup'))).toBe(true);
    expect(admits({ 'kibana.k8s.elastic.co/name': find('Kibana').metadata.name })).toBe(true);
    expect(admits({ 'app.kubernetes.io/name': 'something-else' })).toBe(false);
    expect(http.from.filter((f: any) => f.namespaceSelector)).toEqual([{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'elastic-system' } } }]);
    expect(transport).toEqual({ from: [{ podSelector: policy.spec.podSelector }], ports: [{ port: 9300, protocol: 'TCP' }] });
    const kibana = objects.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'elk-flow-collector-kb')!;
    expect(kibana.spec.ingress).toEqual([{ ports: [{ port: 5601, protocol: 'TCP' }] }]);
  });
});

describe('manifests/tls/: IPFIX over TLS from the Flow Aggregator and the agents', async () => {
  const { parseAllDocuments } = await import('yaml');
  const tls = await import('../manifests/src/tls.js');
  const manifest = await import('../manifests/src/manifest.js');
  const { configLeaves } = await import('../collector/src/config/load.js');
  type K8s = { kind: string; apiVersion: string; metadata: { name: string; namespace?: string }; spec: Record<string, any>; [k: string]: any };
  const read = (file: string) => parseAllDocuments(readFileSync(new URL(`../manifests/tls/${file}`, import.meta.url), 'utf8')).map((d) => d.toJSON() as K8s);
  const objects = read('elk-flow-collector-tls.yml');
  const plain = parseAllDocuments(readFileSync(new URL('../manifests/elk-flow-collector.yml', import.meta.url), 'utf8')).map((d) => d.toJSON() as K8s);
  const certs = read('cert-manager.yml');
  const destination = read('flowexporterdestination.yml');
  const aggregator = parse(readFileSync(new URL('../manifests/tls/flow-aggregator-values.yml', import.meta.url), 'utf8'));
  const get = (list: K8s[], kind: string, name: string) => list.find((o) => o.kind === kind && o.metadata.name === name)!;
  const set = get(objects, 'StatefulSet', 'elk-flow-collector');
  const container = set.spec.template.spec.containers[0];
  const env = Object.fromEntries(container.env.map((e: any) => [e.name, e.value]));
  const serverCert = certs.find((c) => c.kind === 'Certificate' && c.spec.secretName === manifest.TLS_SECRET)!;

  it('is the quick start with the collector\'s TLS input: only the collector\'s StatefulSet, Service and NetworkPolicy differ', async () => {
    const { StatefulSet } = await import('kubernetes-models/apps/v1/StatefulSet');
    const { Service } = await import('kubernetes-models/v1/Service');
    const { NetworkPolicy } = await import('kubernetes-models/networking.k8s.io/v1/NetworkPolicy');
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(plain.map((o) => `${o.kind}/${o.metadata.name}`));
    const changed = objects.filter((o, i) => JSON.stringify(o) !== JSON.stringify(plain[i])).map((o) => `${o.kind}/${o.metadata.name}`);
    expect(changed).toEqual(['StatefulSet/elk-flow-collector', 'Service/elk-flow-collector', 'NetworkPolicy/elk-flow-collector']);
    expect(() => new StatefulSet(set as never).validate()).not.toThrow();
    expect(() => new Service(get(objects, 'Service', 'elk-flow-collector') as never).validate()).not.toThrow();
    expect(() => new NetworkPolicy(get(objects, 'NetworkPolicy', 'elk-flow-collector') as never).validate()).not.toThrow();
    expect(collectorStateViolations(objects, readFileSync(join(folder, 'collector.yml'), 'utf8'))).toEqual([]);
    for (const c of set.spec.template.spec.containers) expect(restrictedViolations(set.spec.template.spec, c)).toEqual([]);
  });

  it('has the same for ECK: the ECK variant with only the collector\'s three objects changed, as above', () => {
    const eck = read('elk-flow-collector-eck-tls.yml');
    const eckPlain = parseAllDocuments(readFileSync(new URL('../manifests/eck/elk-flow-collector-eck.yml', import.meta.url), 'utf8')).map((d) => d.toJSON() as K8s);
    expect(eck.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(eckPlain.map((o) => `${o.kind}/${o.metadata.name}`));
    const changed = eck.filter((o, i) => JSON.stringify(o) !== JSON.stringify(eckPlain[i]));
    expect(changed.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['StatefulSet/elk-flow-collector', 'Service/elk-flow-collector', 'NetworkPolicy/elk-flow-collector']);
    // The same TLS parts as the quick start's, around ECK's connection to Elasticsearch.
    const tlsOf = (o: K8s) => o.kind === 'StatefulSet' ? o.spec.template.spec.containers[0].env.filter((e: any) => e.name.startsWith('ELKFC_INPUTS_')) : o.spec.ports ?? o.spec.ingress;
    for (const o of changed) expect(tlsOf(o)).toEqual(tlsOf(get(objects, o.kind, o.metadata.name)));
    expect(get(eck, 'StatefulSet', 'elk-flow-collector').spec.replicas).toBe(3);
    expect(exporterPortViolations(eck, get(eck, 'StatefulSet', 'elk-flow-collector').spec.template.spec.containers[0])).toEqual([]);
  });

  it('serves port 4740 (Service, container, NetworkPolicy) with the Secret\'s certificate, key and client CA', () => {
    const port = container.ports.find((p: any) => p.containerPort === 4740);
    expect(port).toEqual({ name: 'ipfix-tls', containerPort: 4740, protocol: 'TCP' });
    const service = get(objects, 'Service', 'elk-flow-collector');
    expect(service.spec.ports).toContainEqual({ name: 'ipfix-tls', port: 4740, targetPort: port.name, protocol: 'TCP' });
    expect(service.spec.sessionAffinity).toBe('ClientIP');
    const policy = get(objects, 'NetworkPolicy', 'elk-flow-collector');
    expect(policy.spec.ingress[0].ports).toContainEqual({ port: 4740, protocol: 'TCP' });
    const volume = set.spec.template.spec.volumes.find((v: any) => v.secret?.secretName === manifest.TLS_SECRET);
    const mount = container.volumeMounts.find((m: any) => m.name === volume.name);
    // A whole-directory mount: a renewed Secret reaches the files (a subPath mount would never change).
    expect(mount.subPath).toBeUndefined();
    expect(mount.readOnly).toBe(true);
    expect(env[manifest.TLS_ENV.certFile]).toBe(`${mount.mountPath}/tls.crt`);
    expect(env[manifest.TLS_ENV.keyFile]).toBe(`${mount.mountPath}/tls.key`);
    expect(env[manifest.TLS_ENV.clientCaFile]).toBe(`${mount.mountPath}/ca.crt`);
  });

  it('serves JSON over TLS on 4737 with the same certificate, key and client CA, plain JSON staying on 4736', () => {
    const port = container.ports.find((p: any) => p.containerPort === 4737);
    expect(port).toEqual({ name: 'json-tls', containerPort: 4737, protocol: 'TCP' });
    const service = get(objects, 'Service', 'elk-flow-collector');
    expect(service.spec.ports).toContainEqual({ name: 'json-tls', port: 4737, targetPort: port.name, protocol: 'TCP' });
    expect(get(objects, 'NetworkPolicy', 'elk-flow-collector').spec.ingress[0].ports).toContainEqual({ port: 4737, protocol: 'TCP' });
    for (const key of ['certFile', 'keyFile', 'clientCaFile'] as const) expect(env[manifest.JSON_TLS_ENV[key]], key).toBe(env[manifest.TLS_ENV[key]]);
    // The pod's own configuration: collector.yml with the StatefulSet's environment, TLS files where the Secret is.
    const config = loadConfig(join(folder, 'collector.yml'), env);
    expect(config.inputs.json).toMatchObject({ port: 4736, tls: { port: 4737, certFile: config.inputs.tls.certFile, keyFile: config.inputs.tls.keyFile, clientCaFile: config.inputs.tls.clientCaFile } });
    expect(listenedPorts(config)).toEqual(['4736/TCP', '4736/UDP', '4737/TCP', '4739/TCP', '4739/UDP', '4740/TCP']);
    expect(exporterPortViolations(objects, container)).toEqual([]);
  });

  it('runs the TLS pod\'s configuration: JSON over mutual TLS on its own port, plain JSON beside it, one Secret', async () => {
    const { mkdtempSync, writeFileSync: write } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { createServer } = await import('node:net');
    const { connect: connectTls } = await import('node:tls');
    const { pino } = await import('pino');
    const { Collector } = await import('../collector/src/pipeline/collector.js');
    const { createAuthority } = await import('./support/certificates.js');
    const { counter } = await import('./support/offline.js');
    // The Secret's three files, as cert-manager writes them, where the StatefulSet mounts them (here a directory).
    const mount = container.volumeMounts.find((m: any) => m.name === set.spec.template.spec.volumes.find((v: any) => v.secret?.secretName === manifest.TLS_SECRET).name).mountPath;
    const dir = mkdtempSync(join(tmpdir(), 'elkfc-tls-pod-'));
    const ca = await createAuthority('elk-flow-collector CA');
    const server = await ca.issue({ commonName: tls.SERVER_NAME, usage: 'server', dnsNames: [tls.SERVER_NAME] });
    const client = await ca.issue({ commonName: 'flow-aggregator', usage: 'client' });
    write(join(dir, 'tls.crt'), server.cert);
    write(join(dir, 'tls.key'), server.key);
    write(join(dir, 'ca.crt'), ca.cert);
    // A free port for JSON over TLS: port 0 for both would mean "TLS in place of plain TCP", not a port of its own.
    const probe = createServer();
    const tlsPort = await new Promise<number>((resolve) => probe.listen(0, '127.0.0.1', () => resolve((probe.address() as { port: number }).port)));
    await new Promise((resolve) => probe.close(resolve));
    const podEnv: NodeJS.ProcessEnv = { ELASTICSEARCH_URL: 'https://elasticsearch:9200' };
    for (const e of container.env) if (e.name.startsWith('ELKFC_')) podEnv[e.name] = String(e.value).replace(mount, dir);
    expect(podEnv[manifest.JSON_TLS_ENV.port]).toBe('4737');
    const config = loadConfig(join(folder, 'collector.yml'), {
      ...podEnv,
      [manifest.JSON_TLS_ENV.port]: String(tlsPort),
      ELKFC_INPUTS_JSON_PORT: '0', ELKFC_INPUTS_JSON_HOST: '127.0.0.1', ELKFC_INPUTS_JSON_TLS_HOST: '127.0.0.1',
      ELKFC_INPUTS_UDP_ENABLED: 'false', ELKFC_INPUTS_TCP_ENABLED: 'false', ELKFC_INPUTS_TLS_PORT: '0', ELKFC_INPUTS_TLS_HOST: '127.0.0.1',
      ELKFC_HTTP_ENABLED: 'false', ELKFC_OUTPUT_SINK: '"null"', ELKFC_DECODING_TEMPLATE_STATE_PATH: 'null',
      ELKFC_DECODING_IPFIX_DEFINITIONS: join(folder, 'antrea-ipfix.yml'),
    });
    const collector = new Collector(config, pino({ level: 'silent' }));
    await collector.start();
    try {
      const decoded = () => counter(collector.events.metrics, 'elkfc_records_decoded_total', { version: 'json' });
      const socket = connectTls({ host: '127.0.0.1', port: tlsPort, servername: tls.SERVER_NAME, ca: ca.cert, cert: client.cert, key: client.key });
      await new Promise((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
      socket.write(flowAggregatorJson(aggregatorLayout(4), aggregatorRecord(1), 1_700_000_100));
      await until(async () => (await decoded()) === 1, 10_000, 'a JSON record over TLS');
      socket.destroy();
      // Plain JSON stays on inputs.json.port.
      const plainPort = collector.inputAddress('json')!.port;
      expect(plainPort).not.toBe(tlsPort);
      const plain = createConnection({ host: '127.0.0.1', port: plainPort });
      await new Promise<void>((resolve, reject) => plain.once('error', reject).end(flowAggregatorJson(aggregatorLayout(4), aggregatorRecord(2), 1_700_000_100), resolve));
      await until(async () => (await decoded()) === 2, 10_000, 'a JSON record over plain TCP');
      // The same client CA as IPFIX over TLS: a client without a certificate is refused.
      const anonymous = connectTls({ host: '127.0.0.1', port: tlsPort, servername: tls.SERVER_NAME, ca: ca.cert });
      anonymous.on('error', () => {});
      anonymous.write(flowAggregatorJson(aggregatorLayout(4), aggregatorRecord(3), 1_700_000_100));
      await until(async () => (await counter(collector.events.metrics, 'elkfc_tls_handshake_failures_total', { input: 'json-tls' })) === 1, 10_000, 'no client certificate refused');
      anonymous.destroy();
      expect(await decoded()).toBe(2);
    } finally {
      await collector.stop();
    }
  }, 30_000);

  it('names the inputs.tls keys\' environment variables as load.ts names every key', () => {
    const rule = (path: string[]) => `ELKFC_${path.map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_')}`;
    // The rule, checked on keys that exist today.
    for (const leaf of configLeaves()) expect(rule(leaf.path)).toBe(leaf.env);
    for (const [key, name] of Object.entries(manifest.TLS_ENV)) expect(name).toBe(rule(['inputs', 'tls', key]));
    for (const [key, name] of Object.entries(manifest.JSON_TLS_ENV)) expect(name).toBe(rule(['inputs', 'json', 'tls', key]));
  });

  const hasTlsInput = configLeaves().some((leaf) => leaf.path.join('.') === 'inputs.tls.certFile');
  it.runIf(hasTlsInput)('gives the collector TLS settings its configuration accepts (once the TLS input is in)', () => {
    const leaves = new Set(configLeaves().map((leaf) => leaf.env));
    for (const name of Object.keys(env).filter((n) => n.startsWith('ELKFC_'))) expect(leaves, name).toContain(name);
  });

  it('has an example cert-manager setup that issues exactly the Secrets the collector, aggregator and agents use', async () => {
    const { Certificate } = await import('@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate');
    const { ClusterIssuer } = await import('@kubernetes-models/cert-manager/cert-manager.io/v1/ClusterIssuer');
    for (const o of certs) expect(() => new ({ Certificate, ClusterIssuer } as any)[o.kind](o).validate(), `${o.kind}/${o.metadata.name}`).not.toThrow();
    const caIssuer = certs.find((o) => o.kind === 'ClusterIssuer' && o.spec.ca)!;
    const caCert = certs.find((o) => o.kind === 'Certificate' && o.spec.isCA)!;
    // A CA ClusterIssuer reads its Secret in cert-manager's namespace.
    expect(caCert.metadata.namespace).toBe('cert-manager');
    expect(caIssuer.spec.ca.secretName).toBe(caCert.spec.secretName);
    expect(get(certs, 'ClusterIssuer', caCert.spec.issuerRef.name).spec.selfSigned).toEqual({});
    const leaves = certs.filter((o) => o.kind === 'Certificate' && !o.spec.isCA);
    for (const c of leaves) expect(c.spec.issuerRef).toEqual({ kind: 'ClusterIssuer', name: caIssuer.metadata.name, group: 'cert-manager.io' });
    expect(serverCert.metadata.namespace).toBe(tls.NAMESPACE);
    expect(serverCert.spec.usages).toContain('server auth');
    expect(serverCert.spec.dnsNames).toContain(aggregator.flowCollector.tls.serverName);
    expect(serverCert.spec.dnsNames).toContain(destination[0].spec.tlsConfig.serverName);
    const clients = leaves.filter((c) => c.spec.usages.includes('client auth'));
    expect(clients.map((c) => `${c.metadata.namespace}/${c.spec.secretName}`).sort()).toEqual([
      `${tls.NAMESPACE}/${destination[0].spec.tlsConfig.clientSecret.name}`,
      `flow-aggregator/${aggregator.flowCollector.tls.clientSecretName}`,
    ].sort());
  });

  it('gives the Flow Aggregator Antrea\'s flowCollector.tls keys, pointing at port 4740 over tcp', () => {
    expect(Object.keys(aggregator.flowCollector).sort()).toEqual(['address', 'enable', 'recordFormat', 'tls']);
    expect(Object.keys(aggregator.flowCollector.tls).sort()).toEqual(['caSecretName', 'clientSecretName', 'enable', 'minVersion', 'serverName']);
    expect(aggregator.flowCollector.enable).toBe(true);
    expect(aggregator.flowCollector.tls.enable).toBe(true);
    // <host>:<port>[:<proto>], TLS over tcp only; the host is the Service's name in the certificate.
    expect(aggregator.flowCollector.address).toBe(`${aggregator.flowCollector.tls.serverName}:4740:tcp`);
    expect(aggregator.flowCollector.tls.serverName.startsWith(`${get(objects, 'Service', 'elk-flow-collector').metadata.name}.${tls.NAMESPACE}.`)).toBe(true);
    expect(['VersionTLS12', 'VersionTLS13']).toContain(aggregator.flowCollector.tls.minVersion);
    // caSecretName needs ca.crt, clientSecretName tls.crt and tls.key: cert-manager's client Secret has all three.
    expect(aggregator.flowCollector.tls.caSecretName).toBe(aggregator.flowCollector.tls.clientSecretName);
  });

  it('has a FlowExporterDestination as Antrea v2.5–v2.7 define it, and the RBAC for the agents to read its CA and Secret', async () => {
    const { Role } = await import('kubernetes-models/rbac.authorization.k8s.io/v1/Role');
    const { RoleBinding } = await import('kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding');
    const [fed, role, binding] = destination;
    expect(fed).toMatchObject({ apiVersion: 'crd.antrea.io/v1alpha1', kind: 'FlowExporterDestination' });
    expect(fed.metadata.namespace).toBeUndefined(); // cluster-scoped
    // The CRD's own constraints: address ^.+:[0-9]+$, exactly one protocol, transport tcp|udp|tls, caConfigMap required.
    expect(fed.spec.address).toMatch(/^.+:[0-9]+$/);
    expect(fed.spec.address).toBe(`${tls.NAMESPACE}/elk-flow-collector:4740`);
    expect(Object.keys(fed.spec.protocol)).toEqual(['ipfix']);
    expect(fed.spec.protocol.ipfix).toEqual({ transport: 'tls' });
    expect(Object.keys(fed.spec.tlsConfig).sort()).toEqual(['caConfigMap', 'clientSecret', 'minTLSVersion', 'serverName']);
    expect(['VersionTLS12', 'VersionTLS13']).toContain(fed.spec.tlsConfig.minTLSVersion);
    expect(() => new Role(role as never).validate()).not.toThrow();
    expect(() => new RoleBinding(binding as never).validate()).not.toThrow();
    expect(role.rules).toEqual([
      { apiGroups: [''], resources: ['configmaps'], resourceNames: [fed.spec.tlsConfig.caConfigMap.name], verbs: ['get'] },
      { apiGroups: [''], resources: ['secrets'], resourceNames: [fed.spec.tlsConfig.clientSecret.name], verbs: ['get'] },
    ]);
    for (const ref of [fed.spec.tlsConfig.caConfigMap, fed.spec.tlsConfig.clientSecret]) expect(ref.namespace).toBe(role.metadata.namespace);
    expect(binding.roleRef.name).toBe(role.metadata.name);
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'antrea-agent', namespace: 'kube-system' }]);
  });
});
