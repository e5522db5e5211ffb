#pragma once
// Latency routing on the control loop (SPEC §12): the measurements (beacons
// from POST /v1/latency, the table file from the Reloader, the aggregates kept
// in the state directory), compiled into latency::Routes and published through
// State at most once a second, so that a burst of beacons costs one compile.
// The workers only ever read the published routes.
//
// In a fleet (SPEC §13) the measurements routed by are every node's: this
// node's own beacons' aggregates, kept in the state directory and published
// per network that changed (at most once a second, with the compile), merged
// with the other nodes' aggregates as NATS delivers them. Each node writes
// only its own keys, so beacons posted to several nodes at once never
// conflict, and merging aggregates (latency::merge) gives what one node that
// saw every beacon would hold; a node's own records coming back are not
// counted again. The other nodes' aggregates are not kept on disk: NATS keeps
// them, and a node (re)starting reads them all again; cut off from NATS it
// keeps those it has.
#include <uv.h>

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <unordered_set>
#include <vector>

#include "dnsd/control/state.hpp"
#include "dnsd/control/state_store.hpp"
#include "dnsd/fleet/fleet.hpp"
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
    ~LatencyFeed();

    // Beacons at Unix time `now_s`; the routes follow within a second.
    void add(std::span<const latency::Beacon> beacons, uint32_t now_s);
    // A table file read again: its rows replace the previous table's.
    void set_table(std::vector<latency::TableRow> rows);
    // A new GeoIP database: every network is located again.
    void geo_changed();
    // Shares the measurements through `fleet`, whose node is `node`, from now on.
    void join(fleet::Fleet& fleet, std::string node);

    // What the routes are built from: in a fleet, every node's measurements.
    const latency::Measurements& measurements() const { return measurements_; }
    std::vector<std::string_view> region_names() const { return state_.config().region_names(); }

    // Closes the timer (MainLoop::on_stop), saving what is not saved yet.
    void close();

private:
    void schedule();
    static void on_timer(uv_timer_t* timer);
    void compile();
    void save();
    struct Sharing;
    void on_fleet(const std::vector<fleet::Entry>& entries, bool snapshot);
    void merge(latency::NetworkKey network);
    void publish();

    uv_loop_t* loop_;
    State& state_;
    const StateStore& store_;
    latency::Measurements measurements_;
    std::unique_ptr<Sharing> sharing_;  // none: a node alone, whose measurements_ are its beacons'
    uv_timer_t timer_;
    uint64_t compiled_at_ms_ = 0;
    bool relocate_ = false;   // a new GeoIP database since the last compile
    bool unsaved_ = false;    // beacons since the last save
    bool closed_ = false;
};

}  // namespace dnsd::control
