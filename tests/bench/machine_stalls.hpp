#pragma once
// When the machine itself stood still, for the benchmarks that judge query
// waits. A virtual machine's CPUs can be stopped by its host: on a 2-CPU VM
// with a CPU quota, a busy guest sees each of its CPUs stop for up to ~12 ms,
// every 100 ms or so. A thread that the stopped CPU was running, or had queued,
// waits for it whatever it is, the server and the load generator alike.
//
// One real-time thread per CPU, pinned to it, sleeps 1 ms at a time and notes
// each wake-up more than 1 ms late. A real-time thread preempts every ordinary
// thread, so on its own CPU only the kernel or the host can make it late.
// Which CPU a query's threads were on is not known: a wait is charged with the
// longest time any one CPU stood still during it.
// Real-time priority needs root (or CAP_SYS_NICE); without it nothing is
// measured and waits are taken whole.
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace dnsd::bench {

class MachineStalls {
public:
    using Clock = std::chrono::steady_clock;
    struct Interval {
        Clock::time_point from, to;
    };

    MachineStalls() {
        const unsigned cpus = std::max(1u, std::thread::hardware_concurrency());
        late_.resize(cpus);
        ready_ = cpus;
        for (unsigned cpu = 0; cpu < cpus; ++cpu) watchers_.emplace_back([this, cpu] { watch(cpu); });
        std::unique_lock lock(mutex_);
        started_.wait(lock, [this] { return ready_ == 0; });
    }
    ~MachineStalls() {
        stop_ = true;
        for (auto& watcher : watchers_) watcher.join();
    }
    MachineStalls(const MachineStalls&) = delete;
    MachineStalls& operator=(const MachineStalls&) = delete;

    // Whether every watcher runs at real-time priority, on its own CPU.
    bool measured() const { return measured_; }

    // The times each CPU stood still, in order; none when not measured.
    using Stalls = std::vector<std::vector<Interval>>;
    Stalls stalls() const {
        if (!measured_) return {};
        std::lock_guard lock(mutex_);
        return late_;
    }

    // The longest time one CPU stood still within [from, to).
    static Clock::duration overlap(const Stalls& stalls, Clock::time_point from, Clock::time_point to) {
        Clock::duration most{};
        for (const auto& cpu : stalls) {
            Clock::duration sum{};
            auto it = std::lower_bound(cpu.begin(), cpu.end(), from,
                                       [](const Interval& s, Clock::time_point t) { return s.to <= t; });
            for (; it != cpu.end() && it->from < to; ++it) sum += std::min(it->to, to) - std::max(it->from, from);
            most = std::max(most, sum);
        }
        return most;
    }

private:
    void watch(unsigned cpu) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        const sched_param priority{.sched_priority = 1};
        const bool real_time = ::pthread_setaffinity_np(::pthread_self(), sizeof set, &set) == 0 &&
                               ::pthread_setschedparam(::pthread_self(), SCHED_FIFO, &priority) == 0;
        {
            std::lock_guard lock(mutex_);
            measured_ = measured_ && real_time;
            if (--ready_ == 0) started_.notify_all();
        }
        if (!real_time) return;
        // Bounded: the benchmarks run for minutes, not hours.
        const auto deadline = Clock::now() + std::chrono::hours(2);
        for (auto due = Clock::now(); !stop_ && due < deadline;) {
            due += std::chrono::milliseconds(1);
            std::this_thread::sleep_until(due);
            const auto woke = Clock::now();
            if (woke - due > std::chrono::milliseconds(1)) {
                std::lock_guard lock(mutex_);
                late_[cpu].push_back({due, woke});
            }
            due = std::max(due, woke);
        }
    }

    mutable std::mutex mutex_;
    std::condition_variable started_;
    unsigned ready_ = 0;
    bool measured_ = true;
    std::vector<std::vector<Interval>> late_;  // per CPU, in order
    std::atomic<bool> stop_{false};
    std::vector<std::thread> watchers_;
};

}  // namespace dnsd::bench
