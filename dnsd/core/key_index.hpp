#pragma once
// A hash index of a caller's array by a key that the caller reads off each
// element: a string, or an address (an object's identity). Open addressing over one array of 8-byte slots, so indexing a
// million names costs a few allocations rather than one per name, and a
// lookup touches one slot and, when the hashes match, one element.
#include <bit>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "dnsd/core/hash.hpp"

namespace dnsd::core {

class KeyIndex {
public:
    static constexpr uint32_t none = UINT32_MAX;

    // Room for `count` elements without growing.
    void reserve(size_t count) {
        if (count * 2 > slots_.size()) rehash(std::bit_ceil(count * 2));
    }
    void clear() {
        slots_.clear();
        count_ = 0;
    }
    size_t size() const { return count_; }

    // Starts loading the slot where `key` would be, so that a find or insert
    // of it after other work does not wait for memory: a large index misses
    // the cache on nearly every key.
    template <typename Key>
    void prefetch(const Key& key) const {
        if (!slots_.empty()) __builtin_prefetch(&slots_[hash_of(key) & (slots_.size() - 1)]);
    }

    // The element whose key is `key`, else `none`. `key_of(element)` gives an
    // element's key.
    template <typename Key, typename KeyOf>
    uint32_t find(const Key& key, KeyOf key_of) const {
        if (slots_.empty()) return none;
        const uint32_t hash = hash_of(key);
        const size_t mask = slots_.size() - 1;
        for (size_t i = hash & mask;; i = (i + 1) & mask) {
            const uint64_t slot = slots_[i];
            if (slot == 0) return none;
            if (static_cast<uint32_t>(slot >> 32) == hash && key_of(element_of(slot)) == key) return element_of(slot);
        }
    }

    // Adds `element` (below `none`) under `key` when no element has that key
    // yet, and returns `none`; else returns the element that has it.
    template <typename Key, typename KeyOf>
    uint32_t insert(const Key& key, uint32_t element, KeyOf key_of) {
        if ((count_ + 1) * 2 > slots_.size()) rehash(slots_.empty() ? 16 : slots_.size() * 2);
        const uint32_t hash = hash_of(key);
        const size_t mask = slots_.size() - 1;
        for (size_t i = hash & mask;; i = (i + 1) & mask) {
            const uint64_t slot = slots_[i];
            if (slot == 0) {
                slots_[i] = static_cast<uint64_t>(hash) << 32 | (static_cast<uint64_t>(element) + 1);
                ++count_;
                return none;
            }
            if (static_cast<uint32_t>(slot >> 32) == hash && key_of(element_of(slot)) == key) return element_of(slot);
        }
    }

private:
    static uint32_t fold(uint64_t hash) { return static_cast<uint32_t>(hash ^ (hash >> 32)); }
    // Eight octets at a time, inline: the answer path hashes a name or two
    // per query, and names are short. A key of under eight octets is read
    // as two overlapping halves (or three octets), a longer one as words
    // ending with its last eight octets, so that every octet counts.
    static uint32_t hash_of(std::string_view key) {
        const char* p = key.data();
        const size_t n = key.size();
        uint64_t h = golden_gamma ^ n;
        if (n >= 8) {
            for (size_t i = 0; i + 8 < n; i += 8) h = mix64(h ^ load<uint64_t>(p + i));
            h = mix64(h ^ load<uint64_t>(p + n - 8));
        } else if (n >= 4) {
            h = mix64(h ^ (uint64_t{load<uint32_t>(p)} << 32 | load<uint32_t>(p + n - 4)));
        } else if (n > 0) {
            h = mix64(h ^ (uint64_t{uint8_t(p[0])} << 16 | uint64_t{uint8_t(p[n / 2])} << 8 | uint8_t(p[n - 1])));
        }
        return fold(h);
    }
    template <typename Word>
    static Word load(const char* p) {
        Word word;
        std::memcpy(&word, p, sizeof word);
        return word;
    }
    // Addresses share their low bits (alignment) and their high bits (one
    // heap): mixed, every bit counts. A C string is a string, not an address.
    template <typename T>
        requires(!std::is_same_v<std::remove_cv_t<T>, char>)
    static uint32_t hash_of(const T* key) {
        return fold(mix64(reinterpret_cast<uintptr_t>(key)));
    }
    static uint32_t element_of(uint64_t slot) { return static_cast<uint32_t>(slot) - 1; }

    // `capacity` is a power of two; slots keep their hash, so no key is read.
    void rehash(size_t capacity) {
        std::vector<uint64_t> old = std::exchange(slots_, std::vector<uint64_t>(capacity, 0));
        const size_t mask = capacity - 1;
        for (uint64_t slot : old) {
            if (slot == 0) continue;
            size_t i = static_cast<uint32_t>(slot >> 32) & mask;
            while (slots_[i] != 0) i = (i + 1) & mask;
            slots_[i] = slot;
        }
    }

    // Each slot: the key's hash in the high half, element + 1 in the low half; 0 is empty.
    std::vector<uint64_t> slots_;
    size_t count_ = 0;
};

}  // namespace dnsd::core
