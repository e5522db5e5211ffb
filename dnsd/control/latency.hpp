#pragma once
// Latency routing on the control loop (SPEC §12): the measurements (beacons
// from POST /v1/latency, the table file from the Reloader, the aggregates kept
// in the state directory), compiled into latency::Routes and published through
// State at most once a second, so that a burst of beacons costs one compile.
// The workers only ever read the published routes.
#include <uv.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "dnsd/control/state.hpp"
#include "dnsd/control/state_store.hpp"
#include "dnsd/latency/measurements.hpp"
#include "dnsd/latency/routes.hpp"

namespace dnsd::control {

// The measurements a server with `config` starts from: the aggregates kept by
// `store`, then the table file. A kept file that cannot be used is a warning
// (in `warnings`); a table file with a problem is an error (in `errors`,
// FILE:LINE:COL each). Located with `geo`'s database.
latency::Measurements load_measurements(const config::Config& config, const geo::Geo& geo, const StateStore& store,
                                        std::vector<std::string>& warnings, core::Diagnostics& errors);

class LatencyFeed {
public:
    // Publishes the routes of `measurements` at once.
    LatencyFeed(uv_loop_t* loop, State& state, const StateStore& store, latency::Measurements measurements);
    LatencyFeed(const LatencyFeed&) = delete;
    LatencyFeed& operator=(const LatencyFeed&) = delete;

    // Beacons at Unix time `now_s`; the routes follow within a second.
    void add(std::span<const latency::Beacon> beacons, uint32_t now_s);
    // A table file read again: its rows replace the previous table's.
    void set_table(std::vector<latency::TableRow> rows);
    // A new GeoIP database: every network is located again.
    void geo_changed();

    const latency::Measurements& measurements() const { return measurements_; }
    std::vector<std::string_view> region_names() const { return state_.config().region_names(); }

    // Closes the timer (MainLoop::on_stop), saving what is not saved yet.
    void close();

private:
    void schedule();
    static void on_timer(uv_timer_t* timer);
    void compile();

    uv_loop_t* loop_;
    State& state_;
    const StateStore& store_;
    latency::Measurements measurements_;
    uv_timer_t timer_;
    uint64_t compiled_at_ms_ = 0;
    bool relocate_ = false;   // a new GeoIP database since the last compile
    bool unsaved_ = false;    // beacons since the last save
    bool closed_ = false;
};

}  // namespace dnsd::control
