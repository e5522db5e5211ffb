#include "dnsd/control/server.hpp"

#include <uv.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <functional>
#include <memory>
#include <stdexcept>
#include <vector>

#include "dnsd/control/api.hpp"
#include "dnsd/control/http.hpp"
#include "dnsd/control/protection.hpp"
#include "dnsd/control/registrations.hpp"
#include "dnsd/control/reload.hpp"
#include "dnsd/control/retired.hpp"
#include "dnsd/control/state.hpp"
#include "dnsd/control/latency.hpp"
#include "dnsd/control/state_store.hpp"
#include "dnsd/control/zone_files.hpp"
#include "dnsd/core/background.hpp"
#include "dnsd/core/log.hpp"
#include "dnsd/core/uv_handle.hpp"
#include "dnsd/fleet/fleet.hpp"
#include "dnsd/fleet/zone_cache.hpp"
#include "dnsd/discovery/discovery.hpp"
#include "dnsd/health/monitor.hpp"
#include "dnsd/net/sockets.hpp"
#include "dnsd/net/worker.hpp"

namespace dnsd::control {

namespace {

using Workers = std::vector<std::unique_ptr<net::Worker>>;

// threads 0: one worker per CPU this process may run on (its affinity mask).
unsigned worker_count(const config::Config& config) {
    return config.threads != 0 ? config.threads : uv_available_parallelism();
}

// The main thread's loop: signals, and whatever else the control plane runs
// (probes, reload, HTTP). SIGTERM or SIGINT asks every worker to stop and runs
// every component's stop action, so that run() returns once their handles close.
class MainLoop {
public:
    explicit MainLoop(Workers& workers) : workers_(workers) {
        uv_loop_init(&loop_);
        for (auto* signal : {&term_, &interrupt_}) {
            uv_signal_init(&loop_, signal);
            signal->data = this;
        }
        uv_signal_start(&term_, on_signal, SIGTERM);
        uv_signal_start(&interrupt_, on_signal, SIGINT);
    }
    MainLoop(const MainLoop&) = delete;
    MainLoop& operator=(const MainLoop&) = delete;
    // After the workers are joined: only now may a repeated signal act as
    // the default (end the process), so the handlers go last.
    ~MainLoop() {
        uv_close(reinterpret_cast<uv_handle_t*>(&term_), nullptr);
        uv_close(reinterpret_cast<uv_handle_t*>(&interrupt_), nullptr);
        uv_run(&loop_, UV_RUN_NOWAIT);
        uv_loop_close(&loop_);
    }

    uv_loop_t* uv() { return &loop_; }

    // `stop` must close every handle its component opened on this loop.
    void on_stop(std::function<void()> stop) { stops_.push_back(std::move(stop)); }

    // Returns once a signal came, every worker was asked to stop and every
    // component closed its handles.
    void run() { uv_run(&loop_, UV_RUN_DEFAULT); }

private:
    static void on_signal(uv_signal_t* signal, int number) {
        auto& self = *static_cast<MainLoop*>(signal->data);
        const char* name = number == SIGTERM ? "SIGTERM" : "SIGINT";
        // A signal often comes twice (to the process and to its group, as
        // timeout(1) and shells send it): the shutdown under way goes on.
        if (self.stopping_) {
            spdlog::info("{} while stopping: already stopping", name);
            return;
        }
        self.stopping_ = true;
        spdlog::info("stopping on {}", name);
        for (auto& worker : self.workers_) worker->stop();
        for (auto& stop : self.stops_) stop();
        // Still caught, but no longer keeping the loop alive.
        uv_unref(reinterpret_cast<uv_handle_t*>(&self.term_));
        uv_unref(reinterpret_cast<uv_handle_t*>(&self.interrupt_));
    }

