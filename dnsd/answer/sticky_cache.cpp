#include "dnsd/answer/sticky_cache.hpp"

#include <new>
#include <type_traits>

#include "dnsd/core/hash.hpp"

namespace dnsd::answer {

StickyCache::StickyCache() {
    // calloc's zeroed pages: a slot of generation 0 holds nothing, and the
    // kernel backs only the slots a worker ever stores into.
    static_assert(std::is_trivially_copyable_v<Slot>);
    auto* memory = static_cast<Slot*>(std::calloc(sets * ways, sizeof(Slot)));
    if (memory == nullptr) throw std::bad_alloc();
    slots_.reset(memory);
}

StickyCache::Slot* StickyCache::set_of(const Key& key) {
    uint64_t h = core::mix64(key.network ^ reinterpret_cast<uintptr_t>(key.pool));
    h = core::mix64(h ^ (static_cast<uint64_t>(static_cast<uint32_t>(key.region)) << 8) ^
                    static_cast<uint64_t>(key.family));
    return &slots_[(h & (sets - 1)) * ways];
}

const StickyCache::Ranking* StickyCache::find(const Key& key) {
    Slot* set = set_of(key);
    for (size_t way = 0; way < ways; ++way) {
        Slot& slot = set[way];
        if (slot.generation == generation_ && slot.key == key) {
            slot.used = ++use_;
            return &slot.ranking;
        }
    }
    return nullptr;
}

StickyCache::Ranking& StickyCache::store(const Key& key) {
    Slot* set = set_of(key);
    Slot* victim = set;
    for (size_t way = 0; way < ways; ++way) {
        Slot& slot = set[way];
        if (slot.generation != generation_) {
            victim = &slot;
            break;
        }
        if (slot.used < victim->used) victim = &slot;
    }
    victim->generation = generation_;
    victim->used = ++use_;
    victim->key = key;
    victim->ranking.count = 0;
    return victim->ranking;
}

}  // namespace dnsd::answer
