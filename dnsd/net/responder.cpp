#include "dnsd/net/responder.hpp"

#include <sys/random.h>
#include <time.h>

namespace dnsd::net {

namespace {

// The coarse clock costs no system call; its resolution (a few
// milliseconds) is far finer than the seconds cookies and RRL count in.
uint32_t now_s() {
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME_COARSE, &now);
    return static_cast<uint32_t>(now.tv_sec);
}

}  // namespace

Responder::Responder(const core::Published<answer::View>& published, uint32_t region_count, const Protection& protection)
    : reader_(published), pool_counters_(region_count) {
    state_.cookies = protection.cookies;
    state_.rrl = protection.rrl;
    // Each worker of each server draws its own weighted choices. xorshift
    // never leaves 0, so a failed or zero draw keeps the default state.
    uint64_t seed = 0;
    if (::getrandom(&seed, sizeof seed, 0) == static_cast<ssize_t>(sizeof seed) && seed != 0) state_.rng_state = seed;
    adopt(reader_.get());
}

void Responder::adopt(const answer::View& view) {
    state_.prepare(view);
    pool_counters_.adopt(view.snapshot);
    prepared_generation_ = reader_.generation();
}

size_t Responder::answer(std::span<const uint8_t> query, const core::Address& source, answer::Transport transport,
                         std::span<uint8_t> out) {
    counters_.queries[static_cast<size_t>(transport)].add();
    const answer::View& view = catch_up();
    const answer::Outcome outcome = answer::respond({query, source, transport, now_s()}, view, state_, out);
    if (outcome.rrl == guard::Verdict::drop) {
        counters_.rrl_dropped.add();
        return 0;
    }
    if (outcome.rrl == guard::Verdict::slip) counters_.rrl_slipped.add();
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
