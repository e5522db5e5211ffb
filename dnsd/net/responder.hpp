#pragma once
// One worker's answer path: the worker's cached view, its scratch, its output
// buffer and its counters around answer::respond. Used by the worker's UDP and
// TCP code on the worker's thread only.
#include <cstdint>
#include <memory>
#include <span>

#include "dnsd/answer/respond.hpp"
#include "dnsd/answer/view.hpp"
#include "dnsd/core/address.hpp"
#include "dnsd/core/published.hpp"
#include "dnsd/net/counters.hpp"
#include "dnsd/net/pool_counters.hpp"

namespace dnsd::net {

class Responder {
public:
    // `region_count`: the config's regions, for the pool answer counters.
    Responder(const core::Published<answer::View>& published, uint32_t region_count);

    // Answers one message. UDP: the response; TCP: the response behind its
    // 2-byte length. Empty: send nothing. The bytes stay valid until the next
    // call. Takes no lock and allocates nothing, unless a new view was published.
    std::span<const uint8_t> answer(std::span<const uint8_t> query, const core::Address& source,
                                    answer::Transport transport);

    Counters& counters() { return counters_; }
    const Counters& counters() const { return counters_; }
    const PoolCounters& pool_counters() const { return pool_counters_; }

private:
    core::Published<answer::View>::Reader reader_;
    uint64_t prepared_generation_;
    answer::WorkerState state_;
    // The TCP length prefix, then room for the largest DNS message.
    std::unique_ptr<uint8_t[]> out_;
    Counters counters_;
    PoolCounters pool_counters_;
};

}  // namespace dnsd::net
