import { describe, expect, it, vi } from 'vitest';
import { once } from '../../lib/once';

describe('once', () => {
  it('shares one load between concurrent callers and forgets a failure', async () => {
    const load = vi
      .fn<() => Promise<number>>()
      .mockRejectedValueOnce(new Error('flaky'))
      .mockResolvedValue(7);
    const get = once(load);

    await expect(get()).rejects.toThrow('flaky');
    const [a, b] = await Promise.all([get(), get()]);

    expect([a, b]).toEqual([7, 7]);
    expect(load).toHaveBeenCalledTimes(2);
  });
});
