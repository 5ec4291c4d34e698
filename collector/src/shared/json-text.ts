/**
 * A value that is already JSON text (pod labels, validated by JSON.parse and free of line breaks): written as
 * is, which spares parsing it into an object and writing that object out again.
 */
export class JsonText {
  /**
   * The text's UTF-8 bytes as 8-byte chunks, made by the writer the first time it writes the value (json-bytes.ts
   * jsonText); null when a chunk would be a NaN's bits (see ConstantBytes), undefined until then.
   */
  chunks: Float64Array | null | undefined = undefined;
  /** How many of the chunks' bytes are the text's. */
  octets = 0;
  constructor(readonly text: string) {}
  toJSON(): unknown {
    return JSON.parse(this.text);
  }
}
