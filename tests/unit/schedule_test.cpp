// The probe schedule (SPEC §5) driven by a clock of the test's own: where the
// first round falls, the gaps between later rounds, and what slow probes,
// late timers and probes that outlast their interval do to it.
#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
#include <set>
#include <vector>

#include "dnsd/health/schedule.hpp"

using dnsd::health::ProbeSchedule;

namespace {

constexpr uint64_t interval_ms = 10000, timeout_ms = 3000;

// Runs `schedule` as the Monitor does, from `now_ms`, for `rounds` probes:
// each probe starts `late_ms` after it is due and lasts `duration_ms(round)`,
// cut off at its deadline unless `ignore_deadline` (a loop held up past it).
// Returns when each probe started. Fails if a probe starts while one is in
// flight or before it is due.
struct Run {
    uint64_t timeout_ms = ::timeout_ms;  // the schedule's
    uint64_t late_ms = 0;
    std::function<uint64_t(uint64_t round)> duration_ms = [](uint64_t) { return uint64_t{20}; };
    bool ignore_deadline = false;

    std::vector<uint64_t> starts(ProbeSchedule schedule, uint64_t now_ms, size_t rounds) const {
        std::vector<uint64_t> starts;
        while (starts.size() < rounds) {
            REQUIRE_FALSE(schedule.in_flight());
            now_ms = std::max(now_ms, schedule.due_ms()) + late_ms;
            schedule.start(now_ms);
            starts.push_back(now_ms);
            const uint64_t lasts = duration_ms(schedule.rounds());
            // While it is in flight, the only thing due is its deadline.
            CHECK(schedule.next_event_ms() == now_ms + timeout_ms);
            now_ms += ignore_deadline ? lasts : std::min(lasts, timeout_ms);
            schedule.finish();
        }
        return starts;
    }
};

std::vector<uint64_t> gaps(const std::vector<uint64_t>& starts) {
    std::vector<uint64_t> out;
    for (size_t i = 1; i < starts.size(); ++i) out.push_back(starts[i] - starts[i - 1]);
    return out;
}

}  // namespace

TEST_CASE("schedule: the first round falls within a second of adoption, spread over it", "[health][schedule]") {
    constexpr uint64_t adopted_ms = 123456;
    std::vector<uint64_t> offsets;
    for (uint64_t seed = 0; seed < 200; ++seed) {
        const ProbeSchedule schedule(interval_ms, timeout_ms, seed, adopted_ms);
        CHECK_FALSE(schedule.in_flight());
        CHECK(schedule.rounds() == 0);
        CHECK(schedule.next_event_ms() == schedule.due_ms());
        offsets.push_back(schedule.due_ms() - adopted_ms);
    }
    for (uint64_t offset : offsets) CHECK(offset < 1000);
    // Spread, not bunched: both ends of the second are used, by many places.
    CHECK(*std::min_element(offsets.begin(), offsets.end()) < 100);
    CHECK(*std::max_element(offsets.begin(), offsets.end()) >= 900);
    CHECK(std::set<uint64_t>(offsets.begin(), offsets.end()).size() > 150);
}

TEST_CASE("schedule: later rounds come every interval, up to 10% early, never late", "[health][schedule]") {
    for (uint64_t seed : {1, 2, 3}) {
        const auto starts = Run{}.starts(ProbeSchedule(interval_ms, timeout_ms, seed, 0), 0, 500);
        const auto between = gaps(starts);
        for (uint64_t gap : between) {
            CHECK(gap <= interval_ms);
            CHECK(gap >= interval_ms - interval_ms / 10);
        }
        // Jittered: the gaps differ.
        CHECK(std::set<uint64_t>(between.begin(), between.end()).size() > 100);
    }
    // The same seed gives the same schedule; another seed another.
    CHECK(Run{}.starts(ProbeSchedule(interval_ms, timeout_ms, 7, 0), 0, 20) ==
          Run{}.starts(ProbeSchedule(interval_ms, timeout_ms, 7, 0), 0, 20));
    CHECK(Run{}.starts(ProbeSchedule(interval_ms, timeout_ms, 7, 0), 0, 20) !=
          Run{}.starts(ProbeSchedule(interval_ms, timeout_ms, 8, 0), 0, 20));
}

