#include "dnsd/guard/siphash.hpp"

#include <bit>

namespace dnsd::guard {

namespace {

uint64_t load_le(const uint8_t* bytes, size_t size) {
    uint64_t value = 0;
    for (size_t i = 0; i < size; ++i) value |= uint64_t{bytes[i]} << (8 * i);
    return value;
}

struct State {
    uint64_t v0, v1, v2, v3;

    void round() {
        v0 += v1;
        v1 = std::rotl(v1, 13);
        v1 ^= v0;
        v0 = std::rotl(v0, 32);
        v2 += v3;
        v3 = std::rotl(v3, 16);
        v3 ^= v2;
        v0 += v3;
        v3 = std::rotl(v3, 21);
        v3 ^= v0;
        v2 += v1;
        v1 = std::rotl(v1, 17);
        v1 ^= v2;
        v2 = std::rotl(v2, 32);
    }
    // Two compression rounds per word: the "2" of SipHash-2-4.
    void absorb(uint64_t word) {
        v3 ^= word;
        round();
        round();
        v0 ^= word;
    }
};

}  // namespace

uint64_t siphash24(std::span<const uint8_t> data, const SipKey& key) {
    const uint64_t k0 = load_le(key.data(), 8), k1 = load_le(key.data() + 8, 8);
    State s{k0 ^ 0x736f6d6570736575ull, k1 ^ 0x646f72616e646f6dull, k0 ^ 0x6c7967656e657261ull,
            k1 ^ 0x7465646279746573ull};
    const size_t whole = data.size() / 8 * 8;
    for (size_t i = 0; i < whole; i += 8) s.absorb(load_le(data.data() + i, 8));
    // The last word: the remaining octets, with the length's low byte on top.
    s.absorb(load_le(data.data() + whole, data.size() - whole) | uint64_t{data.size() & 0xff} << 56);
    s.v2 ^= 0xff;
    for (int i = 0; i < 4; ++i) s.round();  // the "4": finalisation rounds
    return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

}  // namespace dnsd::guard
