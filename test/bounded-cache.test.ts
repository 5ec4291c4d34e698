import { describe, expect, it } from 'vitest';
import { BoundedCache } from '../collector/src/shared/bounded-cache.js';

describe('bounded cache of computed values', () => {
  it('computes each key once, undefined results too, and never holds more than its bound', () => {
    const cache = new BoundedCache<string, number | undefined>(100);
    let computed = 0;
    const parse = (key: string) => {
      computed++;
      return /^\d+$/.test(key) ? Number(key) : undefined;
    };
    expect(cache.get('42', parse)).toBe(42);
    expect(cache.get('42', parse)).toBe(42);
    expect(cache.get('x', parse)).toBeUndefined();
    expect(cache.get('x', parse)).toBeUndefined();
    expect(computed).toBe(2);
    for (let i = 0; i < 1000; i++) expect(cache.get(String(i), parse)).toBe(i);
    expect((cache as unknown as { values: Map<string, unknown> }).values.size).toBeLessThanOrEqual(100);
  });
});
