#include "dnsd/core/hash.hpp"

namespace dnsd::core {

uint64_t stable_hash(const uint8_t* data, size_t size, uint64_t seed) {
    uint64_t h = mix64(seed + golden_gamma);
    for (size_t offset = 0; offset < size; offset += 8) {
        uint64_t word = 0;
        for (size_t i = 0; i < 8 && offset + i < size; ++i) word |= uint64_t{data[offset + i]} << (8 * i);
        h = mix64(h ^ word);
    }
    return mix64(h ^ size);
}

}  // namespace dnsd::core
