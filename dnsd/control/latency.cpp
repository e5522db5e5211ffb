#include "dnsd/control/latency.hpp"

#include "dnsd/core/log.hpp"
#include "dnsd/fleet/latency_records.hpp"

namespace dnsd::control {
namespace {

// At most one compile a second, however many beacons arrive.
constexpr uint64_t compile_interval_ms = 1000;

bool has_beacons(std::span<const latency::Cell> cells) {
    return std::any_of(cells.begin(), cells.end(), [](const latency::Cell& c) { return c.samples > 0; });
}

}  // namespace

struct LatencyFeed::Sharing {
    fleet::Fleet& fleet;
    const std::string node;
    latency::Measurements own;  // this node's beacons: what it publishes and keeps in state_dir
    std::map<std::string, latency::Measurements> others;  // the other nodes' aggregates, by node
    std::unordered_set<latency::NetworkKey> unpublished;  // networks whose own aggregates the fleet lacks
};

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

LatencyFeed::~LatencyFeed() = default;

void LatencyFeed::add(std::span<const latency::Beacon> beacons, uint32_t now_s) {
    for (const auto& beacon : beacons) {
        if (!sharing_) {
            measurements_.add(beacon, now_s);
            continue;
        }
        const latency::NetworkKey network = latency::network_of(beacon.client);
        sharing_->own.add(beacon, now_s);
        sharing_->unpublished.insert(network);
        merge(network);
    }
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

void LatencyFeed::join(fleet::Fleet& fleet, std::string node) {
    // Until now the measurements were this node's beacons (and the table).
    sharing_ = std::make_unique<Sharing>(Sharing{fleet, std::move(node), measurements_, {}, {}});
    fleet.on_latency([this](const std::vector<fleet::Entry>& entries, bool snapshot) { on_fleet(entries, snapshot); });
}

void LatencyFeed::on_fleet(const std::vector<fleet::Entry>& entries, bool snapshot) {
    Sharing& sharing = *sharing_;
    const auto regions = region_names();
    std::unordered_set<latency::NetworkKey> touched;
    if (snapshot) {
        // The fleet's copy replaces what this node had heard.
        for (const auto& [node, measurements] : sharing.others)
            for (size_t row = 0; row < measurements.size(); ++row) touched.insert(measurements.network(row));
        sharing.others.clear();
    }
    std::unordered_set<latency::NetworkKey> own_in_fleet;
    size_t unused = 0;
    std::string first_problem;
    for (const fleet::Entry& entry : entries) {
        if (!entry.key.starts_with(fleet::latency_prefix)) continue;
        if (entry.deleted) {
            const auto key = fleet::parse_latency_key(entry.key);
            if (!key) continue;
            if (key->node == sharing.node) {
                if (const int64_t row = sharing.own.find(key->network); row >= 0 && has_beacons(sharing.own.cells(size_t(row))))
                    sharing.unpublished.insert(key->network);
            } else if (auto other = sharing.others.find(key->node); other != sharing.others.end()) {
                for (size_t r = 0; r < regions.size(); ++r)
                    other->second.set_beacons(key->network, static_cast<int32_t>(r), latency::Cell{});
                touched.insert(key->network);
            }
            continue;
        }
        core::Diagnostics problems;
        auto record = fleet::decode_latency(entry.key, entry.value, regions,
                                            std::string(fleet::bucket_name(fleet::Bucket::latency)) + ":" + entry.key,
                                            problems);
        if (!record) {
            if (unused++ == 0 && !problems.empty()) first_problem = problems.front().to_string();
            continue;
        }
        latency::Measurements* into = nullptr;
        if (record->node != sharing.node) {
            into = &sharing.others.try_emplace(record->node, regions.size(), measurements_.half_life_s()).first->second;
        } else if (snapshot) {
            // This node's own records: what it published before, counted once,
            // from its own aggregates. A node's sample counts only grow, so
            // the copy with more is the later: the fleet's is taken where the
            // state directory missed beacons (lost, or not saved before a
            // crash), this node's is sent again where NATS missed them.
            own_in_fleet.insert(record->network);
            const int64_t row = sharing.own.find(record->network);
            const auto own = row < 0 ? std::span<const latency::Cell>() : sharing.own.cells(size_t(row));
            bool fleet_later = true, same = true;
            for (size_t r = 0; r < regions.size(); ++r) {
                const uint32_t kept = own.empty() ? 0 : own[r].samples;
                fleet_later = fleet_later && record->cells[r].samples >= kept;
                same = same && record->cells[r].samples == kept;
            }
            if (same) continue;
            if (fleet_later) {
                into = &sharing.own;
                unsaved_ = true;
            } else {
                sharing.unpublished.insert(record->network);
            }
        }
        if (into == nullptr) continue;
        for (size_t r = 0; r < regions.size(); ++r)
            into->set_beacons(record->network, static_cast<int32_t>(r), record->cells[r]);
        touched.insert(record->network);
    }
    if (snapshot)
        for (size_t row = 0; row < sharing.own.size(); ++row)
            if (has_beacons(sharing.own.cells(row)) && !own_in_fleet.contains(sharing.own.network(row)))
                sharing.unpublished.insert(sharing.own.network(row));
    if (unused > 0)
        spdlog::warn("fleet: {} latency record{} not used: {}", unused, unused == 1 ? "" : "s",
                     first_problem.empty() ? "?" : first_problem);
    for (const latency::NetworkKey network : touched) merge(network);
    if (!touched.empty() || !sharing.unpublished.empty()) schedule();
}

void LatencyFeed::merge(latency::NetworkKey network) {
    const Sharing& sharing = *sharing_;
    std::vector<std::span<const latency::Cell>> parts;
    if (const int64_t row = sharing.own.find(network); row >= 0) parts.push_back(sharing.own.cells(size_t(row)));
    for (const auto& [node, measurements] : sharing.others)
        if (const int64_t row = measurements.find(network); row >= 0) parts.push_back(measurements.cells(size_t(row)));
    const bool known = measurements_.find(network) >= 0;
    for (size_t r = 0; r < measurements_.regions(); ++r) {
        latency::Cell sum;
        for (const auto cells : parts) sum = latency::merge(sum, cells[r], measurements_.half_life_s());
        if (known || sum.samples > 0) measurements_.set_beacons(network, static_cast<int32_t>(r), sum);
    }
}

void LatencyFeed::publish() {
    Sharing& sharing = *sharing_;
    if (sharing.unpublished.empty()) return;
    const auto regions = region_names();
    std::vector<std::pair<std::string, std::string>> records;
    records.reserve(sharing.unpublished.size());
    for (const latency::NetworkKey network : sharing.unpublished)
        records.emplace_back(fleet::latency_key(sharing.node, network),
                             fleet::encode_latency(sharing.own.cells(size_t(sharing.own.find(network))), regions));
    sharing.unpublished.clear();
    sharing.fleet.share_latency(std::move(records));
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
    if (sharing_) publish();
    if (std::exchange(unsaved_, false)) save();
}

void LatencyFeed::save() {
    // This node's own beacons: the other nodes' are NATS's to keep.
    std::string error;
    if (!store_.save_latency(sharing_ ? sharing_->own : measurements_, region_names(), error))
        spdlog::warn("state: {}; the latency measurements hold until dnsd stops", error);
}

void LatencyFeed::close() {
    if (closed_) return;
    closed_ = true;
    if (unsaved_) save();
    uv_close(reinterpret_cast<uv_handle_t*>(&timer_), nullptr);
}

}  // namespace dnsd::control
