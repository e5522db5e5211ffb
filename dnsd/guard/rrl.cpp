#include "dnsd/guard/rrl.hpp"

#include <cstring>

#include "dnsd/core/hash.hpp"

namespace dnsd::guard {

namespace {

constexpr size_t bucket_size = 8;  // words of one bucket: one 64-octet cache line
constexpr uint64_t count_mask = 0xffff;
constexpr uint64_t second_mask = 0xffff;
// Compare-and-swap attempts before a response is judged without being
// counted; only many workers hitting one word at once exhaust them.
constexpr int max_attempts = 8;
constexpr size_t registry_probe = 8;

uint64_t word_of(uint32_t tag, uint32_t second, uint64_t count) {
    return uint64_t{tag} << 32 | (second & second_mask) << 16 | count;
}
uint32_t tag_of(uint64_t word) { return static_cast<uint32_t>(word >> 32); }
uint32_t second_of(uint64_t word) { return static_cast<uint32_t>((word >> 16) & second_mask); }
uint64_t count_of(uint64_t word) { return word & count_mask; }

// Which word of a full bucket a new class takes: a free one (empty, or
// counting an earlier second) first, else the one with the fewest responses.
uint64_t eviction_rank(uint64_t word, uint32_t second) {
    return word == 0 || second_of(word) != second ? 0 : 1 + count_of(word);
}

std::array<uint64_t, 2> words_of(const core::Address& address) {
    std::array<uint64_t, 2> words;
    std::memcpy(words.data(), address.bytes.data(), sizeof words);
    return words;
}

uint64_t network_hash(const core::Address& network, uint64_t seed) {
    const auto [high, low] = words_of(network);
    return core::mix64(core::mix64(seed ^ high ^ static_cast<uint64_t>(network.family)) ^ low);
}

}  // namespace

bool Network::contains(const core::Address& client) const {
    return client.family == address.family && client.masked(prefix) == address;
}

Rrl::Rrl(RrlSettings settings, uint64_t seed)
    : settings_(std::move(settings)),
      seed_(seed),
      table_(new std::atomic<uint64_t>[table_slots]),
      registry_(new RegistrySlot[registry_slots]),
      announced_(registry_slots, 0) {
    for (size_t i = 0; i < table_slots; ++i) table_[i].store(0, std::memory_order_relaxed);
}

bool Rrl::exempt(const core::Address& client) const {
    for (const Network& network : settings_.exempt)
        if (network.contains(client)) return true;
    return false;
}

core::Address Rrl::network_of(const core::Address& client) const {
    return client.masked(client.family == core::Family::v4 ? settings_.ipv4_prefix : settings_.ipv6_prefix);
}

Verdict Rrl::account(const core::Address& client, std::string_view name, uint16_t qtype, uint8_t rcode,
                     uint32_t now_s) {
    const core::Address network = network_of(client);
    const uint64_t hash =
        core::stable_hash(name, network_hash(network, seed_) ^ (uint64_t{qtype} << 8 | rcode));
    // The tag is never 0, so that a word of 0 is always a free one.
    const uint32_t tag = static_cast<uint32_t>(hash >> 32) | 1u;
    std::atomic<uint64_t>* bucket = &table_[(hash & (table_slots - 1)) & ~(bucket_size - 1)];
    const uint32_t second = now_s & second_mask;
    const uint64_t limit = settings_.responses_per_second;

    uint64_t count = 0;
    for (int attempt = 0; attempt < max_attempts; ++attempt) {
        // The class's word if it has one, else the word it takes over.
        size_t chosen = bucket_size;
        uint64_t chosen_word = 0;
        bool found = false;
        for (size_t i = 0; i < bucket_size; ++i) {
            const uint64_t word = bucket[i].load(std::memory_order_relaxed);
            if (tag_of(word) == tag) {
                chosen = i;
                chosen_word = word;
                found = true;
                break;
            }
            if (chosen == bucket_size || eviction_rank(word, second) < eviction_rank(chosen_word, second)) {
                chosen = i;
                chosen_word = word;
            }
        }
        const uint64_t previous = found && second_of(chosen_word) == second ? count_of(chosen_word) : 0;
        // A count that would overflow starts again just over the limit: still
        // limited, and slipping keeps its rhythm.
        count = previous == count_mask ? limit + 1 : previous + 1;
        if (bucket[chosen].compare_exchange_weak(chosen_word, word_of(tag, second, count),
                                                 std::memory_order_relaxed))
            break;
    }
    if (count <= limit) return Verdict::pass;
    note_limited(network, now_s);
    const uint32_t slip = settings_.slip;
    return slip != 0 && (count - limit) % slip == 0 ? Verdict::slip : Verdict::drop;
}

void Rrl::note_limited(const core::Address& network, uint32_t now_s) {
    const uint64_t key = network_hash(network, seed_) | 1u;
    const size_t start = key & (registry_slots - 1);
    for (size_t probe = 0; probe < registry_probe; ++probe) {
        RegistrySlot& slot = registry_[(start + probe) & (registry_slots - 1)];
        uint64_t held = slot.key.load(std::memory_order_acquire);
        if (held == 0 && slot.key.compare_exchange_strong(held, key, std::memory_order_acq_rel)) {
            const auto words = words_of(network);
            slot.words[0].store(words[0], std::memory_order_relaxed);
            slot.words[1].store(words[1], std::memory_order_relaxed);
            slot.last_limited.store(now_s, std::memory_order_relaxed);
            slot.family.store(static_cast<uint8_t>(network.family), std::memory_order_release);
            return;
        }
        if (held == key) {
            slot.last_limited.store(now_s, std::memory_order_relaxed);
            return;
        }
    }
    // The registry is full around this network: it is limited all the same,
    // only not logged nor counted in the gauge.
}

void Rrl::sweep(uint32_t now_s, std::vector<LimitChange>& changes) {
    size_t limited = 0;
    for (size_t i = 0; i < registry_slots; ++i) {
        RegistrySlot& slot = registry_[i];
        const uint64_t key = slot.key.load(std::memory_order_acquire);
        const uint8_t family = slot.family.load(std::memory_order_acquire);
        if (key == 0 || family == 0) continue;
        LimitChange change;
        change.network.family = static_cast<core::Family>(family);
        const std::array<uint64_t, 2> words{slot.words[0].load(std::memory_order_relaxed),
                                            slot.words[1].load(std::memory_order_relaxed)};
        std::memcpy(change.network.bytes.data(), words.data(), sizeof words);
        change.prefix = family == 4 ? settings_.ipv4_prefix : settings_.ipv6_prefix;
        if (announced_[i] != key) {
            announced_[i] = key;
            change.started = true;
            changes.push_back(change);
        }
        const uint32_t quiet = now_s - slot.last_limited.load(std::memory_order_relaxed);
        if (static_cast<int32_t>(quiet) < static_cast<int32_t>(quiet_seconds)) {
            ++limited;
            continue;
        }
        change.started = false;
        changes.push_back(change);
        announced_[i] = 0;
        slot.family.store(0, std::memory_order_relaxed);
        slot.key.store(0, std::memory_order_release);
    }
    limited_networks_.store(limited, std::memory_order_relaxed);
}

}  // namespace dnsd::guard
