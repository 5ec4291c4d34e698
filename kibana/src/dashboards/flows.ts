// The three Flows dashboards (Pod-to-Pod, Pod-to-Service, Pod-to-External): one layout, differing in which
// records they show, what a destination is, and the key that identifies a flow.
import { dashboard, halfWidthRows, rows, type DashboardEntry, type OptionsListControl, type SavedObject } from '../saved-objects.js';
import { EXCLUDE_PLUMBING, LIMITS, SCOPES, field, type Scope } from '../scopes.js';
import { qualifiedLabel, sankeySpec, type SankeyDetail, type SankeySide } from '../vega.js';
import { pie, timeSeries, vega, type Split } from '../visualizations.js';
import { RX_BYTES, TX_BYTES, rxBytesPerMinute, txBytes, txBytesPerMinute } from './metrics.js';

interface FlowsKind {
  id: string;
  title: string;
  description: string;
  scope: Scope;
  destination: SankeySide;
  /** One series per destination (Pod-to-Service: per endpoint Pod; its Services have their own lines). */
  destinationSeries: Split;
  destinationNamespacePie: Split;
  flowKey: string;
  details: SankeyDetail[];
  controls: OptionsListControl[];
  /** Pod-to-Service: Tx/Rx aggregated by destination Service. */
  byService: boolean;
}

const sourcePod: SankeySide = { title: 'Source Pod', fields: [field('sourcePodNamespace'), field('sourcePodName')], label: qualifiedLabel(0, 1, 'unknown') };
const IP_DETAILS: SankeyDetail[] = [
  { title: 'Source IPs', fields: [field('sourceIP')], size: 5 },
  { title: 'Destination IPs', fields: [field('destinationIP')], size: 5 },
];
const sourceControls: OptionsListControl[] = [
  { field: field('sourcePodNamespace'), title: 'Source namespace' },
  { field: field('sourcePodName'), title: 'Source Pod' },
  { field: field('sourceNodeName'), title: 'Source Node' },
];
const byDestinationNamespace: Split = { field: field('destinationPodNamespace'), size: LIMITS.pieSlices, label: 'Destination namespace' };

const KINDS: FlowsKind[] = [
  {
    id: 'elk-flow-collector-pod-to-pod',
    title: 'Pod-to-Pod Flows',
    description: 'Traffic between Pods, within a Node and across Nodes.',
    scope: SCOPES.podToPod,
    destination: { title: 'Destination Pod', fields: [field('destinationPodNamespace'), field('destinationPodName')], label: qualifiedLabel(0, 1, 'unknown') },
    destinationSeries: { field: field('destinationPodName'), size: LIMITS.lineSeries, label: 'Destination Pod' },
    destinationNamespacePie: byDestinationNamespace,
    flowKey: field('flowKeyPodToPod'),
    details: IP_DETAILS,
    controls: [
      ...sourceControls,
      { field: field('destinationPodNamespace'), title: 'Destination namespace' },
      { field: field('destinationPodName'), title: 'Destination Pod' },
      { field: field('destinationNodeName'), title: 'Destination Node' },
      { field: field('flowTypeStr'), title: 'Flow type' },
    ],
    byService: false,
  },
  {
    id: 'elk-flow-collector-pod-to-service',
    title: 'Pod-to-Service Flows',
    description: 'Traffic from Pods to Services; destinations are Service port names, the IP addresses are in the tooltips.',
    scope: SCOPES.podToService,
    destination: { title: 'Destination Service', fields: [field('destinationServicePortName')], label: 'k[0]' },
    destinationSeries: { field: field('destinationPodName'), size: LIMITS.lineSeries, label: 'Destination Pod' },
    destinationNamespacePie: byDestinationNamespace,
    flowKey: field('flowKeyPodToService'),
    details: [...IP_DETAILS, { title: 'Destination Pods', fields: [field('destinationPodName')], size: 5 }],
    controls: [
      ...sourceControls,
      { field: field('destinationServicePortName'), title: 'Destination Service' },
      { field: field('destinationPodNamespace'), title: 'Destination namespace' },
    ],
    byService: true,
  },
  {
    id: 'elk-flow-collector-pod-to-external',
    title: 'Pod-to-External Flows',
    description: 'Traffic from Pods to addresses outside the cluster; destinations are IP addresses.',
    scope: SCOPES.podToExternal,
    destination: { title: 'Destination IP', fields: [field('destinationIP')], label: 'k[0]' },
    destinationSeries: { field: field('destinationIP'), size: LIMITS.lineSeries, label: 'Destination IP' },
    // External destinations have no namespace: their traffic is split by address instead.
    destinationNamespacePie: { field: field('destinationIP'), size: LIMITS.pieSlices, label: 'Destination IP' },
    flowKey: field('flowKeyPodToExternal'),
    details: [
      { title: 'Source IPs', fields: [field('sourceIP')], size: 5 },
      { title: 'Egress', fields: [field('egressName')], size: 3 },
    ],
    controls: [...sourceControls, { field: field('destinationIP'), title: 'Destination IP' }],
    byService: false,
  },
];

