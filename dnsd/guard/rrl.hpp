#pragma once
// Response rate limiting (SPEC §10), shared by every worker of the server:
// with SO_REUSEPORT one client's queries reach several workers, so a limit
// kept per worker would let through as many times the rate as there are
// workers. The table is a fixed array of 64-bit words updated with relaxed
// compare-and-swap: no lock, no allocation, bounded memory.
//
// A word counts the responses of one class — client network (IPv4 /ipv4_prefix,
// IPv6 /ipv6_prefix) × answer name (the zone for NXDOMAIN, the wildcard for a
// wildcard answer, the root for errors) × type × rcode — in one second, as
// Knot does: tag (32 bits of the class's hash) | second (16 bits) | count (16).
// A class hashes to a bucket of eight words, one cache line. A word of an
// earlier second is free; when all eight are busy this second, the one with
// the fewest responses gives way, so that the classes over the limit, which
// count the most, stay put however many others come and go.
//
// Networks that are being limited are also noted in a small registry of
// their own, which the control loop sweeps once a second to log when a
// network starts and stops being limited and to count how many are.
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "dnsd/core/address.hpp"

namespace dnsd::guard {

struct Network {
    core::Address address;  // masked to prefix
    uint8_t prefix = 0;
    bool contains(const core::Address& client) const;
};

struct RrlSettings {
    uint32_t responses_per_second = 20;  // per class; at most max_responses_per_second
    uint32_t slip = 2;                   // every slip-th limited response goes out truncated; 0: none
    uint8_t ipv4_prefix = 24;
    uint8_t ipv6_prefix = 56;            // at most 64
    std::vector<Network> exempt;         // never limited
};
inline constexpr uint32_t max_responses_per_second = 10000;
inline constexpr uint32_t max_slip = 10;

enum class Verdict : uint8_t { pass, drop, slip };

// A network that started or stopped being limited, for the log.
struct LimitChange {
    core::Address network;
    uint8_t prefix = 0;
    bool started = false;  // else stopped
};

class Rrl {
public:
    // Words in the table: 8 MiB, 131,072 buckets. With 100,000 classes in
    // one second the chance that any bucket needs more than its eight words
    // is under 2%; past that, the least counted classes give way.
    static constexpr size_t table_slots = size_t{1} << 20;
    // Networks the registry can hold at once (for the log and the gauge).
    static constexpr size_t registry_slots = 8192;
    // A network whose last limited response is this many seconds old (no
    // limited response this second nor the one before) has stopped being limited.
    static constexpr uint32_t quiet_seconds = 2;

    // `seed` keys the class hash, so that nobody outside can aim many classes
    // at one bucket.
    Rrl(RrlSettings settings, uint64_t seed);
    Rrl(const Rrl&) = delete;
    Rrl& operator=(const Rrl&) = delete;

    const RrlSettings& settings() const { return settings_; }
    bool exempt(const core::Address& client) const;

    // Counts one response to `client` (any thread, no lock, no allocation)
    // in second `now_s` and says what to do with it. `name` is the class's
    // name in lower-case wire form.
    Verdict account(const core::Address& client, std::string_view name, uint16_t qtype, uint8_t rcode,
                    uint32_t now_s);

    // Control loop only: the networks that started or stopped being limited
    // since the last sweep, appended to `changes`. Allocates.
    void sweep(uint32_t now_s, std::vector<LimitChange>& changes);
    // Networks limited as of the last sweep (any thread).
    size_t limited_networks() const { return limited_networks_.load(std::memory_order_relaxed); }

private:
    struct RegistrySlot {
        std::atomic<uint64_t> key{0};       // the network's hash, never 0; 0: free. Cleared by sweep() only.
        std::atomic<uint32_t> last_limited{0};  // the last second a response of it was limited
        std::atomic<uint8_t> family{0};     // 4 or 6 once `words` hold the network; 0: not yet
        std::array<std::atomic<uint64_t>, 2> words{};  // the network's address, written once by the claimer
    };

    core::Address network_of(const core::Address& client) const;
    void note_limited(const core::Address& network, uint32_t now_s);

    RrlSettings settings_;
    uint64_t seed_;
    std::unique_ptr<std::atomic<uint64_t>[]> table_;
    std::unique_ptr<RegistrySlot[]> registry_;
    std::vector<uint64_t> announced_;  // sweep()'s own: the key each registry slot was announced with
    std::atomic<size_t> limited_networks_{0};
};

}  // namespace dnsd::guard
