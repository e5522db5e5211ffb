#include "dnsd/answer/rotation.hpp"

#include <bit>

namespace dnsd::answer {

namespace {

// The slot holding `key`, else the free slot where it goes; null when the
// table is empty or full. Fibonacci hashing spreads the keys over the table.
template <class Slots>
auto* probe(Slots& slots, uint64_t key) {
    const size_t mask = slots.size() - 1;
    size_t index = static_cast<size_t>((key * 0x9e3779b97f4a7c15ull) >> 32) & mask;
    for (size_t probes = 0; probes < slots.size(); ++probes, index = (index + 1) & mask) {
        auto& slot = slots[index];
        if (slot.key == key || slot.key == 0) return &slot;
    }
    return static_cast<decltype(&slots[0])>(nullptr);
}

}  // namespace

void Rotations::adopt(const zone::Snapshot& snapshot) {
    size_t sets = 0;
    for (const auto& zone : snapshot.zones) sets += zone->names().rotation_keys.size() + zone->rotation_keys.size();
    // Counters are added as sets are first asked for: `sets` more at most. A
    // table of 3 * sets + 4 slots stays under three quarters full after a
    // sweep until as many counters of sets gone pile up as live sets.
    const size_t wanted = std::bit_ceil(3 * sets + 4);
    const bool fits = slots_.size() >= wanted && 4 * (used_ + sets) <= 3 * slots_.size();
    const bool oversized = slots_.size() > 4 * wanted;
    if (fits && !oversized) return;

    std::vector<Slot> previous(wanted);
    previous.swap(slots_);
    used_ = 0;
    if (previous.empty()) return;
    for (const auto& zone : snapshot.zones)
        for (const auto* keys : {&zone->names().rotation_keys, &zone->rotation_keys})
            for (const uint64_t key : *keys) {
                const Slot* old = probe(previous, key);
                if (old == nullptr || old->key == 0) continue;
                *probe(slots_, key) = *old;
                ++used_;
            }
}

uint64_t Rotations::next(uint64_t key) {
    if (key == 0 || slots_.empty()) return 0;
    Slot* slot = probe(slots_, key);
    if (slot == nullptr) return 0;
    if (slot->key == 0) {
        // A set the adopted snapshot does not have (there is none in a
        // server): no rotation rather than a full table.
        if (4 * (used_ + 1) > 3 * slots_.size()) return 0;
        slot->key = key;
        ++used_;
    }
    return slot->count++;
}

}  // namespace dnsd::answer