TEST_CASE("schedule: the jitter never leaves less than the timeout between probes", "[health][schedule]") {
    // interval 1 s, timeout 0.95 s: at most 50 ms early.
    Run run;
    run.timeout_ms = 950;
    const auto starts = run.starts(ProbeSchedule(1000, 950, 5, 0), 0, 500);
    const auto between = gaps(starts);
    for (uint64_t gap : between) {
        CHECK(gap >= 950);
        CHECK(gap <= 1000);
    }
    CHECK(*std::min_element(between.begin(), between.end()) < 1000);
    // A timeout as long as the interval leaves no room for jitter at all.
    run.timeout_ms = 1000;
    for (uint64_t gap : gaps(run.starts(ProbeSchedule(1000, 1000, 5, 0), 0, 50))) CHECK(gap == 1000);
}

TEST_CASE("schedule: a slow probe shifts no later round", "[health][schedule]") {
    const ProbeSchedule schedule(interval_ms, timeout_ms, 11, 0);
    Run quick, slow, timing_out;
    slow.duration_ms = [](uint64_t round) { return round % 2 ? uint64_t{2900} : uint64_t{5}; };
    timing_out.duration_ms = [](uint64_t) { return uint64_t{60000}; };  // cut off at the timeout
    const auto expected = quick.starts(schedule, 0, 200);
    CHECK(slow.starts(schedule, 0, 200) == expected);
    CHECK(timing_out.starts(schedule, 0, 200) == expected);
}

TEST_CASE("schedule: a timer that fires late does not push later rounds back", "[health][schedule]") {
    const ProbeSchedule schedule(interval_ms, timeout_ms, 13, 0);
    Run punctual, late;
    late.late_ms = 300;  // every timer, every time
    const auto on_time = punctual.starts(schedule, 0, 300);
    const auto behind = late.starts(schedule, 0, 300);
    // Each probe is as late as its timer and no later: lateness does not add up.
    for (size_t i = 0; i < on_time.size(); ++i) CHECK(behind[i] == on_time[i] + 300);
}

TEST_CASE("schedule: a probe that outlasts its interval is not overlapped, and is not made up for in a burst",
          "[health][schedule]") {
    // The loop is held up: the third probe reports 3.5 intervals after it
    // started, long past its deadline.
    Run held_up;
    held_up.ignore_deadline = true;
    held_up.duration_ms = [](uint64_t round) { return round == 3 ? 3 * interval_ms + interval_ms / 2 : uint64_t{20}; };
    const auto starts = held_up.starts(ProbeSchedule(interval_ms, timeout_ms, 17, 0), 0, 20);
    const auto between = gaps(starts);
    // The fourth probe starts as soon as the third is over...
    CHECK(between[2] == 3 * interval_ms + interval_ms / 2);
    // ...and the rounds missed meanwhile are skipped: every later gap is a whole one.
    for (size_t i = 3; i < between.size(); ++i) {
        CHECK(between[i] >= interval_ms - interval_ms / 10);
        CHECK(between[i] <= interval_ms);
    }
}

TEST_CASE("schedule: the timer's setting", "[health][schedule]") {
    ProbeSchedule schedule(interval_ms, timeout_ms, 23, 1000);
    const uint64_t due = schedule.due_ms();
    CHECK(schedule.wait_ms(1000) == due - 1000);
    CHECK(schedule.wait_ms(due) == 0);
    CHECK(schedule.wait_ms(due + 5000) == 0);  // past: at once
    schedule.start(due + 5);
    CHECK(schedule.in_flight());
    CHECK(schedule.rounds() == 1);
    CHECK(schedule.wait_ms(due + 5) == timeout_ms);  // the deadline
    schedule.finish();
    CHECK_FALSE(schedule.in_flight());
    CHECK(schedule.wait_ms(due + 5) == schedule.due_ms() - due - 5);
}
