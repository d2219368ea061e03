/** A small seeded PRNG (mulberry32): the only source of interleaving choices. */
export class Prng {
  constructor(public state: number) {
    this.state = state >>> 0;
  }
  /** Uniform 32-bit value. */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** Uniform in [0, n) for 0 < n < 2^32 (both sides unsigned 32-bit: an integer division, not fmod). */
  below(n: number): number {
    return (this.next() % (n >>> 0)) >>> 0;
  }
}
