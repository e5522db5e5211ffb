#pragma once
// When a target is probed (SPEC §5), as a pure function of the clock: the
// Monitor tells a target's schedule when a probe starts and finishes, and sets
// its timer to what the schedule says; tests drive it with a clock of their
// own. Like rise_fall, it knows nothing of libuv.
//
// - The first probe comes within a second of the target's adoption, at a place
//   in that second drawn from the target's seed, so that many targets are not
//   all probed at once.
// - Each later probe is due one interval after the previous one was due, less
//   a jitter of up to 10% of the interval drawn for that round, so that targets
//   first probed together drift apart. Rounds count from when they were due,
//   not from when a probe started or ended: a timer that fires late or a slow
//   probe shifts no later round, and the gap between two probes is never more
//   than an interval (plus what the loop is late), so a member leaves at most
//   fall × interval + timeout after its target stops answering.
// - The jitter never shortens a gap below the timeout, so a probe cut off by
//   its timeout is over before the next is due. One probe at a time: while one
//   is in flight, the only thing due is its deadline.
// - A probe that starts more than half a gap late (the loop was held up)
//   starts the cadence afresh: missed rounds are skipped, not made up in a burst.
#include <algorithm>
#include <cstdint>

namespace dnsd::health {

inline constexpr uint64_t first_round_spread_ms = 1000;
inline constexpr uint64_t jitter_percent = 10;

class ProbeSchedule {
public:
    // A target adopted at `now_ms`; `seed` draws its place in the first
    // second and every round's jitter.
    constexpr ProbeSchedule(uint64_t interval_ms, uint64_t timeout_ms, uint64_t seed, uint64_t now_ms)
        : interval_ms_(interval_ms),
          max_jitter_ms_(std::min(interval_ms * jitter_percent / 100,
                                  interval_ms > timeout_ms ? interval_ms - timeout_ms : 0)),
          timeout_ms_(timeout_ms),
          seed_(seed),
          due_ms_(now_ms + draw(0) % first_round_spread_ms) {}

    constexpr bool in_flight() const { return in_flight_; }
    // Probes started so far.
    constexpr uint64_t rounds() const { return rounds_; }
    // When the next probe is due.
    constexpr uint64_t due_ms() const { return due_ms_; }
    // What comes next: the deadline of the probe in flight, else the next probe.
    constexpr uint64_t next_event_ms() const { return in_flight_ ? started_ms_ + timeout_ms_ : due_ms_; }
    // How long from `now_ms` until then (0 when it is past): the timer's setting.
    constexpr uint64_t wait_ms(uint64_t now_ms) const {
        return next_event_ms() > now_ms ? next_event_ms() - now_ms : 0;
    }

    // A probe starts at `now_ms`, at or after due_ms().
    constexpr void start(uint64_t now_ms) {
        in_flight_ = true;
        started_ms_ = now_ms;
        ++rounds_;
        const uint64_t gap = interval_ms_ - draw(rounds_) % (max_jitter_ms_ + 1);
        due_ms_ = now_ms > due_ms_ + gap / 2 ? now_ms + gap : due_ms_ + gap;
    }
    // The probe in flight reported, or its deadline passed.
    constexpr void finish() { in_flight_ = false; }

private:
    // splitmix64 of (seed, round): well spread, and the same for the same seed.
    constexpr uint64_t draw(uint64_t round) const {
        uint64_t z = seed_ + (round + 1) * 0x9E3779B97F4A7C15ull;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }

    uint64_t interval_ms_;
    uint64_t max_jitter_ms_;
    uint64_t timeout_ms_;
    uint64_t seed_;
    uint64_t due_ms_;
    uint64_t started_ms_ = 0;
    uint64_t rounds_ = 0;
    bool in_flight_ = false;
};

}  // namespace dnsd::health
