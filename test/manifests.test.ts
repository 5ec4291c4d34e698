// The ConfigMap folder (manifests/elk-flow-collector/): its configuration is valid for the collector, its Antrea
// definitions decode as the built-in ones, and the ConfigMap `kubectl create configmap --from-file` makes of it
// stays under Kubernetes' 1 MiB object limit.
import { readdirSync, readFileSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../collector/src/config/load.js';
import { ElementRegistry } from '../collector/src/ie/registry.js';
import { loadIpfixDefinitions } from '../collector/src/ie/logstash-definitions.js';
import { aggregatorLayout, aggregatorRecord, dataMessage, templateMessage } from './support/antrea-encoder.js';
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
  const podSpecs = objects.flatMap((o) => (o.spec.template ? [{ owner: `${o.kind}/${o.metadata.name}`, labels: o.spec.template.metadata?.labels ?? {}, spec: o.spec.template.spec }] : []));
  const containers = podSpecs.flatMap((p) => [...(p.spec.initContainers ?? []), ...p.spec.containers].map((c: any) => ({ owner: p.owner, pod: p, c })));

  it('holds valid Kubernetes objects', async () => {
    const classes: Record<string, new (o: any) => { validate(): void }> = {
      StatefulSet: (await import('kubernetes-models/apps/v1/StatefulSet')).StatefulSet,
      Deployment: (await import('kubernetes-models/apps/v1/Deployment')).Deployment,
      Service: (await import('kubernetes-models/v1/Service')).Service,
      NetworkPolicy: (await import('kubernetes-models/networking.k8s.io/v1/NetworkPolicy')).NetworkPolicy,
      Job: (await import('kubernetes-models/batch/v1/Job')).Job,
    };
    expect(objects.map((o) => o.kind).sort()).toEqual(['Deployment', 'Deployment', 'Job', 'NetworkPolicy', 'Service', 'Service', 'Service', 'Service', 'StatefulSet']);
    for (const o of objects) expect(() => new classes[o.kind](o).validate(), `${o.kind}/${o.metadata.name}`).not.toThrow();
  });

  it('references only what exists: ConfigMap files, Secret keys, volumes, port names, selectors', () => {
    const files = new Set(readdirSync(folder));
    const secretKeys = new Set(Object.values(manifest.SECRET_KEYS));
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
    for (const o of objects.filter((x) => x.spec.selector?.matchLabels)) {
      expect(o.spec.template.metadata.labels).toMatchObject(o.spec.selector.matchLabels);
    }
  });

  it('exposes Kibana on NodePort 30007 and the collector on 4739 UDP and TCP with client affinity, behind a NetworkPolicy', () => {
    const kibana = objects.find((o) => o.kind === 'Service' && o.metadata.name === 'kibana')!;
    expect(kibana.spec.type).toBe('NodePort');
    expect(kibana.spec.ports[0].nodePort).toBe(30007);
    const collector = objects.find((o) => o.kind === 'Service' && o.metadata.name === 'elk-flow-collector')!;
    expect(collector.spec.sessionAffinity).toBe('ClientIP');
    expect(collector.spec.ports.map((p: any) => `${p.port}/${p.protocol}`).sort()).toEqual(['4739/TCP', '4739/UDP']);
    const policy = objects.find((o) => o.kind === 'NetworkPolicy')!;
    const sources = policy.spec.ingress[0].from.map((f: any) => f.namespaceSelector.matchLabels['kubernetes.io/metadata.name']);
    expect(sources).toEqual(['flow-aggregator', 'kube-system']);
  });

  it('runs every container non-root, read-only, without privileges, with requests and limits (the sysctl one excepted)', () => {
    for (const { owner, c } of containers) {
      expect(c.resources?.requests && c.resources?.limits, `${owner}/${c.name} resources`).toBeTruthy();
      if (c.name === 'max-map-count') {
        expect(c.command).toEqual(['sysctl', '-w', 'vm.max_map_count=262144']);
        continue;
      }
      expect(c.securityContext, `${owner}/${c.name}`).toMatchObject({
        runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] },
      });
    }
    expect(text).not.toMatch(/password["']?\s*[:=]\s*["']?\w/i);
  });

  it('pod simulation: the Deployment\'s command, environment and mounts, with plain node and no node_modules', async () => {
    const { mkdtempSync, mkdirSync, cpSync, writeFileSync: write } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { replay } = await import('../collector/src/cli/replay.js');
    const { startFakeElasticsearch } = await import('./support/fake-elasticsearch.js');
    const { startProcess, killCollectors } = await import('./support/process.js');
    const root = mkdtempSync(join(tmpdir(), 'elkfc-pod-'));
    const dirs = { '/etc/elk-flow-collector': join(root, 'config'), '/run/elk-flow-collector': join(root, 'app'), '/var/lib/elk-flow-collector': join(root, 'state') };
    const remap = (s: string) => Object.entries(dirs).reduce((t, [from, to]) => t.replaceAll(from, to), s);
    for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });
    // The ConfigMap's files where the volume mount puts them; ports 0 so that tests never collide.
    cpSync(folder, dirs['/etc/elk-flow-collector'], { recursive: true });
    const config = remap(readFileSync(join(folder, 'collector.yml'), 'utf8')).replace(/port: \d+/g, 'port: 0').replaceAll("host: '::'", 'host: 127.0.0.1');
    write(join(dirs['/etc/elk-flow-collector'], 'collector.yml'), config);
    const es = await startFakeElasticsearch();
    try {
      const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'elk-flow-collector')!;
      const container = deployment.spec.template.spec.containers[0];
      const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: root };
      for (const e of container.env) env[e.name] = e.value ?? 'from-the-secret';
      env.ELASTICSEARCH_URL = es.url; // the Service elasticsearch:9200, here the local stand-in
      const running = await startProcess(container.command.map(remap), { cwd: root, env });
      expect((await fetch(`http://127.0.0.1:${running.httpPort}/readyz`)).status).toBe(200);
      await replay({ files: [`${SOFTFLOWD_CAPTURE}`], host: '127.0.0.1', port: running.udpPort, protocol: 'udp', rate: 0, repeat: 1 });
      await until(() => es.documents.size >= 15, 15_000, 'documents in the stand-in cluster').catch((error) => {
        throw new Error(`${(error as Error).message}; collector log: ${running.log()}`);
      });
      expect([...es.documents.values()][0].index).toBe('flow-antrea');
    } finally {
      killCollectors();
      await es.close();
    }
  });
});

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
    const { Deployment } = await import('kubernetes-models/apps/v1/Deployment');
    const { Job } = await import('kubernetes-models/batch/v1/Job');
    const deployment = find('Deployment');
    expect(() => new Deployment(deployment as never).validate()).not.toThrow();
    expect(() => new Job(find('Job') as never).validate()).not.toThrow();
    expect(deployment.spec.replicas).toBe(3);
    const container = deployment.spec.template.spec.containers[0];
    const env = Object.fromEntries(container.env.map((e: any) => [e.name, e.value]));
    expect(env.ELASTICSEARCH_URL).toBe('https://elk-flow-collector-es-http:9200');
    expect(env.ELASTICSEARCH_CA_CERT).toBe('/etc/elk-flow-collector-ca/ca.crt');
    const ca = deployment.spec.template.spec.volumes.find((v: any) => v.name === 'ca');
    expect(ca.secret.secretName).toBe('elk-flow-collector-es-http-certs-public');
    expect(container.volumeMounts.map((m: any) => m.name)).toContain('ca');
    const users = find('Job').spec.template.spec.initContainers[0];
    expect(users.command.join(' ')).toContain('--cacert /etc/elk-flow-collector-ca/ca.crt');
    expect(users.env.find((e: any) => e.name === 'ELASTIC_PASSWORD').valueFrom.secretKeyRef).toEqual({ name: 'elk-flow-collector-es-elastic-user', key: 'elastic' });
  });
});
