/**
 * Information element types. The abstract types are RFC 7011's; the four special types are the
 * structured NetFlow v9 fields of Logstash's netflow.yaml, so that its definition file decodes as the codec does.
 */
export const ABSTRACT_TYPES = [
  'unsigned8', 'unsigned16', 'unsigned32', 'unsigned64',
  'signed8', 'signed16', 'signed32', 'signed64',
  'float32', 'float64', 'boolean', 'macAddress', 'octetArray', 'string',
  'dateTimeSeconds', 'dateTimeMilliseconds', 'dateTimeMicroseconds', 'dateTimeNanoseconds',
  'ipv4Address', 'ipv6Address', 'skip',
] as const;
export type AbstractType = (typeof ABSTRACT_TYPES)[number];

export const SPECIAL_TYPES = ['forwardingStatus', 'applicationId', 'aclIdAsa', 'mplsLabelStackOctets'] as const;
export type SpecialType = (typeof SPECIAL_TYPES)[number];

export type ValueType = AbstractType | SpecialType;

/** One information element: where it comes from (enterprise 0 is IANA, and NetFlow v9 field types) and how to read it. */
export interface InformationElement {
  readonly enterprise: number;
  readonly id: number;
  readonly name: string;
  readonly type: ValueType;
}

/** RFC 5103: reverse elements are enterprise 29305 with the forward element's id. */
export const REVERSE_PEN = 29305;
export const ANTREA_PEN = 56506;
export const ANTREA_LEGACY_PEN = 55829;

/** Name under which a value of an element nobody defined is kept (as hex), showing its enterprise and id. */
export function unknownElementName(enterprise: number, id: number): string {
  return `ie_${enterprise}_${id}`;
}
