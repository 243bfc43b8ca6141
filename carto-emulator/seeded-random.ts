// A small seeded PRNG, so rate-based faults fire on the same requests in every run with the same seed.

/**
 * mulberry32 over a seed mixed with a stream number: each fault rule draws from its own stream, so how often one
 * endpoint is called never shifts the dice of a rule on another endpoint. Returns numbers in [0, 1).
 */
export function seededRandom(seed: number, stream: number): () => number {
  let state = mix32(mix32(seed >>> 0) ^ Math.imul(stream + 1, 0x9e3779b9));
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The murmur3 finalizer: spreads nearby seeds (0, 1, 2…) into unrelated states. */
function mix32(value: number): number {
  let h = value >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
