#!/usr/bin/env python3
"""Independent reference for host/data/batching/sample_order: MT19937-64 (Matsumoto & Nishimura's published
algorithm, the engine C++ names std::mt19937_64), the rejection reduction to [0, bound), and Fisher-Yates from the
back. Prints the permutations that order_test.cpp pins, so the C++ order is checked against a second
implementation rather than against itself.

Usage: reference_order.py  (prints one line per (n, seed) case)
"""

MASK = (1 << 64) - 1


class MT19937_64:
    def __init__(self, seed):
        self.mt = [0] * 312
        self.index = 312
        self.mt[0] = seed & MASK
        for i in range(1, 312):
            self.mt[i] = (6364136223846793005 * (self.mt[i - 1] ^ (self.mt[i - 1] >> 62)) + i) & MASK

    def _twist(self):
        upper, lower = 0xFFFFFFFF80000000, 0x7FFFFFFF
        for i in range(312):
            x = (self.mt[i] & upper) | (self.mt[(i + 1) % 312] & lower)
            xa = x >> 1
            if x & 1:
                xa ^= 0xB5026F5AA96619E9
            self.mt[i] = self.mt[(i + 156) % 312] ^ xa
        self.index = 0

    def __call__(self):
        if self.index >= 312:
            self._twist()
        y = self.mt[self.index]
        self.index += 1
        y ^= (y >> 29) & 0x5555555555555555
        y ^= (y << 17) & 0x71D67FFFEDA60000
        y ^= (y << 37) & 0xFFF7EEE000000000
        y ^= y >> 43
        return y & MASK


def uniform_below(rng, bound):
    threshold = (2**64 - bound) % bound
    while True:
        x = rng()
        if x >= threshold:
            return x % bound


def permutation(n, seed):
    p = list(range(n))
    rng = MT19937_64(seed)
    for i in range(n - 1, 0, -1):
        j = uniform_below(rng, i + 1)
        p[i], p[j] = p[j], p[i]
    return p


if __name__ == "__main__":
    # The C++ standard's check value: the 10000th draw of a default-seeded (5489) std::mt19937_64.
    rng = MT19937_64(5489)
    for _ in range(9999):
        rng()
    assert rng() == 9981545732273789042
    for n, seed in [(10, 42), (10, 43), (17, 7), (1, 42)]:
        print(f"n={n} seed={seed}: {{{', '.join(map(str, permutation(n, seed)))}}}")
