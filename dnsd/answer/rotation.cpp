#include "dnsd/answer/rotation.hpp"

#include <bit>

namespace dnsd::answer {

void Rotations::reset(size_t sets) {
    slots_.assign(std::bit_ceil(2 * sets + 2), Slot{});
}

uint64_t Rotations::next(uintptr_t key) {
    const size_t mask = slots_.size() - 1;
    // Fibonacci hashing spreads the aligned addresses over the table.
    size_t index = static_cast<size_t>((static_cast<uint64_t>(key) * 0x9e3779b97f4a7c15ull) >> 32) & mask;
    for (size_t probes = 0; probes < slots_.size(); ++probes, index = (index + 1) & mask) {
        Slot& slot = slots_[index];
        if (slot.key == key) return slot.count++;
        if (slot.key == 0) {
            slot.key = key;
            return slot.count++;
        }
    }
    return 0;  // full: only if a set outside the view was asked for; no rotation then
}

}  // namespace dnsd::answer