    Workers& workers_;
    std::vector<std::function<void()>> stops_;
    bool stopping_ = false;
    uv_loop_t loop_;
    uv_signal_t term_;
    uv_signal_t interrupt_;
};

// Once a second: ends the leases that ran out, and writes the registrations
// file when a member came or went since it was last written. Renewals alone
// are written at most every renewals_ms: rewriting thousands of entries for
// each second's renewals would cost more than they are worth, and a restart
// that finds a lease's end up to that much too early loses only a member
// whose instance registers again at its next renewal. close() writes what
// is left.
class RegistrationUpkeep {
public:
    RegistrationUpkeep(uv_loop_t* loop, Registrations& registrations, const StateStore& store)
        : loop_(loop),
          registrations_(registrations),
          store_(store),
          saved_(registrations.version()),
          saved_members_(registrations.members_version()),
          saved_at_ms_(uv_now(loop)),
          timer_(this, [loop](uv_timer_t* timer) { return uv_timer_init(loop, timer); }) {
        if (timer_) uv_timer_start(timer_.get(), on_tick, tick_ms, tick_ms);
    }

    void close() {
        if (!timer_) return;
        timer_.close();
        save();
    }

private:
    static constexpr uint64_t tick_ms = 1000;
    static constexpr uint64_t renewals_ms = 10'000;

    static void on_tick(uv_timer_t* timer) {
        RegistrationUpkeep* self = Timer::owner_of(timer);
        if (self == nullptr) return;
        self->registrations_.expire();
        const bool members = self->registrations_.members_version() != self->saved_members_;
        if (members || uv_now(self->loop_) - self->saved_at_ms_ >= renewals_ms) self->save();
    }

    void save() {
        if (registrations_.version() == saved_) return;
        std::string error;
        if (!store_.save_registrations(registrations_.list(), error))
            spdlog::warn("state: {}; registrations hold until dnsd stops", error);
        saved_ = registrations_.version();
        saved_members_ = registrations_.members_version();
        saved_at_ms_ = uv_now(loop_);
    }

