#include "dnsd/control/protection.hpp"

#include <spdlog/spdlog.h>
#include <sys/random.h>

#include <ctime>
#include <stdexcept>

namespace dnsd::control {

namespace {

constexpr uint64_t sweep_interval_ms = 1000;

uint64_t random_seed() {
    uint64_t seed = 0;
    if (::getrandom(&seed, sizeof seed, 0) != static_cast<ssize_t>(sizeof seed))
        throw std::runtime_error("cannot draw a random seed for rate limiting");
    return seed;
}

// The clock the workers count in (responder.cpp): seconds since the epoch.
uint32_t now_s() { return static_cast<uint32_t>(std::time(nullptr)); }

}  // namespace

Protection::Protection(const config::Config& config)
    : cookies(config.cookie_secret ? guard::CookieSecrets{*config.cookie_secret, config.cookie_secret_previous}
                                   : guard::CookieSecrets::random()) {
    if (config.rrl) rrl = std::make_unique<guard::Rrl>(*config.rrl, random_seed());
}

RrlLog::RrlLog(uv_loop_t* loop, guard::Rrl& rrl) : rrl_(rrl) {
    uv_timer_init(loop, &timer_);
    timer_.data = this;
    uv_timer_start(&timer_, on_tick, sweep_interval_ms, sweep_interval_ms);
}

void RrlLog::close() {
    if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&timer_)))
        uv_close(reinterpret_cast<uv_handle_t*>(&timer_), nullptr);
}

void RrlLog::on_tick(uv_timer_t* timer) {
    RrlLog& self = *static_cast<RrlLog*>(timer->data);
    self.changes_.clear();
    self.rrl_.sweep(now_s(), self.changes_);
    size_t started = 0, stopped = 0;
    for (const guard::LimitChange& change : self.changes_) {
        size_t& lines = change.started ? started : stopped;
        if (++lines > lines_per_sweep) continue;
        spdlog::info("rrl: {}/{} {} being limited", change.network.to_string(), change.prefix,
                     change.started ? "started" : "stopped");
    }
    for (auto [count, what] : {std::pair{started, "started"}, std::pair{stopped, "stopped"}})
        if (count > lines_per_sweep)
            spdlog::info("rrl: {} more networks {} being limited", count - lines_per_sweep, what);
}

}  // namespace dnsd::control
