#include "dnsd/control/server.hpp"

#include <uv.h>

#include <csignal>
#include <memory>
#include <stdexcept>
#include <vector>

#include "dnsd/answer/view.hpp"
#include "dnsd/core/log.hpp"
#include "dnsd/core/published.hpp"
#include "dnsd/net/sockets.hpp"
#include "dnsd/net/worker.hpp"
#include "dnsd/zone/load.hpp"

namespace dnsd::control {

namespace {

using Workers = std::vector<std::unique_ptr<net::Worker>>;

// threads 0: one worker per CPU this process may run on (its affinity mask).
unsigned worker_count(const config::Config& config) {
    return config.threads != 0 ? config.threads : uv_available_parallelism();
}

std::shared_ptr<const answer::View> make_view(const config::Config& config,
                                              std::shared_ptr<const zone::Snapshot> snapshot) {
    auto view = std::make_shared<answer::View>();
    view->snapshot = std::move(snapshot);
    view->health = std::make_shared<health::HealthView>();
    view->options.udp_payload = config.udp_payload;
    view->options.nsid = config.nsid;
    view->options.ecs = config.ecs;
    return view;
}

// The main thread's loop. It owns the signal handlers: SIGTERM or SIGINT asks
// every worker to stop and closes the loop's handles, so that run() returns.
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

    // Returns once a signal came and every worker was asked to stop.
    void run() {
        uv_run(&loop_, UV_RUN_DEFAULT);
        uv_loop_close(&loop_);
    }

private:
    static void on_signal(uv_signal_t* signal, int number) {
        auto& self = *static_cast<MainLoop*>(signal->data);
        spdlog::info("stopping on {}", number == SIGTERM ? "SIGTERM" : "SIGINT");
        for (auto& worker : self.workers_) worker->stop();
        uv_close(reinterpret_cast<uv_handle_t*>(&self.term_), nullptr);
        uv_close(reinterpret_cast<uv_handle_t*>(&self.interrupt_), nullptr);
    }

    Workers& workers_;
    uv_loop_t loop_;
    uv_signal_t term_;
    uv_signal_t interrupt_;
};

}  // namespace

int serve(const Flags& flags) {
    core::setup_logging(spdlog::level::info);
    core::Diagnostics diagnostics;
    const std::optional<config::Config> config = settle(flags, diagnostics);
    if (!config) {
        for (const auto& diagnostic : diagnostics) spdlog::error("{}", diagnostic.to_string());
        return 1;
    }
    // Both the config loader and the command line accept only known levels.
    spdlog::set_level(core::parse_log_level(config->log_level).value_or(spdlog::level::info));

    zone::DirectoryLoad zones = zone::load_directory(config->zones_dir, *config);
    if (!zones.diagnostics.empty()) {
        for (const auto& diagnostic : zones.diagnostics) spdlog::error("{}", diagnostic.to_string());
        return 1;
    }
    if (zones.files == 0) spdlog::warn("no zone files in {}: every query will be refused", config->zones_dir);
    const core::Published<answer::View> published(make_view(*config, zones.snapshot));

    // A client that goes away mid-answer must cost a write error, not the process.
    std::signal(SIGPIPE, SIG_IGN);

    const unsigned count = worker_count(*config);
    const net::TcpSettings tcp{config->tcp_idle_timeout_ms, config->tcp_max_connections};
    alignas(64) std::atomic<uint32_t> tcp_open_connections{0};
    Workers workers;
    try {
        auto sockets = net::bind_listeners(config->listen, count);
        for (const auto& listen : sockets.front()) {
            spdlog::info("listening on udp {}", listen.endpoint.to_string());
            spdlog::info("listening on tcp {}", listen.endpoint.to_string());
        }
        for (auto& worker_sockets : sockets)
            workers.push_back(std::make_unique<net::Worker>(published, std::move(worker_sockets), tcp,
                                                            tcp_open_connections));
    } catch (const std::runtime_error& e) {
        spdlog::error("{}", e.what());
        return 1;
    }
    MainLoop main_loop(workers);
    for (auto& worker : workers) worker->start();
    spdlog::info("ready: {} zone{}, {} worker{}", zones.snapshot->zones.size(),
                 zones.snapshot->zones.size() == 1 ? "" : "s", count, count == 1 ? "" : "s");

    main_loop.run();
    for (auto& worker : workers) worker->join();
    spdlog::info("stopped");
    return 0;
}

}  // namespace dnsd::control