    using Timer = core::UvHandle<uv_timer_t, RegistrationUpkeep>;
    uv_loop_t* loop_;
    Registrations& registrations_;
    const StateStore& store_;
    uint64_t saved_;
    uint64_t saved_members_;
    uint64_t saved_at_ms_;
    Timer timer_;
};

// What this node serves, as its fleet heartbeat tells the others.
fleet::Heartbeat fleet_report(const State& state) {
    fleet::Heartbeat report;
    for (const auto& zone : state.snapshot()->zones) report.zones[zone->name] = zone->serial;
    for (const auto& file : state.zone_status())
        for (const auto& error : file.errors) report.zone_errors.push_back(error);
    return report;
}

}  // namespace

int serve(const Flags& flags) {
    core::setup_logging(spdlog::level::info);
    core::Diagnostics diagnostics;
    std::optional<config::Config> config = settle(flags, diagnostics);
    if (!config) {
        for (const auto& diagnostic : diagnostics) spdlog::error("{}", diagnostic.to_string());
        return 1;
    }
    // Both the config loader and the command line accept only known levels.
    spdlog::set_level(core::parse_log_level(config->log_level).value_or(spdlog::level::info));

    // A fleet sharing its zones serves the last set it received, kept in the
    // state directory, wherever the config's zones directory is.
    std::filesystem::path zone_cache;
    if (config->fleet && config->fleet->zones == config::Fleet::Zones::shared) {
        std::string error;
        if (!fleet::prepare_zone_cache(config->state_dir, zone_cache, error)) {
            spdlog::error("{}", error);
            return 1;
        }
        config->zones_dir = zone_cache.string();
    }
    // Start-up is strict: a problem in any zone file is fatal. Later reloads
    // keep the previous version of a zone whose file is invalid.
    Rescan zones = ZoneFiles{}.rescan(config->zones_dir, *config, std::chrono::system_clock::now());
    if (!zones.found.empty()) {
        for (const auto& diagnostic : zones.found) spdlog::error("{}", diagnostic.to_string());
        return 1;
    }
    if (zones.files.files().empty())
        spdlog::warn("no zone files in {}: every query will be refused", config->zones_dir);
    std::string geo_error;
    std::shared_ptr<const geo::Geo> geo = load_geo(*config, geo_error);
    if (!geo) {
        spdlog::error("{}", geo_error);
        return 1;
    }
    State state(*config, zones.files.snapshot(), std::move(geo));

    // A client that goes away mid-answer must cost a write error, not the process.
    std::signal(SIGPIPE, SIG_IGN);

    const unsigned count = worker_count(*config);
    const net::TcpSettings tcp{config->tcp_idle_timeout_ms, config->tcp_max_connections,
                               config->tcp_max_connections_per_client};
    net::TcpShared tcp_shared;
    std::unique_ptr<Protection> protection;
    Workers workers;
    try {
        protection = std::make_unique<Protection>(*config);
        auto sockets = net::bind_listeners(config->listen, count);
        for (const auto& listen : sockets.front()) {
            spdlog::info("listening on udp {}", listen.endpoint.to_string());
            spdlog::info("listening on tcp {}", listen.endpoint.to_string());
        }
        for (auto& worker_sockets : sockets)
            workers.push_back(std::make_unique<net::Worker>(
                state.published(), static_cast<uint32_t>(config->regions.size()), std::move(worker_sockets), tcp,
                tcp_shared, protection->for_workers()));
    } catch (const std::runtime_error& e) {
        spdlog::error("{}", e.what());
        return 1;
    }
    MainLoop main_loop(workers);
    std::unique_ptr<RrlLog> rrl_log;
    if (protection->rrl) {
        rrl_log = std::make_unique<RrlLog>(main_loop.uv(), *protection->rrl);
        main_loop.on_stop([&rrl_log] { rrl_log->close(); });
    }
    // The HTTP endpoint binds before anything else runs on the loop, so that a
    // taken port stops start-up cleanly; its first request comes once the loop
    // runs, when `api` is there.
    std::unique_ptr<Api> api;
    std::unique_ptr<http::Server> http_server;
    if (config->http) {
        try {
            http_server = std::make_unique<http::Server>(
                main_loop.uv(), *config->http,
                [&api](http::Request& request, http::Respond respond) { api->handle(request, std::move(respond)); });
        } catch (const std::runtime_error& e) {
            spdlog::error("{}", e.what());
            return 1;
        }
        spdlog::info("listening on http {}", http_server->endpoint().to_string());
        main_loop.on_stop([&http_server] { http_server->close(); });
    }
    Retired retired(main_loop.uv());
    main_loop.on_stop([&retired] { retired.stop(); });
    state.set_retirer([&retired](std::shared_ptr<const void> value) { retired.retire(std::move(value)); });
    Reloader reloader(main_loop.uv(), state, std::move(zones.files), retired);
    main_loop.on_stop([&reloader] { reloader.stop(); });
    // What was kept from before a restart goes into the Monitor's first
    // HealthView, published below before any worker starts: the first query
    // already sees it.
    const StateStore store(config->state_dir);
    std::string warning;
    if (!store.prepare(warning)) spdlog::warn("{}", warning);
    warning.clear();
    std::vector<health::Override> restored = store.load_overrides(warning);
    if (!warning.empty()) spdlog::warn("{}", warning);
    if (!restored.empty())
        spdlog::info("state: {} override{} restored from {}", restored.size(), restored.size() == 1 ? "" : "s",
                     store.overrides_path().string());
    std::vector<std::string> latency_warnings;
    core::Diagnostics table_problems;
    latency::Measurements measurements =
        load_measurements(*config, *state.geo(), store, latency_warnings, table_problems);
    for (const auto& line : latency_warnings) spdlog::warn("{}", line);
    if (!table_problems.empty()) {
        for (const auto& problem : table_problems) spdlog::error("{}", problem.to_string());
        return 1;
    }
    if (measurements.size() > 0)
        spdlog::info("latency: {} network{} measured", measurements.size(), measurements.size() == 1 ? "" : "s");
    LatencyFeed latency_feed(main_loop.uv(), state, store, std::move(measurements));
    reloader.set_latency(&latency_feed);
    main_loop.on_stop([&latency_feed] { latency_feed.close(); });
    // Registrations whose lease still runs join their pools before the first
    // health update, so that they start up like every member there at start-up.
    Registrations registrations(state);
    warning.clear();
    std::vector<Registration> kept = store.load_registrations(warning);
    if (!warning.empty()) spdlog::warn("{}", warning);
    if (!kept.empty()) {
        std::vector<std::string> skipped;
        registrations.restore(std::move(kept), skipped);
        spdlog::info("state: {} registration{} restored from {}", registrations.size(),
                     registrations.size() == 1 ? "" : "s", store.registrations_path().string());
        for (const auto& what : skipped) spdlog::warn("state: registrations dropped: {}", what);
    }
    RegistrationUpkeep upkeep(main_loop.uv(), registrations, store);
    main_loop.on_stop([&upkeep] { upkeep.close(); });
    std::vector<std::string> region_names;
    for (const auto& region : config->regions) region_names.push_back(region.name);
    health::Monitor monitor(
        main_loop.uv(), std::move(region_names),
        [&state](std::shared_ptr<const health::HealthView> health) { state.set_health(std::move(health)); },
        std::move(restored));
    monitor.update(*state.snapshot());
    // Members from DNS: looked up once the loop runs, then as their TTLs say;
    // each set that changes becomes its source's runtime members. They come
    // after the Monitor's first update, so in a pool with a check they wait
    // for their first probe (SPEC §11).
    discovery::Discovery discovery(
        main_loop.uv(), [&state, &config](const std::string& zone, const std::string& pool, const std::string& source,
                                          std::vector<zone::Member> found) {
            std::vector<RuntimeMember> members;
            members.reserve(found.size());
            for (const zone::Member& m : found)
                members.push_back({m.address, m.region >= 0 ? config->regions[static_cast<size_t>(m.region)].name : "",
                                   m.weight, m.priority, m.state, m.port});
            const RuntimeResult result = state.set_runtime_members(zone, pool, source, std::move(members));
            // A pool a reload removed gets its sources' empty sets, which it no longer needs.
            if (result != RuntimeResult::changed && result != RuntimeResult::unchanged && !found.empty())
                spdlog::warn("discovery: {}/{} {}: {}", zone, pool, source, to_string(result));
        });
    discovery.update(*state.snapshot());
    main_loop.on_stop([&discovery] { discovery.close(); });
    state.set_health_updater([&monitor, &discovery](const zone::Snapshot& snapshot) {
        monitor.update(snapshot);
        discovery.update(snapshot);
    });
    state.set_published_listener([&workers] {
        for (auto& worker : workers) worker->view_published();
    });
    state.set_snapshot_preparer([&workers, &retired](const std::shared_ptr<const zone::Snapshot>& snapshot) {
        for (auto& worker : workers) retired.retire(worker->pool_counters().prepare(snapshot));
    });
    main_loop.on_stop([&monitor] { monitor.close(); });
    std::unique_ptr<fleet::Fleet> fleet;
    if (config->fleet) {
        fleet::Hooks hooks{
            monitor,
            [&store](const std::vector<health::Override>& overrides) {
                std::string error;
                if (!store.save_overrides(overrides, error)) spdlog::warn("state: {}", error);
            },
            [&state] { return fleet_report(state); },
            [&reloader] { reloader.request(nullptr); },
            {[&registrations] { return registrations.list(); },
             [&registrations](std::vector<Registration> held, std::vector<Registration> deleted) {
                 registrations.adopt(std::move(held), deleted);
             }},
        };
        fleet = std::make_unique<fleet::Fleet>(main_loop.uv(), *config->fleet, zone_cache, std::move(hooks));
        latency_feed.join(*fleet, config->fleet->node);
        main_loop.on_stop([&fleet] { fleet->close(); });
    }
    api = std::make_unique<Api>(
        ApiSources{state, workers, monitor, reloader, store, registrations, fleet.get(), &latency_feed, &discovery});
    for (auto& worker : workers) worker->start();
    // The control loop (reload publishing, probes, the API, the fleet) gives
    // way to the workers from here on; threads it starts later inherit that.
    core::run_in_background();
    spdlog::info("ready: {} zone{}, {} worker{}", state.snapshot()->zones.size(),
                 state.snapshot()->zones.size() == 1 ? "" : "s", count, count == 1 ? "" : "s");

    main_loop.run();
    for (auto& worker : workers) worker->join();
    spdlog::info("stopped");
    return 0;
}

}  // namespace dnsd::control
