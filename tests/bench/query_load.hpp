#pragma once
// A bounded query load for the benchmarks that run the real binary
// (tests/bench/*_bench.cpp): clients that each send one query at a time at a
// fixed rate and record every answer's latency, and the summary of those.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/bench/machine_stalls.hpp"
#include "tests/e2e/harness.hpp"

namespace dnsd::bench {

using namespace dnsd::e2e;

// One answered query: when it was sent and how long its answer took.
struct Wait {
    std::chrono::steady_clock::time_point sent;
    uint32_t us;
};

// Query latencies, summed up per interval by the main thread.
struct Latencies {
    std::mutex mutex;
    std::vector<Wait> waits;  // since the last take()
    uint64_t lost = 0, failed = 0;

    void add(Wait wait, bool answered, bool ok) {
        std::lock_guard lock(mutex);
        if (!answered) ++lost;
        else if (!ok) ++failed;
        else waits.push_back(wait);
    }
    std::vector<Wait> take() {
        std::lock_guard lock(mutex);
        return std::exchange(waits, {});
    }
};

// The name the client asks for its query number `i`, with `random` drawn for it.
using PickName = std::function<std::string(uint64_t i, uint32_t random)>;

// Sends one query of type A at a time, `qps` a second, until `stop` (or 30
// minutes): the name `pick` gives. An answer counts as ok when it is NOERROR
// with addresses; none within a second is lost.
inline void query_loop(uint16_t port, unsigned qps, const PickName& pick, unsigned seed,
                       const std::atomic<bool>& stop, Latencies& latencies) {
    UdpClient socket("127.0.0.1", port);
    uint32_t state = seed * 2654435761u + 1;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(30);
    const auto period = std::chrono::nanoseconds(1'000'000'000 / qps);
    auto next = std::chrono::steady_clock::now();
    for (uint64_t i = 0; i < 100'000'000 && !stop && std::chrono::steady_clock::now() < deadline; ++i) {
        next += period;
        std::this_thread::sleep_until(next);
        state = state * 1664525u + 1013904223u;
        const std::string name = pick(i, state);
        const auto id = static_cast<uint16_t>(i);
        const auto sent = std::chrono::steady_clock::now();
        socket.send(make_query(id, name, rrtype::A));
        std::optional<Response> response;
        while (auto bytes = socket.receive(std::chrono::seconds(1))) {
            response = parse_response(*bytes);
            if (response && response->header.id == id) break;
            response.reset();
        }
        const auto us =
            std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - sent).count();
        latencies.add({sent, static_cast<uint32_t>(us)}, response.has_value(),
                      response && response->header.rcode() == rcode::noerror && !response->answer_addresses.empty());
    }
}

struct Summary {
    size_t queries = 0;
    uint32_t max_us = 0, p999_us = 0, p99_us = 0, median_us = 0;
    size_t over_10ms = 0;
    // The same less the time a CPU of the machine stood still during each
    // wait (MachineStalls): what the server and the load made it wait.
    uint32_t own_max_us = 0;
    size_t own_over_10ms = 0;
    uint32_t worst_stall_us = 0;  // the most a CPU stood still during one wait
};

inline Summary summarise(const std::vector<Wait>& waits, const MachineStalls::Stalls& stalls = {}) {
    Summary s;
    s.queries = waits.size();
    if (waits.empty()) return s;
    std::vector<uint32_t> us, own_us;
    for (const Wait& w : waits) {
        const auto stalled = std::chrono::duration_cast<std::chrono::microseconds>(
            MachineStalls::overlap(stalls, w.sent, w.sent + std::chrono::microseconds(w.us)));
        us.push_back(w.us);
        own_us.push_back(w.us - static_cast<uint32_t>(std::min<int64_t>(stalled.count(), w.us)));
        s.worst_stall_us = std::max(s.worst_stall_us, static_cast<uint32_t>(stalled.count()));
    }
    std::sort(us.begin(), us.end());
    auto at = [&](double q) { return us[std::min(us.size() - 1, static_cast<size_t>(q * static_cast<double>(us.size())))]; };
    s.max_us = us.back();
    s.p999_us = at(0.999);
    s.p99_us = at(0.99);
    s.median_us = at(0.5);
    s.over_10ms = static_cast<size_t>(us.end() - std::upper_bound(us.begin(), us.end(), 10'000u));
    s.own_max_us = *std::max_element(own_us.begin(), own_us.end());
    s.own_over_10ms = static_cast<size_t>(std::count_if(own_us.begin(), own_us.end(), [](uint32_t u) { return u > 10'000; }));
    return s;
}

}  // namespace dnsd::bench
