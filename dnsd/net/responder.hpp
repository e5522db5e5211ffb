#pragma once
// One worker's answer path: the worker's cached view, its scratch and its
// counters around answer::respond. Used by the worker's UDP and TCP code on
// the worker's thread only; they own the buffers answers are written to.
#include <cstdint>
#include <span>

#include "dnsd/answer/respond.hpp"
#include "dnsd/answer/view.hpp"
#include "dnsd/core/address.hpp"
#include "dnsd/core/published.hpp"
#include "dnsd/net/counters.hpp"
#include "dnsd/net/pool_counters.hpp"

namespace dnsd::net {

// What every worker shares to protect the server (SPEC §10); owned by the
// caller, alive as long as the workers.
struct Protection {
    const guard::CookieSecrets* cookies = nullptr;  // null: no cookies answered
    guard::Rrl* rrl = nullptr;                      // null: no RRL
};

class Responder {
public:
    // `region_count`: the config's regions, for the pool answer counters.
    Responder(const core::Published<answer::View>& published, uint32_t region_count, const Protection& protection = {});

    // Answers one message into `out` (at least 65535 bytes): the response's
    // size, 0 to send nothing. Takes no lock and allocates nothing, unless a
    // new view was published.
    size_t answer(std::span<const uint8_t> query, const core::Address& source, answer::Transport transport,
                  std::span<uint8_t> out);

    // Moves to the view published last, unless it has already, and returns
    // it: done by every query, and when the worker is told of a publish.
    const answer::View& catch_up() {
        const answer::View& view = reader_.get();
        if (reader_.generation() != prepared_generation_) adopt(view);
        return view;
    }

    Counters& counters() { return counters_; }
    const Counters& counters() const { return counters_; }
    PoolCounters& pool_counters() { return pool_counters_; }
    const PoolCounters& pool_counters() const { return pool_counters_; }
    const guard::Rrl* rrl() const { return state_.rrl; }

private:
    // The part of catch_up that runs once per publish.
    void adopt(const answer::View& view);

    core::Published<answer::View>::Reader reader_;
    uint64_t prepared_generation_;
    answer::WorkerState state_;
    Counters counters_;
    PoolCounters pool_counters_;
};

}  // namespace dnsd::net
