/**
 * Buffer's unchecked text methods (latin1Slice, utf8Slice, latin1Write, utf8Write) skip the argument checks of
 * toString/write, which shows on the hot path. They are not in Node's documented API, so each is used only where
 * present, with the documented call as the fallback on a Node version that drops them.
 */
type Unchecked = Buffer & {
  latin1Slice?(start: number, end: number): string;
  utf8Slice?(start: number, end: number): string;
  latin1Write?(text: string, offset: number): number;
  utf8Write?(text: string, offset: number): number;
};

const proto = Buffer.prototype as Unchecked;
const hasSlices = typeof proto.latin1Slice === 'function' && typeof proto.utf8Slice === 'function';
const hasWrites = typeof proto.latin1Write === 'function' && typeof proto.utf8Write === 'function';

export function latin1Slice(b: Buffer, start: number, end: number): string {
  return hasSlices ? (b as Unchecked).latin1Slice!(start, end) : b.toString('latin1', start, end);
}

export function utf8Slice(b: Buffer, start: number, end: number): string {
  return hasSlices ? (b as Unchecked).utf8Slice!(start, end) : b.toString('utf8', start, end);
}

export function latin1Write(b: Buffer, text: string, offset: number): number {
  return hasWrites ? (b as Unchecked).latin1Write!(text, offset) : b.write(text, offset, 'latin1');
}

export function utf8Write(b: Buffer, text: string, offset: number): number {
  return hasWrites ? (b as Unchecked).utf8Write!(text, offset) : b.write(text, offset, 'utf8');
}
