import { ABSTRACT_TYPES, SPECIAL_TYPES, type InformationElement, type ValueType } from './types.js';

const KNOWN = new Set<string>([...ABSTRACT_TYPES, ...SPECIAL_TYPES]);

/**
 * Parses the registry CSV files in collector/data/ie: our own `enterprise,id,name,type` files, NetFlow v9 field
 * types as `id,name,type` (enterprise 0), and go-ipfix's registry format (ElementID,Name,Abstract Data
 * Type,...,Enterprise ID,...), told apart by the header.
 */
export function parseElementCsv(text: string, source: string): InformationElement[] {
  const rows = text.split(/\r?\n/).filter((line) => line.trim() !== '' && !line.startsWith('#'));
  const header = rows.shift()?.split(',') ?? [];
  const col = (name: string) => {
    const index = header.indexOf(name);
    if (index < 0) throw new Error(`${source}: no column ${name}`);
    return index;
  };
  const goIpfix = header[0] === 'ElementID';
  const netflow = header[0] === 'id';
  const [enterpriseCol, idCol, nameCol, typeCol] = goIpfix
    ? [col('Enterprise ID'), col('ElementID'), col('Name'), col('Abstract Data Type')]
    : netflow ? [-1, col('id'), col('name'), col('type')] : [col('enterprise'), col('id'), col('name'), col('type')];
  return rows.map((row, index) => {
    // None of these files quote commas inside the columns we read, so a plain split is enough.
    const cells = row.split(',');
    const type = cells[typeCol];
    if (!KNOWN.has(type)) throw new Error(`${source}:${index + 2}: unknown type ${type}`);
    return {
      enterprise: enterpriseCol < 0 ? 0 : Number(cells[enterpriseCol]),
      id: Number(cells[idCol]),
      name: cells[nameCol],
      type: type as ValueType,
    };
  });
}
