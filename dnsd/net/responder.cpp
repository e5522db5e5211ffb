#include "dnsd/net/responder.hpp"

#include <sys/random.h>

#include <chrono>

namespace dnsd::net {

Responder::Responder(const core::Published<answer::View>& published, uint32_t region_count)
    : reader_(published), pool_counters_(region_count) {
    // Each worker of each server draws its own weighted choices. xorshift
    // never leaves 0, so a failed or zero draw keeps the default state.
    uint64_t seed = 0;
    if (::getrandom(&seed, sizeof seed, 0) == static_cast<ssize_t>(sizeof seed) && seed != 0) state_.rng_state = seed;
    state_.prepare(reader_.get());
    pool_counters_.adopt(reader_.get().snapshot);
    prepared_generation_ = reader_.generation();
}

size_t Responder::answer(std::span<const uint8_t> query, const core::Address& source, answer::Transport transport,
                         std::span<uint8_t> out) {
    counters_.queries[static_cast<size_t>(transport)].add();
    const answer::View& view = reader_.get();
    if (reader_.generation() != prepared_generation_) {
        state_.prepare(view);
        pool_counters_.adopt(view.snapshot);
        prepared_generation_ = reader_.generation();
    }
    // Whole seconds, rounded down: a record's expiry is taken one second later.
    state_.now_s = static_cast<uint32_t>(
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
    const answer::Outcome outcome = answer::respond({query, source, transport}, view, state_, out);
    if (outcome.size == 0) {
        counters_.dropped.add();
        return 0;
    }
    counters_.answers[answer_slot(static_cast<size_t>(transport), qtype_slot(outcome.qtype), rcode_slot(outcome.rcode))]
        .add();
    pool_counters_.count(outcome.pool_answer);
    if (outcome.truncated) counters_.truncated.add();
    return outcome.size;
}

}  // namespace dnsd::net
