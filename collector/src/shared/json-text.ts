/**
 * A value that is already JSON text (pod labels, validated by JSON.parse and free of line breaks): written as
 * is, which spares parsing it into an object and writing that object out again.
 */
export class JsonText {
  constructor(readonly text: string) {}
  toJSON(): unknown {
    return JSON.parse(this.text);
  }
}
