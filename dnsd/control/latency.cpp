#include "dnsd/control/latency.hpp"

#include "dnsd/core/log.hpp"

namespace dnsd::control {
namespace {

// At most one compile a second, however many beacons arrive.
constexpr uint64_t compile_interval_ms = 1000;

}  // namespace

latency::Measurements load_measurements(const config::Config& config, const geo::Geo& geo, const StateStore& store,
                                        std::vector<std::string>& warnings, core::Diagnostics& errors) {
    const auto regions = config.region_names();
    latency::Measurements measurements(regions.size(), config.latency.half_life_s);
    std::string warning;
    store.load_latency(measurements, regions, warning);
    if (!warning.empty()) warnings.push_back(warning);
    if (!config.latency.table.empty())
        measurements.set_table(latency::load_table(config.latency.table, regions, errors));
    measurements.locate(geo.database(), false);
    return measurements;
}

LatencyFeed::LatencyFeed(uv_loop_t* loop, State& state, const StateStore& store, latency::Measurements measurements)
    : loop_(loop), state_(state), store_(store), measurements_(std::move(measurements)) {
    uv_timer_init(loop_, &timer_);
    timer_.data = this;
    compile();
}

void LatencyFeed::add(std::span<const latency::Beacon> beacons, uint32_t now_s) {
    for (const auto& beacon : beacons) measurements_.add(beacon, now_s);
    unsaved_ = unsaved_ || !beacons.empty();
    schedule();
}

void LatencyFeed::set_table(std::vector<latency::TableRow> rows) {
    measurements_.set_table(rows);
    schedule();
}

void LatencyFeed::geo_changed() {
    relocate_ = true;
    schedule();
}

void LatencyFeed::schedule() {
    if (closed_ || uv_is_active(reinterpret_cast<uv_handle_t*>(&timer_))) return;
    const uint64_t due_ms = compiled_at_ms_ + compile_interval_ms;
    const uint64_t now_ms = uv_now(loop_);
    uv_timer_start(&timer_, on_timer, due_ms > now_ms ? due_ms - now_ms : 0, 0);
}

void LatencyFeed::on_timer(uv_timer_t* timer) { static_cast<LatencyFeed*>(timer->data)->compile(); }

void LatencyFeed::compile() {
    compiled_at_ms_ = uv_now(loop_);
    // The server always has a Geo, with or without a database.
    const geo::Geo& geo = *state_.geo();
    measurements_.locate(geo.database(), std::exchange(relocate_, false));
    auto routes = latency::Routes::build(measurements_, geo.regions(), state_.config().latency.min_samples);
    const auto& stats = routes->stats();
    spdlog::debug("latency: {} networks routed by RTT ({} left to region subnets), {} orders, {} bytes, {:.1f} ms",
                  stats.networks, stats.inside_subnets, stats.results, stats.memory_bytes, stats.build_ms);
    state_.set_latency(std::move(routes));
    if (!std::exchange(unsaved_, false)) return;
    std::string error;
    if (!store_.save_latency(measurements_, region_names(), error))
        spdlog::warn("state: {}; the latency measurements hold until dnsd stops", error);
}

void LatencyFeed::close() {
    if (closed_) return;
    closed_ = true;
    if (unsaved_) compile();
    uv_close(reinterpret_cast<uv_handle_t*>(&timer_), nullptr);
}

}  // namespace dnsd::control
