#pragma once
// A stable 64-bit hash: the same on every machine and across restarts, so that
// sticky answers agree between servers that share a zone, and a rotating set
// keeps its identity across reloads.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace dnsd::core {

// splitmix64's increment and output function (Steele, Lea, Flood 2014): the
// output function is a bijection on 64 bits with full avalanche.
inline constexpr uint64_t golden_gamma = 0x9e3779b97f4a7c15ull;

constexpr uint64_t mix64(uint64_t x) {
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

// Reads the input as 64-bit little-endian words (the last one zero-padded),
// chaining them through mix64, then the length:
//   h = mix64(seed + golden_gamma); h = mix64(h ^ word) per word;
//   result = mix64(h ^ size).
// Defined on bytes, not on the machine's word order, so every server agrees.
uint64_t stable_hash(const uint8_t* data, size_t size, uint64_t seed);

inline uint64_t stable_hash(std::span<const uint8_t> bytes, uint64_t seed) {
    return stable_hash(bytes.data(), bytes.size(), seed);
}
inline uint64_t stable_hash(std::string_view text, uint64_t seed) {
    return stable_hash(reinterpret_cast<const uint8_t*>(text.data()), text.size(), seed);
}

}  // namespace dnsd::core
