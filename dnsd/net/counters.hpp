#pragma once
// Per-worker query counters. Each worker writes only its own; a reader (the
// metrics endpoint) sums them over the workers. Nothing here is written by two
// threads, so a query never touches a cache line another worker writes.
#include <array>
#include <atomic>
#include <cstdint>

#include "dnsd/zone/snapshot.hpp"

namespace dnsd::net {

// A count with one writer. The relaxed load and store compile to a plain
// increment yet keep a concurrent read from another thread well defined.
class Counter {
public:
    void add(uint64_t n = 1) {
        value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    uint64_t get() const { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<uint64_t> value_{0};
};

// The query types counted one by one; every other type shares the last slot.
inline constexpr std::array<uint16_t, 14> counted_qtypes{
    zone::rrtype::A,    zone::rrtype::NS,   zone::rrtype::CNAME, zone::rrtype::SOA,
    zone::rrtype::PTR,  zone::rrtype::MX,   zone::rrtype::TXT,   zone::rrtype::AAAA,
    zone::rrtype::SRV,  zone::rrtype::DS,   zone::rrtype::IXFR,  zone::rrtype::AXFR,
    zone::rrtype::ANY,  zone::rrtype::CAA};
inline constexpr size_t other_qtype_slot = counted_qtypes.size();

inline constexpr size_t qtype_slots = counted_qtypes.size() + 1;
// RCODEs 0-23 (up to BADCOOKIE, RFC 7873) are counted one by one; any higher
// value shares the last slot.
inline constexpr size_t other_rcode_slot = 24;
inline constexpr size_t rcode_slots = other_rcode_slot + 1;
inline constexpr size_t transport_slots = 2;  // by answer::Transport

// The slot of `qtype` among counted_qtypes, or other_qtype_slot.
size_t qtype_slot(uint16_t qtype);
// The slot of `rcode`: the value itself, or other_rcode_slot.
size_t rcode_slot(uint8_t rcode);
// The slot of an answered query in CounterSet::answers.
inline size_t answer_slot(size_t transport, size_t qtype_slot, size_t rcode_slot) {
    return (transport * qtype_slots + qtype_slot) * rcode_slots + rcode_slot;
}

// One layout for a worker's live counts (T = Counter) and for their sum (T = uint64_t).
template <typename T>
struct CounterSet {
    std::array<T, transport_slots> queries{};  // every message received, by answer::Transport
    // Answered, by answer_slot(transport, qtype, rcode).
    std::array<T, transport_slots * qtype_slots * rcode_slots> answers{};
    T truncated{};  // answers sent with TC set: UDP, and TCP when even 65535 octets are too few
    T dropped{};            // not answered: not a query, or the answer could not be sent
    T tcp_accepted{};       // TCP connections served
    T tcp_refused{};        // TCP connections closed at once: the connection cap was reached
    T tcp_idle_closed{};    // TCP connections closed by the idle timeout, or by a message not whole in time
    T tcp_client_refused{};  // TCP connections closed at once: the client's own cap was reached
    T tcp_evicted{};        // TCP connections closed, longest idle first, to make room at the cap
    T rrl_dropped{};        // UDP answers RRL dropped
    T rrl_slipped{};        // UDP answers RRL sent empty with TC instead
};

// Aligned so that two workers' counters never share a cache line.
struct alignas(64) Counters : CounterSet<Counter> {};
using CounterTotals = CounterSet<uint64_t>;

// Adds one worker's counts to `totals`.
void add_to(CounterTotals& totals, const Counters& counters);

}  // namespace dnsd::net
