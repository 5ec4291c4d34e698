/**
 * Values computed from a key, remembered: for hot-path work whose inputs repeat (a flow's addresses and times come
 * again in every record of it). Bounded: when full it forgets everything, which is cheap, and the hot keys come
 * back at once.
 */
export class BoundedCache<K, V> {
  private readonly values = new Map<K, V>();

  constructor(private readonly maxEntries: number) {}

  get(key: K, compute: (key: K) => V): V {
    const known = this.values.get(key);
    if (known !== undefined || this.values.has(key)) return known as V;
    const value = compute(key);
    if (this.values.size >= this.maxEntries) this.values.clear();
    this.values.set(key, value);
    return value;
  }
}