function flowsDashboard(kind: FlowsKind): DashboardEntry {
  const id = kind.id;
  return {
    id,
    title: kind.title,
    build: (nav) => {
      const sankey = (direction: 'tx' | 'rx') => vega(`${id}-sankey-${direction}`, `${kind.title}: ${direction === 'tx' ? 'bytes (Tx)' : 'reverse bytes (Rx)'}`, sankeySpec({
        description: `${kind.title}: ${direction === 'tx' ? 'bytes sent' : 'bytes received back'} from source to destination, the ${LIMITS.sankeyLinks} largest links.`,
        scope: kind.scope.dsl,
        source: sourcePod,
        target: kind.destination,
        bytesField: direction === 'tx' ? TX_BYTES : RX_BYTES,
        details: kind.details,
        maxLinks: LIMITS.sankeyLinks,
      }));
      const kuery = kind.scope.kuery;
      const series = (split: Split, metric = txBytesPerMinute) =>
        ({ chart: 'line' as const, metric, split, perMinute: true, stacked: true, kuery });
      // A flow's own rate and running total: the largest value in each bucket, one line per flow key.
      const perFlow = (metricField: string, label: string) =>
        ({ chart: 'line' as const, metric: { type: 'max' as const, field: field(metricField), label }, split: { field: kind.flowKey, size: LIMITS.lineSeries, label: 'Flow' }, perMinute: false, stacked: false, kuery });
      const destinationLabel = kind.destinationSeries.label.replace(/^D/, 'd');
      const bySourcePod: Split = { field: field('sourcePodName'), size: LIMITS.lineSeries, label: 'Source Pod' };
      const objects: SavedObject[] = [
        sankey('tx'),
        sankey('rx'),
        timeSeries(`${id}-source-throughput`, 'Tx by source Pod', series(bySourcePod)),
        timeSeries(`${id}-source-rx`, 'Rx by source Pod', series(bySourcePod, rxBytesPerMinute)),
        timeSeries(`${id}-destination-throughput`, `Tx by ${destinationLabel}`, series(kind.destinationSeries)),
        timeSeries(`${id}-destination-rx`, `Rx by ${destinationLabel}`, series(kind.destinationSeries, rxBytesPerMinute)),
        timeSeries(`${id}-flow-throughput`, 'Throughput per flow (Tx, bits/s)', perFlow('throughput', 'Tx bits/s')),
        timeSeries(`${id}-flow-reverse-throughput`, 'Throughput per flow (Rx, bits/s)', perFlow('reverseThroughput', 'Rx bits/s')),
        timeSeries(`${id}-flow-bytes`, 'Cumulative bytes per flow (Tx)', perFlow('octetTotalCount', 'Bytes (Tx)')),
        timeSeries(`${id}-flow-reverse-bytes`, 'Cumulative bytes per flow (Rx)', perFlow('reverseOctetTotalCount', 'Reverse bytes (Rx)')),
      ];
      if (kind.byService) {
        const byService: Split = { field: field('destinationServicePortName'), size: LIMITS.lineSeries, label: 'Destination Service' };
        objects.push(
          timeSeries(`${id}-service-tx`, 'Tx by destination Service', series(byService)),
          timeSeries(`${id}-service-rx`, 'Rx by destination Service', series(byService, rxBytesPerMinute)),
        );
      }
      objects.push(
        pie(`${id}-source-namespaces`, 'Traffic by Source namespace', txBytes, { field: field('sourcePodNamespace'), size: LIMITS.pieSlices, label: 'Source namespace' }, kuery),
        pie(`${id}-destination-namespaces`, `Traffic by ${kind.destinationNamespacePie.label}`, txBytes, kind.destinationNamespacePie, kuery),
      );
      const layout = rows([{ h: 3, panels: [[nav, 48]] }, ...halfWidthRows(objects.slice(0, 2), 18), ...halfWidthRows(objects.slice(2), 13)]);
      const controls = [...kind.controls, { field: kind.flowKey, title: 'Flow' }];
      return [...objects, dashboard(id, kind.title, kind.description, layout, controls, EXCLUDE_PLUMBING)];
    },
  };
}

export const [podToPod, podToService, podToExternal] = KINDS.map(flowsDashboard);
