#pragma once
// The hot path: one query's bytes in, one response's bytes out (SPEC §7).
// Takes no lock, allocates nothing, throws nothing; all scratch lives in the
// caller's WorkerState.
#include <cstdint>
#include <span>
#include <vector>

#include "dnsd/answer/view.hpp"
#include "dnsd/core/address.hpp"

namespace dnsd::answer {

enum class Transport : uint8_t { udp, tcp };

// Per-worker mutable state; one per thread, never shared.
struct WorkerState {
    uint64_t counter = 0;      // rotation: bumped once per query
    uint64_t rng_state = 0x9e3779b97f4a7c15ull;  // xorshift state for weighted
    std::vector<uint32_t> members;  // selection output, sized by prepare()
    std::vector<uint64_t> scratch;  // selection scratch, sized by prepare()

    // Sizes the scratch for a view; called when the worker adopts a new view,
    // never per query.
    void prepare(const View& view);
};

struct Request {
    std::span<const uint8_t> packet;
    core::Address source;
    Transport transport = Transport::udp;
};

// What the worker needs for its counters and logs besides the bytes.
struct Outcome {
    size_t size = 0;           // response bytes written to `out`; 0: drop the packet
    uint16_t qtype = 0;
    uint8_t rcode = 0;
    bool truncated = false;
};

// `out` must hold at least 65535 bytes; the response is limited to what the
// transport allows (UDP: the client's EDNS payload or 512; TCP: 65535).
Outcome respond(const Request& request, const View& view, WorkerState& state,
                std::span<uint8_t> out);

}  // namespace dnsd::answer
