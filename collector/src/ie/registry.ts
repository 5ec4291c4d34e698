import { BUILTIN_ELEMENTS, BUILTIN_NETFLOW_ELEMENTS } from './elements.generated.js';
import { REVERSE_PEN, type InformationElement, type ValueType } from './types.js';

// Enterprise numbers go up to 2^32, ids to 2^15: the product stays far below 2^53, so one number is a safe key.
const key = (enterprise: number, id: number) => enterprise * 65536 + id;

/**
 * Looks up information elements: IPFIX by (enterprise, id), NetFlow v9 by field type. Built from the
 * generated tables (IANA, Antrea 56506 and 55829, the vendors' elements of the codec's definition files) and
 * extended or overridden by Logstash definition files.
 * Immutable: `extend` returns a new registry, so compiled templates never see a registry change under them.
 */
export class ElementRegistry {
  private constructor(
    private readonly ipfix: ReadonlyMap<number, InformationElement>,
    private readonly netflow: ReadonlyMap<number, InformationElement>,
  ) {}

  static builtin(): ElementRegistry {
    const ipfix = new Map<number, InformationElement>();
    const netflow = new Map<number, InformationElement>();
    for (const [enterprise, id, name, type] of BUILTIN_ELEMENTS) {
      const element: InformationElement = { enterprise, id, name, type: type as ValueType };
      ipfix.set(key(enterprise, id), element);
      // v9 field types below 32768 share IANA's numbering, so v9 and IPFIX land in one schema.
      if (enterprise === 0) netflow.set(id, element);
    }
    for (const [id, name, type] of BUILTIN_NETFLOW_ELEMENTS) netflow.set(id, { enterprise: 0, id, name, type: type as ValueType });
    return new ElementRegistry(ipfix, netflow);
  }

  extend(ipfixElements: readonly InformationElement[], netflowElements: readonly InformationElement[]): ElementRegistry {
    const ipfix = new Map(this.ipfix);
    for (const element of ipfixElements) ipfix.set(key(element.enterprise, element.id), element);
    const netflow = new Map(this.netflow);
    for (const element of netflowElements) netflow.set(element.id, element);
    return new ElementRegistry(ipfix, netflow);
  }

  ipfixElement(enterprise: number, id: number): InformationElement | undefined {
    const element = this.ipfix.get(key(enterprise, id));
    if (element || enterprise !== REVERSE_PEN) return element;
    const forward = this.ipfix.get(key(0, id));
    // RFC 5103 lists a few elements as not reversible; an exporter that sends one anyway still gets a name.
    if (!forward) return undefined;
    return {
      enterprise,
      id,
      name: `reverse${forward.name[0].toUpperCase()}${forward.name.slice(1)}`,
      type: forward.type,
    };
  }

  netflowElement(id: number): InformationElement | undefined {
    return this.netflow.get(id);
  }

  /** Every NetFlow v9 field type known, by the name v9 records carry. */
  netflowElements(): InformationElement[] {
    return [...this.netflow.values()];
  }

  /** Every element known by (enterprise, id), reverse elements excluded (they are derived on lookup). */
  ipfixElements(): InformationElement[] {
    return [...this.ipfix.values()];
  }
}
