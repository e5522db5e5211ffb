#pragma once
// The server's protection on the open internet (SPEC §10), built from the
// config at start-up: the cookie secrets and the RRL table every worker
// shares, and the control loop's once-a-second look at which networks RRL
// limits, for the log and /metrics.
#include <uv.h>

#include <memory>
#include <vector>

#include "dnsd/config/config.hpp"
#include "dnsd/guard/cookie.hpp"
#include "dnsd/guard/rrl.hpp"
#include "dnsd/net/responder.hpp"

namespace dnsd::control {

struct Protection {
    // Throws std::runtime_error when a random secret or seed cannot be drawn.
    explicit Protection(const config::Config& config);

    net::Protection for_workers() { return {&cookies, rrl.get()}; }

    guard::CookieSecrets cookies;
    std::unique_ptr<guard::Rrl> rrl;  // null: RRL not configured
};

// Sweeps the RRL registry once a second on the control loop and logs the
// networks that started or stopped being limited: a few lines a second at
// most, then how many more, so that a flood from many networks cannot flood
// the log too.
class RrlLog {
public:
    RrlLog(uv_loop_t* loop, guard::Rrl& rrl);
    RrlLog(const RrlLog&) = delete;
    RrlLog& operator=(const RrlLog&) = delete;
    // Stops the timer; the object must live until the loop has run its close.
    void close();

    // Lines logged per sweep for each of started and stopped.
    static constexpr size_t lines_per_sweep = 5;

private:
    static void on_tick(uv_timer_t* timer);

    guard::Rrl& rrl_;
    uv_timer_t timer_;
    std::vector<guard::LimitChange> changes_;
};

}  // namespace dnsd::control
